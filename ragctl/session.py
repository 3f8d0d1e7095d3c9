"""One session per command, as dvc's `Repo` is: the resolved config, the progress sink, MLflow set up once
(tracking URI, registry URI, the experiment), one Chroma client for the collection. Stages take a session
and read everything through it; nothing below the stages sets MLflow up again."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from ragctl.config.model import RagctlConfig, VectorStoreConfig
from ragctl.errors import ConfigError, ServiceError
from ragctl.progress import Reporter

_LOCAL_SCHEMES = ("sqlite:", "file:")


def is_local(uri: str) -> bool:
    return uri.startswith(_LOCAL_SCHEMES) or "://" not in uri


def resolved_uri(uri: str) -> str:
    """A relative SQLite path made absolute: MLflow caches stores by URI, so a relative one would keep
    pointing at the first working directory's database after a chdir."""
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        return "sqlite:///" + str(Path(uri.removeprefix("sqlite:///")).resolve())
    return uri


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


_DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306, "mssql": 1433}


def _database_reachable(uri: str) -> None:
    """The same for a database URI: MLflow retries creating its engine ten times with backoff (101 s of
    sleeping) before it says a refused connection. A connect to the database's port (or PostgreSQL's Unix
    socket) says it in one; a database ragctl knows no address of is left to MLflow."""
    import socket

    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(uri)
    except ArgumentError:
        return  # not a database URL: MLflow reports it
    asked = url.query.get("port")  # libpq reads host and port from the query too
    port = url.port or (int(asked) if isinstance(asked, str) and asked.isdigit() else None)
    port = port or _DEFAULT_PORTS.get(url.get_backend_name())
    folder = url.query.get("host") if url.get_backend_name() == "postgresql" else None
    try:
        if isinstance(folder, str) and folder.startswith("/"):  # libpq's Unix socket: ?host=/run/postgresql
            with socket.socket(socket.AF_UNIX) as unix:
                unix.settimeout(10)
                unix.connect(f"{folder}/.s.PGSQL.{port}")
        elif url.host and port is not None:
            socket.create_connection((url.host, port), timeout=10).close()
    except OSError as exc:
        raise ServiceError(
            f"MLflow tracking database {uri} is unreachable: {exc.strerror or exc}",
            "check tracking.uri and that the database is up",
        ) from None


@dataclass
class Session:
    config: RagctlConfig
    reporter: Reporter = field(default_factory=Reporter)

    @cached_property
    def experiment_id(self) -> str:
        """Point MLflow at the configured store and return the experiment id (created on first use)."""
        import mlflow

        for name in ("alembic", "mlflow", "mlflow.store.db.utils", "urllib3"):
            logging.getLogger(name).setLevel(logging.ERROR)
        config = self.config
        uri = resolved_uri(config.tracking.uri)
        if uri.startswith("sqlite:///"):
            Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        mlflow.set_tracking_uri(uri)
        if config.tracking.registry_uri:
            mlflow.set_registry_uri(config.tracking.registry_uri)
        if uri.startswith(("http://", "https://")):
            _reachable(uri)
        elif not is_local(uri) and not uri.startswith("databricks"):
            _database_reachable(uri)
        try:
            experiment = mlflow.get_experiment_by_name(config.project.experiment)
            if experiment is None:
                location = Path(config.tracking.artifact_location).resolve().as_uri() if is_local(uri) else None
                found = str(mlflow.create_experiment(config.project.experiment, artifact_location=location))
            elif experiment.lifecycle_stage == "deleted":
                raise ConfigError(
                    f"MLflow experiment '{config.project.experiment}' is deleted",
                    f"restore it (mlflow experiments restore --experiment-id {experiment.experiment_id}) "
                    "or choose another project.experiment",
                )
            else:
                found = str(experiment.experiment_id)
            # The active experiment too: MLflow refuses to resume a run of another experiment than the
            # active one, which an earlier mlflow.set_experiment in the same process may have set.
            mlflow.set_experiment(experiment_id=found)
            return found
        except ConfigError:
            raise
        except Exception as exc:
            if is_local(uri):
                raise
            what = "server" if uri.startswith(("http://", "https://")) else "store"
            raise ServiceError(
                f"MLflow tracking {what} {uri} failed: {exc}", "check tracking.uri and the server"
            ) from None

    @cached_property
    def mlflow(self) -> Any:
        """An MlflowClient on the configured tracking and registry stores."""
        from mlflow.tracking import MlflowClient

        _ = self.experiment_id
        return MlflowClient()

    @cached_property
    def store(self) -> VectorStoreConfig:
        """The collection this command works on: `vector_store` with the RAGCTL_CHROMA_* overrides."""
        from ragctl.components.vector_stores import with_overrides

        return with_overrides(self.config.vector_store)

    @cached_property
    def chroma(self) -> Any:
        """The one Chroma client for `store`."""
        from ragctl.components.vector_stores import chroma_client

        return chroma_client(self.store)

    def chroma_for(self, store: VectorStoreConfig) -> Any:
        """A client for another collection's store (a logged chain's), sharing this one when it is the same."""
        from ragctl.components.vector_stores import chroma_client

        same = store.model_dump(exclude={"collection"}) == self.store.model_dump(exclude={"collection"})
        return self.chroma if same else chroma_client(store)

    def chroma_reading(self, store: VectorStoreConfig | None = None) -> Any:
        """A client to read `store` (this session's by default) with: a DataError when an embedded one is
        not there, where Chroma's client would make an empty store. Only ingest makes stores."""
        from ragctl.components.vector_stores import check_embedded

        store = store or self.store
        check_embedded(store)
        return self.chroma_for(store)

    def run_link(self, run_id: str) -> str:
        """A URL to the run for a tracking server; for a local store, the command that opens its UI."""
        uri = self.config.tracking.uri
        if uri.startswith(("http://", "https://")):
            return f"{uri.rstrip('/')}/#/experiments/{self.experiment_id}/runs/{run_id}"
        return f"mlflow ui --backend-store-uri {uri}  (experiment {self.experiment_id}, run {run_id})"
