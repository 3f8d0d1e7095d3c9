"""register: a logged chain -> a registry version, tagged with its lineage (assemble run -> ingest run ->
collection and manifest digest; embedding model, LLM, git commit) and the passing evaluation of that exact
model. A chain with no passing evaluation is refused unless the caller allows it, and that is recorded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ragctl.config.model import RagctlConfig
from ragctl.errors import GateFailed
from ragctl.stages import StageContext
from ragctl.stages.assemble import MODEL_URI_TAG
from ragctl.stages.evaluate import PASSED_TAG, default_model_uri

HEADLINE = ("hit_rate", "mrr", "token_f1", "exact_match", "rouge_l", "latency_p95")


@dataclass
class RegisterResult:
    run_id: str
    experiment_id: str
    model_name: str
    version: str
    model_uri: str
    tags: dict[str, str]
    description: str


def evaluations(config: RagctlConfig, model_uri: str) -> tuple[Any | None, Any | None]:
    """(the latest passing, the latest) evaluation of exactly this model as the candidate."""
    from ragctl import tracking

    same = f"tags.`{MODEL_URI_TAG}` = '{model_uri}' and tags.`ragctl.role` = 'candidate'"
    passing = tracking.latest_run(config, "evaluate", f"{same} and tags.`{PASSED_TAG}` = 'true'")
    return passing, passing or tracking.latest_run(config, "evaluate", same)


def lineage_tags(config: RagctlConfig, model_uri: str, evaluation: Any | None) -> dict[str, str]:
    """Where the chain came from and the evaluation that vouches for it."""
    from ragctl import tracking

    tags = {MODEL_URI_TAG: model_uri, "ragctl.collection": config.vector_store.collection}
    assembled = tracking.latest_run(config, "assemble", f"tags.`{MODEL_URI_TAG}` = '{model_uri}'")
    if assembled:
        params, run_tags = assembled.data.params, assembled.data.tags
        tags |= {
            "ragctl.assemble_run_id": assembled.info.run_id,
            "ragctl.ingest_run_id": run_tags.get("ragctl.ingest_run_id", "none"),
            "ragctl.collection": run_tags.get("ragctl.collection", tags["ragctl.collection"]),
            "ragctl.embedding": f"{params.get('embedding.type')} {params.get('embedding.model')}",
            "ragctl.llm": f"{params.get('llm.type')} {params.get('llm.model')}",
            "ragctl.top_k": params.get("retrieval.top_k", ""),
            "ragctl.git_commit": run_tags.get("mlflow.source.git.commit", "none"),
            "ragctl.prompt_uri": run_tags.get("ragctl.prompt_uri", "none"),
        }
        if run_tags.get("ragctl.collection_digest"):
            tags["ragctl.collection_digest"] = run_tags["ragctl.collection_digest"]
    if evaluation is None:
        tags[PASSED_TAG] = "unevaluated"
        return tags
    run_tags = evaluation.data.tags
    tags |= {
        "ragctl.eval_run_id": evaluation.info.run_id,
        PASSED_TAG: run_tags.get(PASSED_TAG, "false"),
        "ragctl.eval_dataset": run_tags.get("ragctl.dataset", ""),
        "ragctl.eval_dataset_digest": run_tags.get("ragctl.dataset_digest", ""),
        # The collection state the chain was evaluated on: what promote checks against the served one.
        "ragctl.collection_digest": run_tags.get("ragctl.collection_digest", tags.get("ragctl.collection_digest", "")),
    }
    # The headline figures (not MLflow's per-scorer `x/mean` copies nor every @k cut-off).
    metrics = {k: v for k, v in evaluation.data.metrics.items() if "/" not in k and "_at_" not in k}
    tags |= {f"eval.{k}": str(round(v, 4)) for k, v in metrics.items()}
    return tags


def describe(tags: dict[str, str]) -> str:
    """The version's description: what it is, what it reads, how it scored, where it came from."""
    lines = [
        f"RAG chain: {tags.get('ragctl.llm', '?')} over collection '{tags['ragctl.collection']}' "
        f"(manifest {tags.get('ragctl.collection_digest', '?')}), embeddings {tags.get('ragctl.embedding', '?')}, "
        f"top_k {tags.get('ragctl.top_k', '?')}, prompt {tags.get('ragctl.prompt_uri', '?')}.",
    ]
    if "ragctl.eval_run_id" in tags:
        scores = ", ".join(f"{m} {tags[f'eval.{m}']}" for m in HEADLINE if f"eval.{m}" in tags)
        verdict = "passed" if tags[PASSED_TAG] == "true" else "did NOT pass"
        lines.append(
            f"Evaluation {verdict} on {tags.get('ragctl.eval_dataset', '?')} "
            f"({tags.get('eval.questions', '?')} questions; run {tags['ragctl.eval_run_id']}): {scores}."
        )
    else:
        lines.append("Not evaluated: registered with --allow-unevaluated.")
    lines.append(
        f"Assembled in run {tags.get('ragctl.assemble_run_id', '?')} from ingest run "
        f"{tags.get('ragctl.ingest_run_id', '?')} at git commit {tags.get('ragctl.git_commit', '?')[:12]}."
    )
    return "\n".join(lines)


def run(
    config: RagctlConfig, ctx: StageContext, model_uri: str | None = None, allow_unevaluated: bool = False
) -> RegisterResult:
    import mlflow
    from mlflow.tracking import MlflowClient

    from ragctl import tracking

    tracking.setup(config)
    model_uri = model_uri or default_model_uri(config)
    passing, latest = evaluations(config, model_uri)
    if passing is None and not allow_unevaluated:
        found = f"its latest evaluation (run {latest.info.run_id}) failed" if latest else "it was never evaluated"
        raise GateFailed(
            f"registration refused: {model_uri} has no passing evaluation; {found}",
            f"run `ragctl evaluate --model-uri {model_uri}` until it passes, or pass --allow-unevaluated",
        )
    tags = lineage_tags(config, model_uri, latest)
    if passing is None:
        tags["ragctl.allow_unevaluated"] = "true"
    description = describe(tags)
    name = config.registry.model_name
    with tracking.stage_run(config, "register", {k: v for k, v in tags.items() if k.startswith("ragctl.")}) as active:
        version = mlflow.register_model(model_uri, name, tags=tags)
        MlflowClient().update_model_version(name, version.version, description=description)
        mlflow.log_params({"model_name": name, "version": version.version, "allow_unevaluated": allow_unevaluated})
        tracking.record_model_output(model_uri)
        return RegisterResult(
            active.info.run_id, active.info.experiment_id, name, str(version.version), model_uri, tags, description
        )
