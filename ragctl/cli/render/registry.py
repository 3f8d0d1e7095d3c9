"""What promote, history, models and lineage show."""

from __future__ import annotations

from typing import Any

from ragctl.cli.render.console import esc, out, styled, table


def promotion(result: Any) -> None:
    """The gates with their evidence, then the move."""
    if result.action == "unchanged":
        out.print(
            f"[bold]{esc(result.model_name)}@{esc(result.alias)}[/bold] already points at version "
            f"{result.version}: nothing moved",
            highlight=False,
        )
        return
    if result.checks:
        rows = [
            [c.gate, styled("pass", "green") if c.passed else styled("overridden", "yellow"), c.detail]
            for c in result.checks
        ]
        table("Gates", ["gate", "", "evidence"], rows)
    verb = "rolled back" if result.action == "rollback" else "moved"
    out.print(
        f"[bold]{esc(result.model_name)}@{esc(result.alias)}[/bold] {verb}: version {result.previous or 'none'} -> "
        f"[green]{result.version}[/green] (by {esc(result.who)})",
        highlight=False,
    )


def history(alias: str, moves: list[Any]) -> None:
    rows = [
        [
            _stacked(m.when),
            m.action,
            m.from_version or "none",
            m.to_version,
            m.who,
            m.reason,
            "\n".join(m.overrides),
            m.run_id,
        ]
        for m in moves
    ]
    table(f"Moves of @{alias} (newest first)", ["when", "action", "from", "to", "who", "why", "overrides", "run"], rows)


EVAL = {"true": "pass", "false": "fail", "unevaluated": "-"}


def versions(name: str, rows: list[Any], metrics: tuple[str, ...]) -> None:
    """One version a row, narrow enough for 80 columns: a line per alias, the date over the time, the
    collection's name over its digest's first 10 digits (`--json` has it whole), metric names broken after their
    first underscore."""
    body = [
        [
            r.version,
            "\n".join(r.aliases),
            EVAL.get(r.eval_passed, r.eval_passed),
            *[f"{r.metrics[m]:.3f}" if m in r.metrics else "" for m in metrics],
            f"{r.collection}\n{r.collection_digest[:10]}",
            _stacked(r.created),
        ]
        for r in rows
    ]
    headers = [m.replace("_", "_\n", 1) for m in metrics]
    table(f"Versions of {name}", ["version", "aliases", "eval", *headers, "collection", "created"], body)


def _stacked(when: str) -> str:
    """'2026-12-07 11:01:29 UTC' as the date over the minute: the seconds and the zone (always UTC) are in
    `--json`."""
    day, _, rest = when.partition(" ")
    return f"{day}\n{rest[:5]}" if rest else when


def lineage(found: Any) -> None:
    """version -> assemble run -> ingest run -> collection -> files; evaluations; promotions."""
    from rich.tree import Tree

    aliases = esc(f" @{', @'.join(found.aliases)}") if found.aliases else ""
    root = Tree(f"[bold]{esc(found.name)} v{found.version}[/bold]{aliases}  ({esc(found.model_id or found.model_uri)})")
    if found.assemble:
        a = found.assemble
        chain = root.add(f"assemble run {a['run_id']}  git {esc(a['git_commit'][:12])}")
        chain.add(esc(f"LLM {a['llm']}; embedding {a['embedding']}; top_k {a['top_k']}; prompt {a['prompt']}"))
        if found.ingest:
            i = found.ingest
            ingest = chain.add(f"ingest run {i['run_id']}")
            state = esc(f"collection '{i['collection']}' manifest {i['manifest_digest']}")
            if i["evaluated_on_digest"] and i["evaluated_on_digest"] != i["manifest_digest"]:
                state += f" [yellow](evaluated on {i['evaluated_on_digest']})[/yellow]"
            files = ingest.add(state)
            for f in found.files:
                files.add(esc(f"{f['file']}  sha256 {str(f['sha256'])[:12]}  {f.get('chunks') or 0} chunks"))
    else:
        root.add("[yellow]no assemble run recorded[/yellow]")
    evaluations = root.add("evaluations")
    for e in found.evaluations:
        scores = ", ".join(f"{k} {v:.3f}" for k, v in e["metrics"].items())
        verdict = "[green]passed[/green]" if e["passed"] == "true" else f"[red]{esc(e['passed'])}[/red]"
        evaluations.add(f"run {e['run_id']} {verdict} on {esc(e['dataset'])}: {scores}")
    if found.review:
        r = found.review
        behind = f"; behind promotion run {', '.join(r['behind_promotions'])}" if r["behind_promotions"] else ""
        root.add(
            esc(
                f"expert review: queue '{r['queue']}', {r['reviewed']} of {r['items']} reviewed, "
                f"{r['approved']} approved{behind}"
            )
        )
    promotions = root.add("promotions")
    for m in found.promotions:
        extra = f"; overrides {', '.join(m.overrides)}" if m.overrides else ""
        promotions.add(esc(f"{m.when} @{m.alias} {m.action} by {m.who}: {m.reason}{extra} (run {m.run_id})"))
    out.print(root, highlight=False)
