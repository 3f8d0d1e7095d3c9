"""Stage runs: one MLflow run per stage, with the common tags, the flattened config and the git commit,
marked FAILED (with the error) or KILLED; found again by stage and tags; reaped when their process died."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

from ragctl import __version__
from ragctl.records import filters
from ragctl.records import tags as t
from ragctl.session import Session


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested sections -> dotted keys. A mapping keyed by user text (file globs, metric names) stays one
    value, as JSON: its keys may hold characters MLflow refuses in a param name."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value and all(str(k).isidentifier() for k in value):
            out.update(flatten(value, name + "."))
        elif isinstance(value, dict) and value:
            out[name] = json.dumps(value, sort_keys=True)
        else:
            out[name] = value
    return out


def git_commit() -> str | None:
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None


@contextmanager
def stage_run(session: Session, stage: str, tags: dict[str, str] | None = None) -> Iterator[Any]:
    """Start the stage's run; on an exception tag the error and let MLflow mark the run FAILED."""
    import mlflow

    config = session.config
    reap(session, stage)
    run_tags = {
        t.STAGE: stage,
        t.VERSION: __version__,
        t.PROJECT: config.project.name,
        t.HOST: socket.gethostname(),
        t.PID: str(os.getpid()),
    }
    commit = git_commit()
    if commit:
        run_tags[t.GIT_COMMIT] = commit
    run_tags.update(tags or {})
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    with mlflow.start_run(experiment_id=session.experiment_id, run_name=f"{stage}-{stamp}", tags=run_tags) as run:
        recorded = config.recorded()
        mlflow.log_params({k: str(v)[:6000] for k, v in flatten(recorded).items()})
        mlflow.log_dict(recorded, "config/ragctl.json")
        try:
            yield run
        except (KeyboardInterrupt, SystemExit) as exc:
            mlflow.set_tag(t.ERROR, f"interrupted ({type(exc).__name__})")
            mlflow.end_run("KILLED")
            raise
        except BaseException as exc:
            mlflow.set_tag(t.ERROR, f"{type(exc).__name__}: {exc}"[:5000])
            raise


def reap(session: Session, stage: str, tags: dict[str, str] | None = None, held: bool = False) -> list[str]:
    """Mark KILLED the RUNNING runs of a stage (with these tags) whose process is gone, so a re-run leaves
    no run RUNNING forever; returns their ids. Without `held`, only runs of processes on this host known to
    be dead. With it, every such run: the caller holds the lock those runs held, so none can be working."""
    from ragctl.records.locks import alive_here

    client = session.mlflow
    reaped = []
    for run in client.search_runs([session.experiment_id], filters.runs(stage, "RUNNING", tags), max_results=100):
        host, pid = run.data.tags.get(t.HOST), run.data.tags.get(t.PID)
        if not held and alive_here({"host": host, "pid": pid}):
            continue
        client.set_tag(run.info.run_id, t.ERROR, f"killed: process {pid or '?'} on {host or '?'} ended mid-run")
        client.set_terminated(run.info.run_id, "KILLED")
        reaped.append(run.info.run_id)
    return reaped


def search(session: Session, stage: str, tags: dict[str, str] | None = None, limit: int = 100) -> list[Any]:
    """The FINISHED runs of a stage with these tags, newest first."""
    return list(
        session.mlflow.search_runs(
            [session.experiment_id],
            filters.runs(stage, "FINISHED", tags),
            order_by=["attributes.start_time DESC"],
            max_results=limit,
        )
    )


def latest(session: Session, stage: str, tags: dict[str, str] | None = None) -> Any | None:
    """The newest FINISHED run of a stage with these tags, or None."""
    found = search(session, stage, tags, limit=1)
    return found[0] if found else None


def get(session: Session, run_id: str | None) -> Any | None:
    """A run by id, or None when there is no id or the run is gone."""
    if not run_id or run_id == t.NONE:
        return None
    try:
        return session.mlflow.get_run(run_id)
    except Exception:  # deleted
        return None


def load_artifact(run: Any, path: str) -> Any | None:
    """A JSON artifact of a run, or None when it is not there."""
    import mlflow

    try:
        return mlflow.artifacts.load_dict(f"{run.info.artifact_uri}/{path}")
    except Exception:
        return None


def set_tag(session: Session, run_id: str, key: str, value: str) -> None:
    session.mlflow.set_tag(run_id, key, value)


def when(millis: int) -> str:
    """An MLflow timestamp as people read it."""
    return datetime.fromtimestamp(millis / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
