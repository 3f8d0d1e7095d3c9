"""register: a logged chain -> a registry version, tagged with its lineage (assemble run -> ingest run ->
collection and manifest digest; embedding model, LLM, git commit) and the passing evaluation of that exact
model. A chain with no passing evaluation is refused unless the caller allows it, and that is recorded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ragctl.errors import GateFailed
from ragctl.records import evaluations, models, runs
from ragctl.records import tags as t
from ragctl.records.evaluations import HEADLINE
from ragctl.session import Session


@dataclass
class RegisterResult:
    run_id: str
    experiment_id: str
    model_name: str
    version: str
    model_uri: str
    tags: dict[str, str]
    description: str
    reused: bool = False  # the chain was registered before (perhaps by a register that was killed): that version


def lineage_tags(session: Session, model_uri: str, evaluation: Any | None) -> dict[str, str]:
    """Where the chain came from and the evaluation that vouches for it."""
    tags = {t.MODEL_URI: model_uri, t.COLLECTION: session.store.collection}
    assembled = runs.latest(session, "assemble", {t.MODEL_URI: model_uri})
    if assembled:
        params, run_tags = assembled.data.params, assembled.data.tags
        tags |= {
            t.ASSEMBLE_RUN_ID: assembled.info.run_id,
            t.INGEST_RUN_ID: run_tags.get(t.INGEST_RUN_ID, t.NONE),
            t.COLLECTION: run_tags.get(t.COLLECTION, tags[t.COLLECTION]),
            t.EMBEDDING: f"{params.get('embedding.type')} {params.get('embedding.model')}",
            t.LLM: f"{params.get('llm.type')} {params.get('llm.model')}",
            t.TOP_K: params.get("retrieval.top_k", ""),
            t.SOURCE_COMMIT: run_tags.get(t.GIT_COMMIT, t.NONE),
            t.PROMPT_URI: run_tags.get(t.PROMPT_URI, t.NONE),
        }
        if run_tags.get(t.COLLECTION_DIGEST):
            tags[t.COLLECTION_DIGEST] = run_tags[t.COLLECTION_DIGEST]
    if evaluation is None:
        tags[t.EVAL_PASSED] = "unevaluated"
        return tags
    run_tags = evaluation.data.tags
    tags |= {
        t.EVAL_RUN_ID: evaluation.info.run_id,
        t.EVAL_PASSED: run_tags.get(t.EVAL_PASSED, "false"),
        t.EVAL_DATASET: run_tags.get(t.DATASET, ""),
        t.EVAL_DATASET_DIGEST: run_tags.get(t.DATASET_DIGEST, ""),
        # The collection state the chain was evaluated on: what promote checks against the served one.
        t.COLLECTION_DIGEST: run_tags.get(t.COLLECTION_DIGEST, tags.get(t.COLLECTION_DIGEST, "")),
    }
    # The headline figures (not MLflow's per-scorer `x/mean` copies nor every @k cut-off).
    metrics = {k: v for k, v in evaluation.data.metrics.items() if "/" not in k and "_at_" not in k}
    tags |= {f"{t.EVAL_METRIC_PREFIX}{k}": str(round(v, 4)) for k, v in metrics.items()}
    return tags


def describe(tags: dict[str, str]) -> str:
    """The version's description: what it is, what it reads, how it scored, where it came from."""
    lines = [
        f"RAG chain: {tags.get(t.LLM, '?')} over collection '{tags[t.COLLECTION]}' "
        f"(manifest {tags.get(t.COLLECTION_DIGEST, '?')}), embeddings {tags.get(t.EMBEDDING, '?')}, "
        f"top_k {tags.get(t.TOP_K, '?')}, prompt {tags.get(t.PROMPT_URI, '?')}.",
    ]
    metric = {m: tags.get(f"{t.EVAL_METRIC_PREFIX}{m}") for m in (*HEADLINE, "questions")}
    if t.EVAL_RUN_ID in tags:
        scores = ", ".join(f"{m} {metric[m]}" for m in HEADLINE if metric[m] is not None)
        verdict = "passed" if tags[t.EVAL_PASSED] == "true" else "did NOT pass"
        questions = f"{float(metric['questions']):g}" if metric["questions"] else "?"  # a metric: '29.0'
        lines.append(
            f"Evaluation {verdict} on {tags.get(t.EVAL_DATASET, '?')} "
            f"({questions} questions; run {tags[t.EVAL_RUN_ID]}): {scores}."
        )
    else:
        lines.append("Not evaluated: registered with --allow-unevaluated.")
    lines.append(
        f"Assembled in run {tags.get(t.ASSEMBLE_RUN_ID, '?')} from ingest run "
        f"{tags.get(t.INGEST_RUN_ID, '?')} at git commit {tags.get(t.SOURCE_COMMIT, '?')[:12]}."
    )
    return "\n".join(lines)


def run(session: Session, model_uri: str | None = None, allow_unevaluated: bool = False) -> RegisterResult:
    import mlflow

    model_uri = models.canonical(session, model_uri) if model_uri else models.latest_assembled(session)
    models.check_exists(session, model_uri)  # before a version of nothing is created
    passing, latest = evaluations.of_model(session, model_uri)
    if passing is None and not allow_unevaluated:
        found = f"its latest evaluation (run {latest.info.run_id}) failed" if latest else "it was never evaluated"
        raise GateFailed(
            f"registration refused: {model_uri} has no passing evaluation; {found}",
            f"run `ragctl evaluate --model-uri {model_uri}` until it passes, or pass --allow-unevaluated",
        )
    tags = lineage_tags(session, model_uri, latest)
    if passing is None:
        tags[t.ALLOW_UNEVALUATED] = "true"
    description = describe(tags)
    name = session.config.registry.model_name
    run_tags = {k: v for k, v in tags.items() if k.startswith("ragctl.")}
    with runs.stage_run(session, "register", run_tags) as active:
        # One version per chain: registering it again, or after a register killed midway, completes and
        # updates that version instead of adding a copy.
        before = models.registered_version_of(session, name, model_uri)
        if before:
            _retag(session, name, before, tags)
        number = before or str(mlflow.register_model(model_uri, name, tags=tags).version)
        session.mlflow.update_model_version(name, number, description=description)
        mlflow.log_params({"model_name": name, "version": number, "allow_unevaluated": allow_unevaluated})
        models.record_output(session, model_uri)
        return RegisterResult(
            active.info.run_id, active.info.experiment_id, name, number, model_uri, tags, description, bool(before)
        )


def _retag(session: Session, name: str, version: str, tags: dict[str, str]) -> None:
    """Bring a version's lineage tags to `tags`: ragctl's tags it no longer has go (the promotion records
    on it stay: they are not lineage)."""
    client = session.mlflow
    held = client.get_model_version(name, version).tags
    for key in held:
        if key.startswith("ragctl.") and key not in tags and not key.startswith(t.PROMOTED_TO_PREFIX):
            client.delete_model_version_tag(name, version, key)
    for key, value in tags.items():
        if held.get(key) != value:
            client.set_model_version_tag(name, version, key, value)
