"""run: ingest -> assemble -> evaluate -> register (-> promote), skipping a stage whose inputs did not change
since its last successful run, as `dvc repro` does. Each executed stage is still its own MLflow run.

What "unchanged" means per stage:
- ingest: the plan (from the manifest) has nothing to add, change or delete; files that failed before and
  did not change are not retried;
- assemble: a finished assemble run has the same inputs digest (the chain's config sections, the prompt
  version a `prompts:/` alias points at, the collection's manifest digest): its model is reused;
- evaluate: a finished evaluation of that model has the same inputs digest (QA set, evaluation settings,
  collection): its verdict is reused, failed or passed;
- register: a version of that model exists; promote: the alias already points at it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ragctl.config.model import RagctlConfig
from ragctl.errors import GateFailed
from ragctl.evaluation.baseline import digest
from ragctl.stages import StageContext

INPUTS_TAG = "ragctl.inputs_digest"


@dataclass
class Step:
    stage: str
    status: str  # ran | skipped
    why: str
    run_id: str | None = None


@dataclass
class PipelineResult:
    steps: list[Step] = field(default_factory=list)
    model_uri: str | None = None
    version: str | None = None
    passed: bool | None = None
    experiment_id: str | None = None


def _collection_digest(config: RagctlConfig) -> str:
    from ragctl.components.vector_stores import chroma_client
    from ragctl.stages.ingest.manifest import Manifest

    return Manifest.load(chroma_client(config.vector_store), config.vector_store.collection, create=False).digest()


def assemble_inputs(config: RagctlConfig) -> str:
    from ragctl.prompt_registry import pinned

    chain, prompt = config.chain_config(), pinned(config)  # a moved prompt alias is a changed input
    return digest({"chain": chain, "prompt": prompt, "collection": _collection_digest(config)})


def evaluate_inputs(config: RagctlConfig, model_uri: str) -> str:
    from ragctl.evaluation import datasets

    dataset = datasets.load(config.evaluation.dataset, config.evaluation.limit)
    settings = config.evaluation.model_dump(mode="json", exclude={"generation", "workers"})
    collection = _collection_digest(config)
    return digest({"model": model_uri, "dataset": dataset.digest, "settings": settings, "collection": collection})


def _ingest_pending(config: RagctlConfig) -> str | None:
    """Why ingest must run, or None when its plan is empty."""
    from ragctl import tracking
    from ragctl.documents import discover
    from ragctl.stages.ingest.plan import make_plan
    from ragctl.stages.ingest.store import peek_store

    store = peek_store(config)
    if store is None or store.collection is None:
        return "no collection yet"
    if tracking.latest_run(config, "ingest", f"tags.`ragctl.collection` = '{config.vector_store.collection}'") is None:
        return "no finished ingest run"
    plan = make_plan(discover(config.ingestion), store.manifest, store.collection, config)
    counts = {"added": len(plan.added), "changed": len(plan.changed), "deleted": len(plan.deleted)}
    counts["repaired"] = len(plan.orphans)
    if any(counts.values()):
        return ", ".join(f"{n} {what}" for what, n in counts.items() if n)
    return None


def _previous(config: RagctlConfig, stage: str, inputs: str, extra: str = "") -> Any | None:
    from ragctl import tracking

    return tracking.latest_run(config, stage, f"tags.`{INPUTS_TAG}` = '{inputs}'" + extra)


def _tag(run_id: str, inputs: str) -> None:
    from mlflow.tracking import MlflowClient

    MlflowClient().set_tag(run_id, INPUTS_TAG, inputs)


def run(
    config: RagctlConfig,
    ctx: StageContext,
    promote_alias: str | None = None,
    force: bool = False,
    reason: str = "",
    on_step: Callable[[Step], None] | None = None,
) -> PipelineResult:
    from ragctl import tracking
    from ragctl.stages import assemble, evaluate, ingest, promote, register
    from ragctl.stages.assemble import MODEL_URI_TAG
    from ragctl.stages.evaluate import PASSED_TAG

    result = PipelineResult(experiment_id=tracking.setup(config))

    def done(step: Step) -> None:
        result.steps.append(step)
        if on_step:
            on_step(step)

    why = "--force" if force else _ingest_pending(config)
    if why:
        ran = ingest.run(config, ctx)
        done(Step("ingest", "ran", why, ran.run_id))
    else:
        done(Step("ingest", "skipped", "no file added, changed or deleted"))

    inputs = assemble_inputs(config)
    found = None if force else _previous(config, "assemble", inputs)
    if found:
        result.model_uri = found.data.tags[MODEL_URI_TAG]
        done(Step("assemble", "skipped", "chain config and collection unchanged", found.info.run_id))
    else:
        assembled = assemble.run(config, ctx)
        _tag(assembled.run_id, inputs)
        result.model_uri = assembled.model_uri
        done(Step("assemble", "ran", "--force" if force else "new chain config or collection", assembled.run_id))

    inputs = evaluate_inputs(config, result.model_uri)
    found = None if force else _previous(config, "evaluate", inputs, " and tags.`ragctl.role` = 'candidate'")
    if found:
        result.passed = found.data.tags.get(PASSED_TAG) == "true"
        done(Step("evaluate", "skipped", "model, QA set and settings unchanged", found.info.run_id))
    else:
        evaluated = evaluate.run(config, ctx, model_uri=result.model_uri)
        _tag(evaluated.run_id, inputs)
        result.passed = evaluated.passed
        done(Step("evaluate", "ran", "--force" if force else "new model, QA set or settings", evaluated.run_id))
    if not result.passed:
        raise GateFailed(
            f"quality gate failed for {result.model_uri}: not registered",
            f"see the evaluation run {result.steps[-1].run_id}; `ragctl evaluate` shows the gate",
        )

    version = None if force else _registered(config, result.model_uri)
    if version:
        result.version = version
        done(Step("register", "skipped", f"already version {version}"))
    else:
        registered = register.run(config, ctx, model_uri=result.model_uri)
        result.version = registered.version
        done(Step("register", "ran", "new model", registered.run_id))

    if promote_alias:
        holder = _holder(config, promote_alias)
        if holder == result.version and not force:
            done(Step("promote", "skipped", f"@{promote_alias} already at version {holder}"))
        else:
            moved = promote.run(config, ctx, promote_alias, result.version, reason=reason or "ragctl run")
            done(Step("promote", "ran", f"@{promote_alias}: {holder or 'none'} -> {moved.version}", moved.run_id))
    return result


def _registered(config: RagctlConfig, model_uri: str) -> str | None:
    from mlflow.tracking import MlflowClient

    name = config.registry.model_name
    try:
        versions = MlflowClient().search_model_versions(f"name = '{name}'")
    except Exception:
        return None
    found = [v for v in versions if v.tags.get("ragctl.model_uri") == model_uri]
    return str(max(int(v.version) for v in found)) if found else None


def _holder(config: RagctlConfig, alias: str) -> str | None:
    from mlflow.tracking import MlflowClient

    try:
        return str(MlflowClient().get_model_version_by_alias(config.registry.model_name, alias).version)
    except Exception:
        return None
