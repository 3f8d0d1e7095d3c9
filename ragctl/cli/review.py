"""`ragctl review ...`: a registered version's answers in front of domain experts, in MLflow's Review page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ragctl.cli.options import ConfigOpt, JsonOpt, SetOpt, session

app = typer.Typer(help="Expert review of a registered version's answers (MLflow review queues).", no_args_is_help=True)


@app.command()
def start(
    reviewer: Annotated[list[str], typer.Option("--reviewer", "-r", help="A reviewer's email (repeat for more)")],
    version: Annotated[Optional[str], typer.Option("--version", "-v", help="The version to review")] = None,
    alias: Annotated[Optional[str], typer.Option("--alias", "-a", help="...or the version an alias names")] = None,
    questions: Annotated[Optional[Path], typer.Option(help="A QA set (JSONL or CSV) to ask")] = None,
    from_eval: Annotated[Optional[str], typer.Option(help="Ask the questions of this evaluation run")] = None,
    sample: Annotated[Optional[int], typer.Option(help="Ask N questions drawn from evaluation.dataset")] = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    json_: JsonOpt = False,
) -> None:
    """The version answers the questions (traced); a review queue named for it holds them for the reviewers."""
    from ragctl.cli import render
    from ragctl.cli.render import reviews as shown
    from ragctl.errors import UsageError
    from ragctl.stages.review import start as stage

    if (version is None) == (alias is None):
        raise UsageError("say which version: one of --version N or --alias NAME")
    active = session(config, set_, json_)
    result = stage.run(active, version or str(alias), reviewer, questions, from_eval, sample)
    if json_:
        render.emit_json(result)
        return
    shown.started(result)
    if result.run_id:  # none when every question was queued before
        render.run_footer(active.run_link(result.run_id))


@app.command()
def status(
    queue: Annotated[
        Optional[str], typer.Argument(help="The queue's name (default: the newest ragctl started)")
    ] = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Done and to do per reviewer, agreement between reviewers, and of the automatic scorers with them."""
    from ragctl.cli import render
    from ragctl.cli.render import reviews as shown
    from ragctl.stages.review import status as stage

    active = session(config, set_, json_)
    result = stage.run(active, queue)
    if json_:
        render.emit_json(result)
        return
    shown.status(result)
    render.run_footer(active.run_link(result.run_id))
