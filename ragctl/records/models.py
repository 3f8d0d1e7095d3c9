"""Model references and registry versions: one parser for every way a user or a tag names a chain.

Forms: `models:/m-<id>` (a LoggedModel), `models:/NAME/N`, `models:/NAME@ALIAS`, `runs:/RUN/PATH`, and, for
the configured model, a bare version number `N` or alias `ALIAS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ragctl.errors import UsageError
from ragctl.records import filters, runs
from ragctl.records import tags as t
from ragctl.session import Session


@dataclass(frozen=True)
class ModelRef:
    uri: str
    name: str | None = None
    version: str | None = None
    alias: str | None = None
    model_id: str | None = None  # a LoggedModel named directly

    @property
    def registered(self) -> bool:
        return self.name is not None


def parse(ref: str, default_name: str | None = None) -> ModelRef:
    """Any reference -> its parts. A bare number or word names a version or alias of `default_name`."""
    if ref.startswith("models:/"):
        body = ref.removeprefix("models:/")
        if body.startswith("m-") and "/" not in body and "@" not in body:
            return ModelRef(ref, model_id=body)
        if "@" in body:
            name, alias = body.split("@", 1)
            return ModelRef(ref, name=name, alias=alias)
        name, _, number = body.rpartition("/")
        return ModelRef(ref, name=name, version=number) if name else ModelRef(ref, name=body)
    if "://" in ref or ref.startswith("runs:/"):
        return ModelRef(ref)
    if default_name is None:
        raise UsageError(f"{ref!r} is not a model URI", "give models:/NAME@ALIAS, models:/NAME/N or models:/m-ID")
    if ref.isdigit():
        return ModelRef(f"models:/{default_name}/{ref}", name=default_name, version=ref)
    return ModelRef(f"models:/{default_name}@{ref}", name=default_name, alias=ref)


def check_alias(alias: str) -> None:
    """Refuse an alias the registry would refuse (after the gates ran), with MLflow's own rules."""
    from mlflow.exceptions import MlflowException
    from mlflow.utils.validation import _validate_model_alias_name, _validate_model_alias_name_reserved

    try:
        _validate_model_alias_name(alias)
        _validate_model_alias_name_reserved(alias)
    except MlflowException as exc:
        raise UsageError(f"--alias {alias!r}: {exc.message}", "e.g. champion, challenger, prod-eu") from None


def version(session: Session, ref: ModelRef) -> Any | None:
    """The registry version a reference names, or None (no such model, version or alias)."""
    from mlflow.exceptions import MlflowException

    if not ref.name or not (ref.version or ref.alias):
        return None
    try:
        if ref.alias:
            return session.mlflow.get_model_version_by_alias(ref.name, ref.alias)
        return session.mlflow.get_model_version(ref.name, ref.version)
    except (MlflowException, TypeError):
        return None


def logged_model_id(session: Session, uri: str) -> str | None:
    """The MLflow 3 LoggedModel id behind a models:/ URI (direct, NAME/VERSION or NAME@ALIAS), else None."""
    ref = parse(uri)
    if ref.model_id or not ref.registered:
        return ref.model_id
    found = version(session, ref)
    if found is None:
        return None
    # SQLite stores leave model_id empty; the version's source is then the models:/m-... URI.
    return found.model_id or parse(found.source or "none").model_id


def canonical(session: Session, uri: str) -> str:
    """`runs:/RUN/NAME` of a LoggedModel -> its `models:/m-ID`, the URI that assemble, evaluate and register
    record a chain by (so its evaluations and lineage are found whichever form a user gave); any other URI,
    or a runs:/ URI that names no LoggedModel, unchanged."""
    from mlflow.exceptions import MlflowException

    if not uri.startswith("runs:/"):
        return uri
    run_id, _, name = uri.removeprefix("runs:/").partition("/")
    try:
        run = session.mlflow.get_run(run_id)
        found = session.mlflow.search_logged_models(
            experiment_ids=[run.info.experiment_id], filter_string=f"source_run_id = '{run_id}' AND name = '{name}'"
        )
    except MlflowException:
        return uri  # check_exists says what is wrong with it
    return f"models:/{found[0].model_id}" if len(found) == 1 else uri


def check_exists(session: Session, uri: str) -> None:
    """A UsageError unless `uri` names a chain that exists: a LoggedModel, a registry version, or a model
    under a run (`runs:/RUN/NAME`, read the way MLflow resolves it when it registers)."""
    from mlflow.exceptions import MlflowException

    ref = parse(uri)
    if uri.startswith("runs:/"):
        _ = session.mlflow  # MLflow resolves a runs:/ URI in its configured store: point it at ours first
        try:
            chain_config(uri)
        except MlflowException as exc:
            raise UsageError(
                f"{uri}: {exc.message}", "give runs:/RUN_ID/NAME of a logged chain, or the models:/m-... URI"
            ) from None
    elif ref.model_id:
        try:
            session.mlflow.get_logged_model(ref.model_id)
        except MlflowException as exc:
            raise UsageError(f"{uri}: {exc.message}", "give the models:/m-... URI `ragctl assemble` printed") from None
    elif ref.registered and version(session, ref) is None:
        raise UsageError(f"{uri}: no such registered version", "see `ragctl models` for what is registered")


def chain_config(uri: str) -> dict[str, Any]:
    """The chain config a logged chain carries, read from its MLmodel file without loading the chain."""
    from mlflow.models import Model

    return dict(Model.load(uri).flavors["python_function"].get("config") or {})


def latest_assembled(session: Session) -> str:
    """The model URI of the newest chain this project assembled from its collection (another pipeline
    sharing the experiment assembles chains of its own)."""
    mine = {t.PROJECT: session.config.project.name, t.COLLECTION: session.store.collection}
    assembled = runs.latest(session, "assemble", mine)
    if assembled is None or t.MODEL_URI not in assembled.data.tags:
        raise UsageError(
            f"no chain assembled by project '{mine[t.PROJECT]}' from collection '{mine[t.COLLECTION]}' "
            "in this experiment",
            "run `ragctl assemble` or pass --model-uri",
        )
    return str(assembled.data.tags[t.MODEL_URI])


def versions(session: Session, name: str) -> list[Any]:
    """Every version of a registered model (none when the model does not exist)."""
    from mlflow.exceptions import MlflowException

    try:
        return list(session.mlflow.search_model_versions(filters.versions(name)))
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":  # Unity Catalog's answer for a model not made yet
            return []
        raise


def holder(session: Session, name: str, alias: str) -> Any | None:
    """The version an alias points at, or None."""
    return version(session, ModelRef(f"models:/{name}@{alias}", name=name, alias=alias))


def aliases(session: Session, name: str) -> dict[str, str]:
    """alias -> version number of a registered model ({} when it does not exist)."""
    from mlflow.exceptions import MlflowException

    try:
        return {a: str(v) for a, v in session.mlflow.get_registered_model(name).aliases.items()}
    except MlflowException:
        return {}


def registered_version_of(session: Session, name: str, model_uri: str) -> str | None:
    """The newest version of `name` registered from this logged chain, or None."""
    found = [v for v in versions(session, name) if v.tags.get(t.MODEL_URI) == model_uri]
    return str(max(int(v.version) for v in found)) if found else None


def record_output(session: Session, model_uri: str) -> None:
    """Record, on the active run, the LoggedModel it acted on (register, promote) as the run's output model.

    MLflow's GenAI "Evaluation runs" page lists every run of the experiment that has no output model; this
    is the factual link that keeps register and promote runs off that page (ingest produces no model, so
    its runs stay listed: see README "MLflow's views")."""
    import mlflow
    from mlflow.entities import LoggedModelOutput

    model_id = logged_model_id(session, model_uri)
    if model_id:
        mlflow.log_outputs([LoggedModelOutput(model_id=model_id, step=0)])
