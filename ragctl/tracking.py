"""One MLflow run per stage: tags, flattened config, git commit, and FAILED with the error on exceptions."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ragctl import __version__
from ragctl.config.model import RagctlConfig
from ragctl.errors import ServiceError

STAGE_TAG = "ragctl.stage"
_LOCAL_SCHEMES = ("sqlite:", "file:")


def is_local(uri: str) -> bool:
    return uri.startswith(_LOCAL_SCHEMES) or "://" not in uri


def resolved_uri(uri: str) -> str:
    """A relative SQLite path made absolute: MLflow caches stores by URI, so a relative one would keep
    pointing at the first working directory's database after a chdir."""
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        return "sqlite:///" + str(Path(uri.removeprefix("sqlite:///")).resolve())
    return uri


def setup(config: RagctlConfig) -> str:
    """Point MLflow at the configured store and return the experiment id (created on first use)."""
    import mlflow

    for name in ("alembic", "mlflow", "mlflow.store.db.utils", "urllib3"):
        logging.getLogger(name).setLevel(logging.ERROR)
    uri = resolved_uri(config.tracking.uri)
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    if config.tracking.registry_uri:
        mlflow.set_registry_uri(config.tracking.registry_uri)
    if uri.startswith(("http://", "https://")):
        _reachable(uri)
    try:
        experiment = mlflow.get_experiment_by_name(config.project.experiment)
        if experiment is not None:
            return experiment.experiment_id
        location = Path(config.tracking.artifact_location).resolve().as_uri() if is_local(uri) else None
        return mlflow.create_experiment(config.project.experiment, artifact_location=location)
    except Exception as exc:
        if is_local(uri):
            raise
        raise ServiceError(f"MLflow tracking server {uri} failed: {exc}", "check tracking.uri and the server") from None


def _reachable(uri: str) -> None:
    """Fail in seconds, in one line, when the tracking server is down (MLflow's own client retries a
    refused connection with backoff for minutes)."""
    import httpx

    try:
        httpx.get(uri.rstrip("/") + "/health", timeout=10)
    except httpx.HTTPError as exc:
        raise ServiceError(
            f"MLflow tracking server {uri} is unreachable: {exc}", "check tracking.uri and that the server is up"
        ) from None


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested sections -> dotted keys. A mapping keyed by user text (file globs, metric names) stays one
    value, as JSON: its keys may hold characters MLflow refuses in a param name."""
    import json

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
def stage_run(config: RagctlConfig, stage: str, tags: dict[str, str] | None = None) -> Iterator[Any]:
    """Start the stage's run; on an exception tag the error and let MLflow mark the run FAILED."""
    import mlflow

    experiment_id = setup(config)
    run_tags = {
        STAGE_TAG: stage,
        "ragctl.version": __version__,
        "ragctl.project": config.project.name,
        "ragctl.host": socket.gethostname(),
        "ragctl.pid": str(os.getpid()),
    }
    commit = git_commit()
    if commit:
        run_tags["mlflow.source.git.commit"] = commit
    run_tags.update(tags or {})
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"{stage}-{stamp}", tags=run_tags) as run:
        params = {k: str(v)[:6000] for k, v in flatten(config.model_dump(mode="json")).items()}
        mlflow.log_params(params)
        mlflow.log_dict(config.model_dump(mode="json"), "config/ragctl.json")
        try:
            yield run
        except (KeyboardInterrupt, SystemExit) as exc:
            mlflow.set_tag("ragctl.error", f"interrupted ({type(exc).__name__})")
            mlflow.end_run("KILLED")
            raise
        except BaseException as exc:
            mlflow.set_tag("ragctl.error", f"{type(exc).__name__}: {exc}"[:5000])
            raise


def reap_stale_runs(config: RagctlConfig, stage: str, tags: dict[str, str]) -> list[str]:
    """Mark KILLED the RUNNING runs of a stage whose process is known to be gone (the caller holds the
    lock those runs held, so they cannot still be working). Returns their ids."""
    from mlflow.tracking import MlflowClient

    experiment_id = setup(config)
    query = f"tags.`{STAGE_TAG}` = '{stage}' and attributes.status = 'RUNNING'"
    query += "".join(f" and tags.`{k}` = '{v}'" for k, v in tags.items())
    client = MlflowClient()
    reaped = []
    for run in client.search_runs([experiment_id], query, max_results=100):
        host, pid = run.data.tags.get("ragctl.host", "?"), run.data.tags.get("ragctl.pid", "?")
        client.set_tag(run.info.run_id, "ragctl.error", f"killed: process {pid} on {host} ended mid-run")
        client.set_terminated(run.info.run_id, "KILLED")
        reaped.append(run.info.run_id)
    return reaped


def latest_run(config: RagctlConfig, stage: str, extra_filter: str = "") -> Any | None:
    """The newest FINISHED run of a stage in the configured experiment, or None."""
    from mlflow.tracking import MlflowClient

    experiment_id = setup(config)
    query = f"tags.`{STAGE_TAG}` = '{stage}' and attributes.status = 'FINISHED'"
    if extra_filter:
        query += f" and {extra_filter}"
    runs = MlflowClient().search_runs([experiment_id], query, order_by=["attributes.start_time DESC"], max_results=1)
    return runs[0] if runs else None


def logged_model_id(model_uri: str) -> str | None:
    """The MLflow 3 LoggedModel id behind a models:/ URI (direct, NAME/VERSION or NAME@ALIAS), else None."""
    from mlflow.tracking import MlflowClient

    def direct(uri: str) -> str | None:
        ref = uri.removeprefix("models:/")
        return ref if uri.startswith("models:/m-") and "/" not in ref else None

    if not model_uri.startswith("models:/") or direct(model_uri):
        return direct(model_uri)
    ref = model_uri.removeprefix("models:/")
    client = MlflowClient()
    if "@" in ref:
        version = client.get_model_version_by_alias(*ref.split("@", 1))
    else:
        name, _, number = ref.partition("/")
        version = client.get_model_version(name, number)
    # SQLite stores leave model_id empty; the version's source is then the models:/m-... URI.
    return version.model_id or direct(version.source or "")


def record_model_output(model_uri: str) -> None:
    """Record, on the active run, the LoggedModel it acted on (register, promote) as the run's output model.

    MLflow's GenAI "Evaluation runs" page lists every run of the experiment that has no output model; this
    is the factual link that keeps register and promote runs off that page (ingest produces no model, so
    its runs stay listed: see README "MLflow's views")."""
    import mlflow
    from mlflow.entities import LoggedModelOutput

    model_id = logged_model_id(model_uri)
    if model_id:
        mlflow.log_outputs([LoggedModelOutput(model_id=model_id, step=0)])


def run_link(config: RagctlConfig, run_id: str, experiment_id: str) -> str:
    """A URL to the run for a tracking server; for a local store, the command that opens its UI."""
    uri = config.tracking.uri
    if uri.startswith(("http://", "https://")):
        return f"{uri.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"
    return f"mlflow ui --backend-store-uri {uri}  (experiment {experiment_id}, run {run_id})"
