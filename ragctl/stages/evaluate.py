"""evaluate: score a logged chain on a QA set through `mlflow.genai.evaluate`, gate on thresholds, and
compare it per question with a baseline version. Each scored model is one MLflow run; the steps live in
ragctl.evaluation."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragctl.config.model import RagctlConfig
from ragctl.errors import ServiceError, UsageError
from ragctl.evaluation import aggregate, baseline, datasets, gates, names, statistics
from ragctl.evaluation.abstention import Calibration, calibrate
from ragctl.evaluation.harness import Row
from ragctl.stages import StageContext
from ragctl.stages.assemble import MODEL_URI_TAG

PASSED_TAG = "ragctl.eval_passed"


@dataclass
class Scored:
    """One model scored on the dataset (fresh, or reused from an earlier run)."""

    run_id: str
    model_uri: str
    model_id: str | None
    top_k: int
    rows: list[Row]
    metrics: dict[str, float]
    invalid: list[dict[str, str]]
    reused: bool = False


@dataclass
class Outputs:
    junit: Path | None = None
    report: Path | None = None
    summary: Path | None = None


@dataclass
class EvalResult:
    run_id: str
    experiment_id: str
    model_uri: str
    dataset: str
    questions: int
    metrics: dict[str, float]
    gates: list[gates.Gate] = field(default_factory=list)
    comparisons: list[statistics.Comparison] = field(default_factory=list)
    baseline: Scored | None = None
    rows: list[Row] = field(default_factory=list)
    invalid: list[dict[str, str]] = field(default_factory=list)
    unmeasured: dict[str, int] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    # With answerable and unanswerable items: the retrieval.min_score that best tells them apart.
    abstention: Calibration | None = None

    @property
    def passed(self) -> bool:
        return all(g.passed for g in self.gates) and not any(c.regression for c in self.comparisons)


def default_model_uri(config: RagctlConfig) -> str:
    from ragctl import tracking

    assembled = tracking.latest_run(config, "assemble")
    if assembled is None or MODEL_URI_TAG not in assembled.data.tags:
        raise UsageError("no assembled chain found in this experiment", "run `ragctl assemble` or pass --model-uri")
    return assembled.data.tags[MODEL_URI_TAG]


def _load(model_uri: str, ctx: StageContext) -> Any:
    import mlflow
    from mlflow.exceptions import MlflowException

    with ctx.reporter.task(f"Loading {model_uri}", total=None):
        try:
            return mlflow.pyfunc.load_model(model_uri)
        except MlflowException as exc:
            raise ServiceError(f"cannot load {model_uri}: {exc.message}", "check --model-uri / --baseline") from None


def _collection(chain_config: dict[str, Any]) -> tuple[set[str], str]:
    """The files in the chain's collection and the collection's content digest (its manifest)."""
    from ragctl.components.vector_stores import chroma_client
    from ragctl.rag import vector_store_config
    from ragctl.stages.ingest.manifest import Manifest

    store = vector_store_config(chain_config["vector_store"])
    manifest = Manifest.load(chroma_client(store), store.collection, create=False)
    files = {e.file for e in manifest.entries.values() if e.state == "ok"}
    return files, manifest.digest()


def _settings(config: RagctlConfig, ks: list[int]) -> dict[str, Any]:
    """What decides the per-question values besides model, dataset and collection."""
    evaluation = config.evaluation.model_dump(include={"semantic_similarity", "decline_phrases", "judge"})
    return {
        **evaluation,
        "k": ks,
        "embedding": config.embedding.identity() if evaluation["semantic_similarity"] else None,
    }


def score(
    config: RagctlConfig,
    ctx: StageContext,
    experiment_id: str,
    model_uri: str,
    dataset: datasets.Dataset,
    role: str,
    embed: Any | None,
) -> Scored:
    """Score one model: reuse a matching earlier evaluation, or run the harness in a new evaluate run."""
    import mlflow

    from ragctl import tracking
    from ragctl.evaluation import harness

    model = _load(model_uri, ctx)
    chain = model.model_config
    top_k = int(chain["retrieval"]["top_k"])
    ks = sorted({k for k in config.evaluation.k if k <= top_k} | {top_k})
    files, collection_digest = _collection(chain)
    data = copy.deepcopy(dataset)
    datasets.mark_missing_sources(data, files)
    invalid = [
        {"id": i.id, "where": i.where, "question": i.question, "reason": i.invalid} for i in data.items if i.invalid
    ]
    model_id = tracking.logged_model_id(model_uri)
    tags = {
        MODEL_URI_TAG: model_uri,
        "ragctl.model_id": model_id or "none",
        "ragctl.role": role,
        "ragctl.top_k": str(top_k),
        "ragctl.dataset": dataset.source,
        "ragctl.dataset_digest": dataset.digest,
        "ragctl.collection": chain["vector_store"]["collection"],
        "ragctl.collection_digest": collection_digest,
        "ragctl.settings_digest": baseline.digest(_settings(config, ks)),
    }
    if role == "baseline" and (found := baseline.reusable_rows(experiment_id, tags)):
        run_id, rows = found
        return Scored(run_id, model_uri, model_id, top_k, rows, aggregate.summarize(rows, top_k), invalid, True)
    if not data.valid:
        raise UsageError("no item of the QA set can be scored", f"e.g. {invalid[0]['where']}: {invalid[0]['reason']}")
    with tracking.stage_run(config, "evaluate", tags) as active:
        import pandas as pd
        from mlflow.data.pandas_dataset import from_pandas

        with ctx.reporter.task(f"Evaluating ({role})", total=len(data.valid)) as advance:
            rows = harness.run(config, model, data, ks, model_id, embed, advance)
        metrics = aggregate.summarize(rows, top_k)
        frame = pd.DataFrame([{"id": i.id, "question": i.question, "answers": i.answers} for i in data.items])
        source = from_pandas(frame.astype(str), name=dataset.name, source=dataset.source, digest=dataset.digest)
        mlflow.log_input(source, context="evaluation")
        logged = {names.mlflow_key(k): v for k, v in metrics.items()}
        logged |= {"questions": len(rows), "invalid_items": len(invalid)}
        mlflow.log_metrics(logged)
        if model_id:  # on the LoggedModel too: MLflow's model views compare chains by these
            mlflow.log_metrics(logged, model_id=model_id, dataset=source)
        mlflow.log_dict(baseline.rows_document(rows), baseline.ROWS_ARTIFACT)
        if invalid:
            mlflow.log_dict({"invalid": invalid}, "eval/invalid_items.json")
        return Scored(active.info.run_id, model_uri, model_id, top_k, rows, metrics, invalid)


def compare(config: RagctlConfig, base: Scored, candidate: Scored) -> list[statistics.Comparison]:
    comparisons = []
    for metric in config.evaluation.regression.metrics:
        result = statistics.compare(
            metric,
            aggregate.per_question(base.rows, metric, base.top_k),
            aggregate.per_question(candidate.rows, metric, candidate.top_k),
            names.is_binary(metric),
            names.higher_is_better(metric),
            config.evaluation.regression,
        )
        if result:
            comparisons.append(result)
    return comparisons


def run(
    config: RagctlConfig,
    ctx: StageContext,
    model_uri: str | None = None,
    limit: int | None = None,
    baseline_ref: str | None = None,
    outputs: Outputs | None = None,
) -> EvalResult:
    import mlflow

    from ragctl import tracking
    from ragctl.components import create
    from ragctl.evaluation import reports

    dataset = datasets.load(config.evaluation.dataset, limit or config.evaluation.limit)
    experiment_id = tracking.setup(config)
    model_uri = model_uri or default_model_uri(config)
    base_uri = baseline.resolve(config, baseline_ref) if baseline_ref else None
    # Loaded once for both models: the embedding model behind semantic similarity.
    embed = create("embedding", config.embedding) if config.evaluation.semantic_similarity else None
    base = score(config, ctx, experiment_id, base_uri, dataset, "baseline", embed) if base_uri else None
    candidate = score(config, ctx, experiment_id, model_uri, dataset, "candidate", embed)
    judge_gates, unmeasured = gates.unmeasured(config.evaluation.judge, candidate.rows)
    result = EvalResult(
        run_id=candidate.run_id,
        experiment_id=experiment_id,
        model_uri=model_uri,
        dataset=dataset.source,
        questions=len(candidate.rows),
        metrics=candidate.metrics,
        gates=gates.check(candidate.metrics, config.evaluation.thresholds) + judge_gates,
        comparisons=compare(config, base, candidate) if base else [],
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
    with mlflow.start_run(run_id=candidate.run_id):
        written = reports.write_all(result, outputs or Outputs())
        result.files = {kind: str(path) for kind, path in written.items()}
        for path in written.values():
            mlflow.log_artifact(str(path), "eval")
        mlflow.log_dict(reports.as_dict(result), "eval/report.json")
        if base:
            mlflow.set_tag("ragctl.baseline_run_id", base.run_id)
            mlflow.set_tag("ragctl.baseline_model_uri", base.model_uri)
        mlflow.set_tag(PASSED_TAG, str(result.passed).lower())
    return result
