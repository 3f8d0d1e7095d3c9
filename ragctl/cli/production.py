"""`ragctl serve`, `feedback`, `monitor`: the champion in production, its users' verdicts, and what its
recent answers look like."""

from __future__ import annotations

import os
from typing import Annotated, Optional

import typer

from ragctl.cli.options import ConfigOpt, JsonOpt, SetOpt, session


def serve(
    alias: Annotated[str, typer.Option("--alias", "-a", help="The alias whose version to serve")] = "champion",
    host: Annotated[Optional[str], typer.Option(help="Listen here (default: serving.host)")] = None,
    port: Annotated[
        Optional[int], typer.Option(help="...on this port (default: serving.port)", min=1, max=65535)
    ] = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Serve the alias's version with `mlflow models serve`, every answer traced and tagged with its version."""
    from ragctl.cli import render
    from ragctl.stages import serve as stage

    active = session(config, set_, json_)
    if host is not None:
        active.config.serving.host = host
    if port is not None:
        active.config.serving.port = port
    plan = stage.plan(active, alias)
    said = {k: v for k, v in vars(plan).items() if k not in ("env", "argv")}
    if json_:
        render.emit_json(said)
    else:
        render.err.print(
            f"Serving {plan.model_name} v{plan.version} (@{plan.alias}) at {plan.url}; answers traced to "
            f"{plan.tracking_uri} (experiment {plan.experiment_id}), each with its trace_id for "
            "`ragctl feedback`. Ctrl-C stops.",
            highlight=False,
            markup=False,
        )
    os.execve(plan.argv[0], plan.argv, {**os.environ, **plan.env})  # the server is this process from here


def feedback(
    trace_id: Annotated[str, typer.Argument(help="The trace_id a served answer returned")],
    rating: Annotated[str, typer.Option("--rating", help="up or down")],
    comment: Annotated[Optional[str], typer.Option(help="What the user said")] = None,
    user: Annotated[str, typer.Option(help="Who rated (an id the application knows)")] = "end-user",
    config: ConfigOpt = None,
    set_: SetOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Record an end user's thumbs up or down on a served answer (a HUMAN feedback assessment on its trace)."""
    from ragctl.cli import render
    from ragctl.errors import UsageError
    from ragctl.records import reviews

    said, rating = rating, rating.strip().lower()  # an application may pass "Up" or "DOWN"
    if rating not in ("up", "down"):
        raise UsageError(f"--rating {said!r}: give up or down")
    active = session(config, set_, json_)
    logged = reviews.rate(active, trace_id, rating == "up", comment, user)
    result = {"trace_id": trace_id, "rating": rating, "user": user, "assessment_id": logged.assessment_id}
    if json_:
        render.emit_json(result)
        return
    render.out.print(f"thumbs {rating} from {user} on trace {trace_id}", highlight=False, markup=False)


def monitor(
    since: Annotated[str, typer.Option(help="How far back: 30m, 24h, 7d")] = "24h",
    worst: Annotated[int, typer.Option(help="Also queue this many answers with the weakest retrieval", min=0)] = 5,
    reviewer: Annotated[
        Optional[list[str]], typer.Option("--reviewer", "-r", help="Who reviews the production queue")
    ] = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Score the served answers of the window without gold; queue the thumbs-down and weakest for review."""
    from ragctl.cli import render
    from ragctl.stages import monitor as stage

    active = session(config, set_, json_)
    result = stage.run(active, since, worst, reviewer or [])
    if json_:
        render.emit_json(result)
        return
    if result.traces:
        render.key_values(f"Served answers in the last {result.since}: {result.traces}", result.metrics)
    else:  # zero is recorded (a scheduled monitor's quiet hour is a data point) but said, not tabled
        render.out.print(
            f"no served answers in the last {result.since} in experiment {active.config.project.experiment}: "
            "the answers of `ragctl serve` are traced there, at serving.trace_sampling",
            highlight=False,
            markup=False,
        )
    if result.queued:
        render.out.print(f"{len(result.queued)} sent to review queue '{result.queue}'", highlight=False, markup=False)
    render.run_footer(active.run_link(result.run_id))
