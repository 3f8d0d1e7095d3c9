"""Starting and running a project: `ragctl init`, `ragctl run`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ragctl.cli.options import ConfigOpt, JsonOpt, SetOpt, session


def init(
    directory: Annotated[Path, typer.Argument(help="The project folder (created if missing)")] = Path("."),
    docs: Annotated[str, typer.Option(help="The documents folder, relative to the project")] = "docs",
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing ragctl.yaml and qa.jsonl")] = False,
    json_: JsonOpt = False,
) -> None:
    """Write a commented ragctl.yaml for your documents, a QA-set template and .gitignore lines."""
    from ragctl.cli import render
    from ragctl.scaffold import init as scaffold

    result = scaffold(directory, docs, force)
    if json_:
        render.emit_json(result)
        return
    for path in result.written:
        render.out.print(f"wrote {path}", highlight=False, markup=False)
    for path in result.kept:
        render.out.print(f"kept {path} (exists)", highlight=False, markup=False)
    import shlex

    where = "" if directory == Path(".") else f"cd {shlex.quote(str(directory))} && "  # pasteable as it is
    render.out.print(
        f"Next: put your documents in {docs}/, then {where}ragctl ingest && ragctl assemble; "
        "write questions into qa.jsonl (or `ragctl dataset generate`) and run ragctl evaluate.",
        highlight=False,
        markup=False,
    )


def run(
    promote: Annotated[
        Optional[str], typer.Option("--promote", help="Then move this alias (e.g. champion) to the new version")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Run every stage, changed inputs or not")] = False,
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why, recorded with the promotion")] = "",
    config: ConfigOpt = None,
    set_: SetOpt = None,
    json_: JsonOpt = False,
) -> None:
    """ingest -> assemble -> evaluate -> register (-> promote), skipping stages whose inputs did not change."""
    from ragctl.cli import render
    from ragctl.stages import pipeline as stage

    active = session(config, set_, json_)

    def show(step: stage.Step) -> None:
        if not json_:
            mark = "[green]ran[/green]" if step.status == "ran" else "[dim]skipped[/dim]"
            render.err.print(f"{step.stage:<9} {mark}  {render.esc(step.why)}", highlight=False)

    result = stage.run(active, promote, force, reason, on_step=show)
    refused = stage.refusal(result)
    if json_:
        render.emit_json(result)
    else:
        rows = [[s.stage, s.status, s.why, s.run_id or ""] for s in result.steps]
        render.table("ragctl run", ["stage", "", "why", "run"], rows)
        if not refused:
            name = active.config.registry.model_name
            render.out.print(f"{name} version {result.version}: {result.model_uri}", highlight=False, markup=False)
    if refused:
        raise refused
