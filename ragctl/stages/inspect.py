"""query and status: read-only views of the lifecycle (not MLflow runs of their own)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ragctl.records import models, runs
from ragctl.secrets import redact
from ragctl.session import Session

STAGES = ("ingest", "assemble", "evaluate", "register", "promote")


def query(session: Session, question: str, model_uri: str | None = None) -> dict[str, Any]:
    from ragctl.errors import UsageError

    if not question.strip():  # before MLflow and the chain load: it would answer nothing with a guess
        raise UsageError("the question is empty", 'e.g. ragctl query "When was the Duchy of Normandy founded?"')
    import mlflow

    from ragctl.env import patched

    _ = session.experiment_id
    uri = model_uri or f"models:/{session.config.registry.model_name}@champion"
    try:
        # MLflow's check of the model's requirements against this environment costs ~0.7 s of a query;
        # evaluate keeps it, where a mismatch matters and the time does not.
        model = mlflow.pyfunc.load_model(uri, suppress_warnings=True)
    except mlflow.exceptions.MlflowException as exc:
        hint = (
            "`ragctl models` lists the registered versions and their aliases"
            if model_uri
            else "promote a version to 'champion' or pass --model-uri"
        )
        raise UsageError(f"cannot load {uri}: {exc.message}", hint) from None
    # One answer, then the process ends: its trace is written as the answer completes, not queued to a
    # background writer that the exit then waits on (about a second).
    with patched({"MLFLOW_ENABLE_ASYNC_TRACE_LOGGING": "false"}):
        try:
            answer = model.predict([{"question": question}])[0]
        except mlflow.exceptions.MlflowException as exc:
            if exc.error_code != "INVALID_PARAMETER_VALUE":  # the chain's refusal of this question
                raise
            raise UsageError(exc.message) from None
    # The chain traced the question (ragctl/tracing.py) into the configured experiment.
    return {"model_uri": uri, "question": question, **answer, "trace_id": mlflow.get_last_active_trace_id()}


@dataclass
class Status:
    tracking_uri: str
    experiment: str
    model_name: str
    aliases: dict[str, str]
    collection: str
    chunks: int | None
    last_runs: dict[str, dict[str, Any] | None]
    collection_state: str = ""  # missing | being ingested | search index current | search index stale


def status(session: Session) -> Status:
    from ragctl.components.vector_stores import open_collection, refuse_while_ingesting
    from ragctl.errors import BusyError, DataError
    from ragctl.records.manifest import read
    from ragctl.retrieval.index import marker

    config = session.config
    aliases = models.aliases(session, config.registry.model_name)
    chunks: int | None = None
    try:
        refuse_while_ingesting(session.store)  # an embedded store mid-ingest is not opened, only reported
        client = session.chroma_reading()
        collection = open_collection(session.store, client=client)
        chunks = collection.count()
        current = marker.marked(collection)[0] == read(client, session.store).digest()
        state = "search index current" if current else "search index stale: the next ingest rebuilds it"
    except DataError:
        state = "missing"
    except BusyError:
        state = "being ingested"
    last = {}
    for stage in STAGES:
        found = runs.latest(session, stage)
        last[stage] = (
            {"run_id": found.info.run_id, "start_time": found.info.start_time, "run_name": found.info.run_name}
            if found
            else None
        )
    return Status(
        redact(config.tracking.uri),  # printed and --json'd: never its password
        config.project.experiment,
        config.registry.model_name,
        aliases,
        session.store.collection,
        chunks,
        last,
        state,
    )
