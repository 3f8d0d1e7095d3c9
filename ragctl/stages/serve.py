"""serve: the alias's version behind `mlflow models serve`, with every answer traced to the tracking store
(at `serving.trace_sampling`), tagged with the model and version that answered and linked to its LoggedModel,
and each prediction carrying its `trace_id` for `ragctl feedback`. The alias is resolved once: a later
promotion is served by the next `ragctl serve` (as with any MLflow model server)."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ragctl import tracing
from ragctl.errors import UsageError
from ragctl.records import models
from ragctl.secrets import redact
from ragctl.session import Session, resolved_uri


@dataclass
class Serving:
    model_name: str
    alias: str
    version: str
    url: str
    tracking_uri: str
    experiment_id: str
    argv: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict, repr=False)


def plan(session: Session, alias: str) -> Serving:
    """What to run: the resolved version, the command and the environment it needs."""
    config = session.config
    name = config.registry.model_name
    models.check_alias(alias)
    held = models.holder(session, name, alias)
    if held is None:
        raise UsageError(
            f"model {name!r} has no alias {alias!r}", f"promote a version first: ragctl promote --alias {alias}"
        )
    version = str(held.version)
    uri = f"models:/{name}/{version}"
    here = str(Path(sys.executable).parent)  # mlflow starts uvicorn by name: it must find this environment's
    mlflow_bin = shutil.which("mlflow", path=here) or shutil.which("mlflow") or "mlflow"
    host, port = config.serving.host, config.serving.port
    _check_free(host, port)
    _check_store(uri)
    argv = [mlflow_bin, "models", "serve", "-m", uri, "--env-manager", "local", "--host", host, "--port", str(port)]
    env = {
        "MLFLOW_TRACKING_URI": resolved_uri(config.tracking.uri),
        "MLFLOW_EXPERIMENT_ID": session.experiment_id,
        "MLFLOW_ENABLE_TRACE_IN_SERVING": "true",
        "MLFLOW_TRACE_SAMPLING_RATIO": str(config.serving.trace_sampling),
        # A trace written before its answer is returned: the caller may rate it (`ragctl feedback`) at once.
        "MLFLOW_ENABLE_ASYNC_TRACE_LOGGING": "false",
        tracing.SERVED_MODEL_ENV: name,
        tracing.SERVED_VERSION_ENV: version,
        "PATH": here + os.pathsep + os.environ.get("PATH", ""),
    }
    model_id = models.logged_model_id(session, uri)
    if model_id:
        env["MLFLOW_ACTIVE_MODEL_ID"] = model_id
    url = f"http://{f'[{host}]' if ':' in host else host}:{port}/invocations"  # an IPv6 literal in brackets
    shown = redact(env["MLFLOW_TRACKING_URI"])  # the env keeps the password; what is printed does not
    return Serving(name, alias, version, url, shown, session.experiment_id, argv, env)


def _check_store(uri: str) -> None:
    """A DataError now for an embedded store that is not where the version will look (served from another
    folder, a mistyped RAGCTL_CHROMA_PATH), instead of the server's start-up traceback."""
    from mlflow.exceptions import MlflowException

    from ragctl.components.vector_stores import check_embedded, with_overrides

    try:
        stored = models.chain_config(uri).get("vector_store")
    except MlflowException:  # no MLmodel to read: the server says what is wrong with the model
        return
    if not stored:
        return
    check_embedded(with_overrides(stored))


def _check_free(host: str, port: int) -> None:
    """A UsageError now for an address the server could not bind, instead of the traceback of the
    `mlflow models serve` it would have become. SO_REUSEADDR as uvicorn binds: only a listener is in the way."""
    import socket

    try:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:  # socket.gaierror for a host that does not resolve is one too
        raise UsageError(
            f"cannot serve on {host}:{port}: {exc.strerror or exc}",
            "stop what listens there, or pick another: --set serving.port=N (or serving.host)",
        ) from None
