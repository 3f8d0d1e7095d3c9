"""The lifecycle commands. Each: options -> config -> one stage call -> render. No logic lives here."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from ragctl.cli.options import ConfigOpt, JsonOpt, ModelUriOpt, SetOpt, session

if TYPE_CHECKING:
    from ragctl.session import Session


def _footer(active: Session, run_id: str) -> None:
    from ragctl.cli import render

    render.run_footer(active.run_link(run_id))


def ingest(
    config: ConfigOpt = None,
    set_: SetOpt = None,
    json_: JsonOpt = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be added, changed, deleted; write nothing")
    ] = False,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Empty the collection and re-embed every file")] = False,
    max_failures: Annotated[
        Optional[int], typer.Option(help="Exit 3 when more files than this fail [default: never]", min=0)
    ] = None,
    wait: Annotated[
        float, typer.Option(help="Seconds to wait for another ingest into the collection to finish", min=0)
    ] = 0.0,
) -> None:
    """Read documents (PDF, text, Markdown, HTML, DOCX), chunk, embed and write them to the vector store."""
    from ragctl.cli import render
    from ragctl.errors import DataError
    from ragctl.stages import ingest as stage

    active = session(config, set_, json_)
    result = stage.run(active, dry_run=dry_run, rebuild=rebuild, wait=wait)
    if json_:
        render.emit_json(result)
    else:
        render.ingest_report(result)
        if result.run_id:
            _footer(active, result.run_id)
    failed = len(result.failed)
    if failed and failed == len([f for f in result.files if f.status != "deleted"]) and not dry_run:
        raise DataError("no file could be read", "see the reasons above")
    if max_failures is not None and failed > max_failures:
        raise DataError(f"{failed} files failed, more than --max-failures {max_failures}", "see the reasons above")


def assemble(config: ConfigOpt = None, set_: SetOpt = None, json_: JsonOpt = False) -> None:
    """Build the chain (retriever + prompt + LLM) and log it as an MLflow model from code."""
    from ragctl.cli import render
    from ragctl.stages import assemble as stage

    active = session(config, set_, json_)
    cfg = active.config
    result = stage.run(active)
    if json_:
        render.emit_json(result)
        return
    render.key_values(
        "Assembled chain",
        {
            "model URI": result.model_uri,
            "LLM": f"{cfg.llm.type} {cfg.llm.model}",
            "top_k": cfg.retrieval.top_k,
            "retrieval": stage.retrieval_summary(cfg.retrieval),
            "collection": result.collection,
            "ingest run": result.ingest_run_id or "none",
        },
    )
    _footer(active, result.run_id)


def evaluate(
    config: ConfigOpt = None,
    set_: SetOpt = None,
    json_: JsonOpt = False,
    model_uri: ModelUriOpt = None,
    limit: Annotated[Optional[int], typer.Option(help="Evaluate only the first N questions", min=1)] = None,
    baseline: Annotated[
        Optional[str],
        typer.Option(help="Compare per question with this alias, version number or models:/ URI (e.g. champion)"),
    ] = None,
    junit: Annotated[
        Optional[Path], typer.Option(help="Write JUnit XML: a testcase per threshold and comparison")
    ] = None,
    report: Annotated[Optional[Path], typer.Option(help="Write a self-contained HTML report")] = None,
    summary: Annotated[
        Optional[Path], typer.Option(help="Write a Markdown summary (e.g. $GITHUB_STEP_SUMMARY)")
    ] = None,
) -> None:
    """Score a chain on the QA set through MLflow GenAI evaluation; exit 1 when a gate fails.

    A gate fails on a metric below its threshold or, with --baseline, a significant regression against it."""
    from ragctl.cli import render
    from ragctl.errors import GateFailed
    from ragctl.stages import evaluate as stage

    active = session(config, set_, json_)
    outputs = stage.Outputs(junit=junit, report=report, summary=summary)
    result = stage.run(active, model_uri=model_uri, limit=limit, baseline_ref=baseline, outputs=outputs)
    if json_:
        from ragctl.evaluation.reports import as_dict

        render.emit_json(as_dict(result))
    else:
        render.evaluation_report(result)
        _footer(active, result.run_id)
    if not result.passed:
        failed = [g.metric for g in result.gates if not g.passed]
        failed += [f"{c.metric} regressed" for c in result.comparisons if c.regression]
        raise GateFailed(f"quality gate failed: {', '.join(failed)}")


def register(
    config: ConfigOpt = None,
    set_: SetOpt = None,
    json_: JsonOpt = False,
    model_uri: ModelUriOpt = None,
    allow_unevaluated: Annotated[
        bool,
        typer.Option(
            "--allow-unevaluated", help="Register even without a passing evaluation (recorded on the version)"
        ),
    ] = False,
) -> None:
    """Register the latest assembled chain (or --model-uri) with its lineage and passing evaluation as tags."""
    from ragctl.cli import render
    from ragctl.stages import register as stage

    active = session(config, set_, json_)
    result = stage.run(active, model_uri=model_uri, allow_unevaluated=allow_unevaluated)
    if json_:
        render.emit_json(result)
        return
    said = "Already registered (lineage brought up to date):" if result.reused else "Registered"
    render.key_values(f"{said} {result.model_name} version {result.version}", result.tags)
    render.out.print(result.description, highlight=False)
    _footer(active, result.run_id)


def promote(
    alias: Annotated[str, typer.Option("--alias", "-a", help="The alias to move")] = "champion",
    version: Annotated[
        Optional[str], typer.Option("--version", "-v", help="The version to promote, or 'latest'")
    ] = None,
    from_alias: Annotated[Optional[str], typer.Option("--from", help="Promote the version another alias holds")] = None,
    rollback: Annotated[
        bool, typer.Option("--rollback", help="Return the alias to its holder before the latest move")
    ] = False,
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why; recorded in MLflow")] = "",
    allow_unevaluated: Annotated[
        bool, typer.Option("--allow-unevaluated", help="Override the gate: the version's evaluation passed")
    ] = False,
    allow_collection_change: Annotated[
        bool,
        typer.Option("--allow-collection-change", help="Override the gate: evaluated on the collection as it is now"),
    ] = False,
    allow_regression: Annotated[
        bool, typer.Option("--allow-regression", help="Override the gate: not worse than the alias's current holder")
    ] = False,
    allow_unreviewed: Annotated[
        bool, typer.Option("--allow-unreviewed", help="Override the gate: experts reviewed and approved it")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Override every gate (recorded)")] = False,
    wait: Annotated[
        float, typer.Option(help="Seconds to wait for another alias move of the model to finish", min=0)
    ] = 0.0,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Point a registry alias (e.g. champion) at a version if it passes the gates, or --rollback."""
    from ragctl.cli import render
    from ragctl.errors import UsageError
    from ragctl.stages import promote as stage

    active = session(config, set_, json_)
    if rollback:
        if version or from_alias:
            raise UsageError("--rollback takes no --version or --from: it returns the alias to its previous holder")
        result = stage.rollback(active, alias, reason, wait)
    else:
        flags = {
            "evaluation": allow_unevaluated,
            "collection": allow_collection_change,
            "regression": allow_regression,
            "review": allow_unreviewed,
        }
        allow = tuple(gate for gate, on in flags.items() if on)
        result = stage.run(active, alias, version, from_alias, reason, force, allow, wait)
    if json_:
        render.emit_json(result)
        return
    render.promotion(result)
    if result.run_id:
        _footer(active, result.run_id)
