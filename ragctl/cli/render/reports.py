"""What ingest, evaluate and dataset generate show at the end."""

from __future__ import annotations

from typing import Any

from ragctl.cli.render.console import esc, out, styled, table


def ingest_report(result: Any) -> None:
    """The files that need a look (failed or partial), then one line of totals."""
    if result.attention:
        rows = [[f.file, f.status, f.outcome, f.pages or "", f.chunks, f.reason] for f in result.attention]
        table("Files that need a look", ["file", "status", "outcome", "pages", "chunks", "reason"], rows)
    files, chunks = result.summary["files"], result.summary["chunks"]
    if result.up_to_date:
        last = f"; last changed by ingest run {result.last_run_id}" if result.last_run_id else ""
        out.print(
            f"[bold]'{esc(result.collection)}' is up to date[/bold]: {files['unchanged']} files unchanged, "
            f"{chunks['total']} chunks; nothing to do, no run recorded{last} ({result.seconds:.1f} s)",
            highlight=False,
        )
        return
    counts = ", ".join(f"{n} {status}" for status, n in files.items() if n) or "no files"
    verb = "would change" if result.dry_run else "ingested into"
    out.print(
        f"[bold]{verb} '{esc(result.collection)}'[/bold]: {counts}; "
        + (
            f"{result.chunks_total} chunks now"
            if result.dry_run
            else f"+{chunks['added']} -{chunks['deleted']} chunks, {chunks['total']} in the collection; "
            f"{result.summary['pages']} pages in {result.seconds:.1f} s "
            f"(search index {result.index_seconds:.1f} s, {result.index_files_read} files read)"
        ),
        highlight=False,
    )
    if result.dry_run:
        rows = [[f.file, f.status] for f in result.files if f.status != "unchanged"]
        if rows:
            table("Plan", ["file", "status"], rows)


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def evaluation_report(result: Any) -> None:
    """Metric, threshold, pass/fail and baseline delta with its interval; then invalid and unmeasured items."""
    compared = {c.metric: c for c in result.comparisons}
    bounds = {g.metric: g for g in result.gates}
    shown = list(bounds) + [m for m in compared if m not in bounds]
    rows = []
    for name in shown:
        gate, comparison = bounds.get(name), compared.get(name)
        value = gate.value if gate else comparison.candidate if comparison else result.metrics.get(name)
        verdict = (styled("pass", "green") if gate.passed else styled("FAIL", "red")) if gate else ""
        delta: Any = ""
        if comparison:
            delta = f"{comparison.delta:+.3f} [{comparison.low:+.3f}, {comparison.high:+.3f}]"
            delta = styled(delta + " regression", "red") if comparison.regression else delta
        rows.append([name, _num(value), gate.condition if gate else "", verdict, delta])
    columns = ["metric", "value", "threshold", "", "vs baseline (interval)" if result.baseline else ""]
    out.print(f"Evaluated {result.model_uri} on {result.questions} questions", highlight=False, markup=False)
    if result.baseline:
        reused = ", reused its logged results" if result.baseline.reused else ""
        out.print(
            f"Baseline {result.baseline.model_uri} (run {result.baseline.run_id}{reused})",
            highlight=False,
            markup=False,
        )
    table("Quality gate", columns, rows)
    if result.abstention:
        a = result.abstention
        out.print(
            f"Abstention: retrieval.min_score {a.min_score:.3f} would decline {a.declined:.0%} of the unanswerable "
            f"questions and answer {a.answered:.0%} of the answerable ones",
            highlight=False,
        )
    if result.invalid:
        table("Invalid items (not scored)", ["where", "reason"], [[i["where"], i["reason"]] for i in result.invalid])
    for metric, count in result.unmeasured.items():
        if count:
            out.print(f"[yellow]{esc(metric)}: {count} verdicts unmeasured[/yellow]")
    for kind, path in result.files.items():
        out.print(f"{kind}: {path}", highlight=False, markup=False)


def generation_report(result: Any) -> None:
    """A sample of the generated pairs, why the others were rejected, and where the set went."""
    rows = [
        [i["question"], i["answer"], f"{s['file']}" + (f" p{s['page']}" if "page" in s else "")]
        for i in result.items[:10]
        for s in i["sources"][:1]
    ]
    table(f"Generated questions (first {len(rows)} of {len(result.items)})", ["question", "answer", "source"], rows)
    if result.rejected:
        table("Rejected", ["reason", "count"], sorted(result.rejected.items(), key=lambda kv: -kv[1]))
    short = len(result.items) < result.requested
    colour = "yellow" if short else "bold"
    out.print(
        f"[{colour}]{len(result.items)} of {result.requested} questions[/{colour}] from {result.files} files "
        f"({result.attempts} chunks tried, {result.seconds:.1f} s) -> {esc(result.output)}"
        + (f" and MLflow dataset '{esc(result.mlflow_dataset)}'" if result.mlflow_dataset else ""),
        highlight=False,
    )
