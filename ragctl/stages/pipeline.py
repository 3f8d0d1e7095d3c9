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

from ragctl.digests import digest
from ragctl.errors import GateFailed
from ragctl.records import manifest, models, runs
from ragctl.records import tags as t
from ragctl.session import Session


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


def _collection_digest(session: Session) -> str:
    return manifest.read(session.chroma, session.store).digest()


def assemble_inputs(session: Session) -> str:
    from ragctl.records.prompts import pinned

    chain, prompt = session.config.chain_config(), pinned(session)  # a moved prompt alias is a changed input
    return digest({"chain": chain, "prompt": prompt, "collection": _collection_digest(session)})


def evaluate_inputs(session: Session, model_uri: str) -> str:
    from ragctl.evaluation import datasets

    config = session.config
    dataset = datasets.load(config.evaluation.dataset, config.evaluation.limit)
    settings = config.evaluation.model_dump(mode="json", exclude={"generation", "workers", "baseline"})
    inputs: dict[str, Any] = {"model": model_uri, "dataset": dataset.digest, "settings": settings}
    inputs["collection"] = _collection_digest(session)
    if config.evaluation.baseline:  # the comparison changes when that alias moves: the version is an input
        held = models.version(session, models.parse(config.evaluation.baseline, config.registry.model_name))
        inputs["baseline"] = str(held.version) if held else None
    return digest(inputs)


def _ingest_pending(session: Session) -> str | None:
    """Why ingest must run, or None when its plan is empty."""
    from ragctl.documents import discover
    from ragctl.stages.ingest.plan import make_plan
    from ragctl.stages.ingest.store import peek_store
    from ragctl.stages.ingest.work import Keys

    keys = Keys.of(session.config)
    store = peek_store(lambda: session.chroma, session.store, session.config, keys)
    if store is None or store.collection is None:
        return "no collection yet"
    if runs.latest(session, "ingest", {t.COLLECTION: session.store.collection}) is None:
        return "no finished ingest run"
    plan = make_plan(discover(session.config.ingestion), store.manifest, store.collection, keys)
    counts = {"added": len(plan.added), "changed": len(plan.changed), "deleted": len(plan.deleted)}
    counts["repaired"] = len(plan.orphans)
    if any(counts.values()):
        return ", ".join(f"{n} {what}" for what, n in counts.items() if n)
    return None


def _previous(session: Session, stage: str, inputs: str, role: str | None = None) -> Any | None:
    return runs.latest(session, stage, {t.INPUTS_DIGEST: inputs, **({t.ROLE: role} if role else {})})


def refusal(result: PipelineResult) -> GateFailed | None:
    """Why the pipeline stopped before register, or None when it did not."""
    if result.passed is not False:
        return None
    return GateFailed(
        f"quality gate failed for {result.model_uri}: not registered",
        f"see the evaluation run {result.steps[-1].run_id}; `ragctl evaluate` shows the gate",
    )


def run(
    session: Session,
    promote_alias: str | None = None,
    force: bool = False,
    reason: str = "",
    on_step: Callable[[Step], None] | None = None,
) -> PipelineResult:
    from ragctl.stages import assemble, evaluate, ingest, promote, register

    result = PipelineResult(experiment_id=session.experiment_id)
    name = session.config.registry.model_name

    def done(step: Step) -> None:
        result.steps.append(step)
        if on_step:
            on_step(step)

    why = "--force" if force else _ingest_pending(session)
    if why:
        ran = ingest.run(session)
        done(Step("ingest", "ran", why, ran.run_id))
    else:
        done(Step("ingest", "skipped", "no file added, changed or deleted"))

    inputs = assemble_inputs(session)
    found = None if force else _previous(session, "assemble", inputs)
    if found:
        result.model_uri = found.data.tags[t.MODEL_URI]
        done(Step("assemble", "skipped", "chain config and collection unchanged", found.info.run_id))
    else:
        assembled = assemble.run(session)
        runs.set_tag(session, assembled.run_id, t.INPUTS_DIGEST, inputs)
        result.model_uri = assembled.model_uri
        done(Step("assemble", "ran", "--force" if force else "new chain config or collection", assembled.run_id))

    inputs = evaluate_inputs(session, result.model_uri)
    found = None if force else _previous(session, "evaluate", inputs, role="candidate")
    if found:
        result.passed = found.data.tags.get(t.EVAL_PASSED) == "true"
        done(Step("evaluate", "skipped", "model, QA set and settings unchanged", found.info.run_id))
    else:
        evaluated = evaluate.run(session, model_uri=result.model_uri)
        runs.set_tag(session, evaluated.run_id, t.INPUTS_DIGEST, inputs)
        result.passed = evaluated.passed
        done(Step("evaluate", "ran", "--force" if force else "new model, QA set or settings", evaluated.run_id))
    if not result.passed:  # the caller reports the steps so far, then exits 1 (see `refusal`)
        return result

    version = None if force else models.registered_version_of(session, name, result.model_uri)
    if version:
        result.version = version
        done(Step("register", "skipped", f"already version {version}"))
    else:
        registered = register.run(session, model_uri=result.model_uri)
        result.version = registered.version
        done(Step("register", "ran", "new model", registered.run_id))

    if promote_alias:
        found_holder = models.holder(session, name, promote_alias)
        holder = str(found_holder.version) if found_holder else None
        if holder == result.version and not force:
            done(Step("promote", "skipped", f"@{promote_alias} already at version {holder}"))
        else:
            moved = promote.run(session, promote_alias, result.version, reason=reason or "ragctl run")
            done(Step("promote", "ran", f"@{promote_alias}: {holder or 'none'} -> {moved.version}", moved.run_id))
    return result
