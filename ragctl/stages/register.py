"""register: a logged chain -> a registry version, tagged with its index lineage and evaluation."""

from __future__ import annotations

from dataclasses import dataclass

from ragctl.config.model import RagctlConfig
from ragctl.stages import StageContext
from ragctl.stages.assemble import MODEL_URI_TAG
from ragctl.stages.evaluate import PASSED_TAG, default_model_uri


@dataclass
class RegisterResult:
    run_id: str
    experiment_id: str
    model_name: str
    version: str
    model_uri: str
    tags: dict[str, str]


def lineage_tags(config: RagctlConfig, model_uri: str) -> dict[str, str]:
    """Where the chain came from (assemble -> ingest) and how its latest evaluation went."""
    from ragctl import tracking

    same_model = f"tags.`{MODEL_URI_TAG}` = '{model_uri}'"
    tags = {"ragctl.model_uri": model_uri, "ragctl.collection": config.vector_store.collection}
    assembled = tracking.latest_run(config, "assemble", same_model)
    if assembled:
        tags["ragctl.assemble_run_id"] = assembled.info.run_id
        tags["ragctl.ingest_run_id"] = assembled.data.tags.get("ragctl.ingest_run_id", "none")
        tags["ragctl.collection"] = assembled.data.tags.get("ragctl.collection", tags["ragctl.collection"])
    evaluated = tracking.latest_run(config, "evaluate", f"{same_model} and tags.`ragctl.role` = 'candidate'")
    if evaluated:
        tags["ragctl.eval_run_id"] = evaluated.info.run_id
        tags[PASSED_TAG] = evaluated.data.tags.get(PASSED_TAG, "false")
        # The headline figures (not MLflow's per-scorer `x/mean` copies nor every @k cut-off).
        metrics = {k: v for k, v in evaluated.data.metrics.items() if "/" not in k and "_at_" not in k}
        tags.update({f"eval.{k}": str(round(v, 4)) for k, v in metrics.items()})
    else:
        tags[PASSED_TAG] = "unevaluated"
    return tags


def run(config: RagctlConfig, ctx: StageContext, model_uri: str | None = None) -> RegisterResult:
    import mlflow

    from ragctl import tracking

    tracking.setup(config)
    model_uri = model_uri or default_model_uri(config)
    tags = lineage_tags(config, model_uri)
    with tracking.stage_run(config, "register", {k: v for k, v in tags.items() if k.startswith("ragctl.")}) as active:
        version = mlflow.register_model(model_uri, config.registry.model_name, tags=tags)
        mlflow.log_params({"model_name": config.registry.model_name, "version": version.version})
        tracking.record_model_output(model_uri)
        return RegisterResult(
            active.info.run_id,
            active.info.experiment_id,
            config.registry.model_name,
            str(version.version),
            model_uri,
            tags,
        )
