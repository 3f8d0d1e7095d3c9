"""evaluate: score a logged chain on a QA set through `mlflow.genai.evaluate`, gate on thresholds, and
compare it per question with a baseline version. Each scored model is one MLflow run; the steps live in
ragctl.evaluation, the records of them in ragctl.records.evaluations."""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

from ragctl.config.model import RagctlConfig
from ragctl.digests import digest
from ragctl.errors import ServiceError, UsageError
from ragctl.evaluation import aggregate, datasets, gates
from ragctl.evaluation.abstention import calibrate
from ragctl.evaluation.result import EvalResult, Outputs, Scored
from ragctl.records import evaluations, models
from ragctl.records import tags as t
from ragctl.session import Session

__all__ = ["EvalResult", "Outputs", "run"]


def _cannot_load(model_uri: str, exc: Exception) -> UsageError | ServiceError:
    """A chain that is not there is the caller's mistake (exit 2); anything else, the store's (exit 4), so
    that CI retries only what may pass on a retry."""
    said = f"cannot load {model_uri}: {getattr(exc, 'message', exc)}"
    if getattr(exc, "error_code", None) == "RESOURCE_DOES_NOT_EXIST" or isinstance(exc, FileNotFoundError):
        return UsageError(said, "check --model-uri / --baseline: `ragctl models` lists the registered chains")
    return ServiceError(said, "check --model-uri / --baseline and the tracking server")


def _load(session: Session, model_uri: str) -> Any:
    import mlflow
    from mlflow.exceptions import MlflowException

    with session.reporter.task(f"Loading {model_uri}", total=None):
        try:
            return mlflow.pyfunc.load_model(model_uri)
        except MlflowException as exc:
            raise _cannot_load(model_uri, exc) from None


def _chain_config(model_uri: str) -> dict[str, Any]:
    """The chain's config from its MLmodel file: enough to decide whether its logged rows can be reused
    before paying for loading it."""
    from mlflow.exceptions import MlflowException

    try:
        return models.chain_config(model_uri)
    except (MlflowException, OSError) as exc:
        raise _cannot_load(model_uri, exc) from None


def _collection(session: Session, chain: dict[str, Any]) -> tuple[set[str], str]:
    """The files in the chain's collection and the collection's content digest (its manifest)."""
    from ragctl.components.vector_stores import with_overrides
    from ragctl.records import manifest

    store = with_overrides(chain["vector_store"])
    # Not there: said (else an empty store made here, and every item "not in the collection").
    found = manifest.read(session.chroma_reading(store), store)
    return found.files(), found.digest()


def _refuse_if_nothing_to_score(data: datasets.Dataset, invalid: list[dict[str, Any]]) -> None:
    if not data.valid:
        raise UsageError("no item of the QA set can be scored", f"e.g. {invalid[0]['where']}: {invalid[0]['reason']}")


def _refused(model: Any, data: datasets.Dataset) -> list[dict[str, Any]]:
    """Mark the items the chain refuses to answer invalid, and list them."""
    from ragctl.evaluation.harness import refusals

    refused = []
    for item, reason in refusals(model, data.valid):
        item.invalid = reason
        refused.append({"id": item.id, "where": item.where, "question": item.question, "reason": reason})
    return refused


def _settings(config: RagctlConfig, ks: list[int]) -> dict[str, Any]:
    """What decides the per-question values besides model, dataset and collection."""
    evaluation = config.evaluation.model_dump(include={"semantic_similarity", "decline_phrases", "judge"})
    return {
        **evaluation,
        "k": ks,
        "embedding": config.embedding.identity() if evaluation["semantic_similarity"] else None,
    }


def score(session: Session, model_uri: str, dataset: datasets.Dataset, role: str, embed: Any | None) -> Scored:
    """Score one model: reuse a matching earlier evaluation, or run the harness in a new evaluate run."""
    import mlflow

    from ragctl.evaluation import harness
    from ragctl.records import runs

    config = session.config
    chain = _chain_config(model_uri)
    top_k = int(chain["retrieval"]["top_k"])
    ks = sorted({k for k in config.evaluation.k if k <= top_k} | {top_k})
    files, collection_digest = _collection(session, chain)
    data = copy.deepcopy(dataset)
    datasets.mark_missing_sources(data, files)
    invalid = [
        {"id": i.id, "where": i.where, "question": i.question, "reason": i.invalid} for i in data.items if i.invalid
    ]
    model_id = models.logged_model_id(session, model_uri)
    tags = {
        t.MODEL_URI: model_uri,
        t.MODEL_ID: model_id or t.NONE,
        t.ROLE: role,
        t.TOP_K: str(top_k),
        t.DATASET: dataset.source,
        t.DATASET_DIGEST: dataset.digest,
        t.COLLECTION: chain["vector_store"]["collection"],
        t.COLLECTION_DIGEST: collection_digest,
        t.SETTINGS_DIGEST: digest(_settings(config, ks)),
    }
    ids = [i.id for i in data.valid]
    if role == "baseline" and (found := evaluations.reusable(session, tags, ids, dataset.whole_digest)):
        run_id, rows = found
        return Scored(run_id, model_uri, model_id, top_k, rows, aggregate.summarize(rows, top_k), invalid, True)
    _refuse_if_nothing_to_score(data, invalid)
    model = _load(session, model_uri)
    invalid += _refused(model, data)
    _refuse_if_nothing_to_score(data, invalid)  # again: the chain may refuse the rest
    with runs.stage_run(session, "evaluate", tags) as active:
        import pandas as pd
        from mlflow.data.pandas_dataset import from_pandas

        from ragctl.config.metrics import mlflow_key

        with session.reporter.task(f"Evaluating ({role})", total=len(data.valid)) as advance:
            rows = harness.run(config, model, data, ks, model_id, embed, advance)
        metrics = aggregate.summarize(rows, top_k)
        frame = pd.DataFrame([{"id": i.id, "question": i.question, "answers": i.answers} for i in data.items])
        source = from_pandas(frame.astype(str), name=dataset.name, source=dataset.source, digest=dataset.digest)
        mlflow.log_input(source, context="evaluation")
        logged = {mlflow_key(k): v for k, v in metrics.items()}
        logged |= {"questions": len(rows), "invalid_items": len(invalid)}
        mlflow.log_metrics(logged)
        if model_id:  # on the LoggedModel too: MLflow's model views compare chains by these
            mlflow.log_metrics(logged, model_id=model_id, dataset=source)
        mlflow.log_dict(evaluations.rows_document(rows), evaluations.ROWS_ARTIFACT)
        if invalid:
            mlflow.log_dict({"invalid": invalid}, "eval/invalid_items.json")
        return Scored(active.info.run_id, model_uri, model_id, top_k, rows, metrics, invalid)


def _baseline_uri(session: Session, ref: str) -> str:
    """An alias, a version number or a models:/ URI -> a models:/ URI that exists."""
    name = session.config.registry.model_name
    found = models.parse(ref, name)
    if ref.startswith("models:/") or models.version(session, found) is not None:
        return found.uri
    kind = "version" if found.version else "alias"
    raise UsageError(
        f"--baseline {ref}: {name} has no {kind} {ref}",
        "register and promote a chain first, or pass a version number or a models:/ URI",
    )


def configured_baseline(session: Session) -> str | None:
    """`evaluation.baseline` as a models:/ URI when the version it names exists (none before the first
    promotion: a new project has nothing to compare with yet)."""
    ref = session.config.evaluation.baseline
    if not ref:
        return None
    found = models.parse(ref, session.config.registry.model_name)
    if models.version(session, found) is None:
        session.reporter.note(f"no {ref} version yet: evaluation.baseline is not compared with")
        return None
    return found.uri


def run(
    session: Session,
    model_uri: str | None = None,
    limit: int | None = None,
    baseline_ref: str | None = None,
    outputs: Outputs | None = None,
) -> EvalResult:
    import mlflow

    from ragctl.components import create
    from ragctl.components.http import check_endpoints
    from ragctl.evaluation import reports

    config = session.config
    outputs = outputs or Outputs()
    reports.check(outputs)
    dataset = datasets.load(config.evaluation.dataset, limit or config.evaluation.limit)
    experiment_id = session.experiment_id
    model_uri = models.canonical(session, model_uri) if model_uri else models.latest_assembled(session)
    base_uri = _baseline_uri(session, baseline_ref) if baseline_ref else configured_baseline(session)
    # The endpoints the chains and the judge will call, in seconds, before any run is started.
    check_endpoints(_chain_config(model_uri) | {"evaluation": config.evaluation.model_dump()})
    if base_uri:
        check_endpoints(_chain_config(base_uri))
    # Loaded once for both models: the embedding model behind semantic similarity.
    embed = create("embedding", config.embedding) if config.evaluation.semantic_similarity else None
    base = score(session, base_uri, dataset, "baseline", embed) if base_uri else None
    candidate = score(session, model_uri, dataset, "candidate", embed)
    judge_gates, unmeasured = gates.unmeasured(config.evaluation.judge, candidate.rows)
    result = EvalResult(
        run_id=candidate.run_id,
        experiment_id=experiment_id,
        model_uri=model_uri,
        dataset=dataset.source,
        questions=len(candidate.rows),
        metrics=candidate.metrics,
        gates=gates.check(candidate.metrics, config.evaluation.thresholds) + judge_gates,
        comparisons=evaluations.compare(config.evaluation.regression, base, candidate) if base else [],
        baseline=base,
        rows=candidate.rows,
        invalid=candidate.invalid,
        unmeasured=unmeasured,
        abstention=calibrate(
            [
                (r.values["retrieval_similarity"], r.answerable)
                for r in candidate.rows
                if "retrieval_similarity" in r.values
            ]
        ),
    )
    with mlflow.start_run(run_id=candidate.run_id), tempfile.TemporaryDirectory(prefix="ragctl-eval-") as own:
        written = reports.write_all(result, outputs, Path(own))
        result.files = {kind: str(path) for kind, path in reports.asked(outputs).items() if kind in written}
        for path in written.values():
            mlflow.log_artifact(str(path), "eval")
        mlflow.log_dict(reports.as_dict(result), "eval/report.json")
        if base:
            mlflow.set_tag(t.BASELINE_RUN_ID, base.run_id)
            mlflow.set_tag(t.BASELINE_MODEL_URI, base.model_uri)
        mlflow.set_tag(t.EVAL_PASSED, str(result.passed).lower())
    return result
