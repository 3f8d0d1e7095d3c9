"""The gates a promotion passes, each with the evidence it read and the flag that overrides it:

- evaluation: the version's registered evaluation passed (`--allow-unevaluated`);
- collection: it was evaluated on the collection state it will serve, by manifest digest
  (`--allow-collection-change`);
- regression: it is not significantly worse than the alias's current holder, compared per question from
  the two versions' logged evaluations (`--allow-regression`). The comparison is evaluate's own
  (paired bootstrap / McNemar); it needs both evaluated on the same QA set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ragctl.config.model import RagctlConfig
from ragctl.stages.evaluate import PASSED_TAG

OVERRIDES = {
    "evaluation": "--allow-unevaluated",
    "collection": "--allow-collection-change",
    "regression": "--allow-regression",
}


@dataclass
class Check:
    gate: str
    passed: bool
    detail: str
    evidence: list[str] = field(default_factory=list)  # run ids
    overridden: bool = False

    @property
    def override(self) -> str:
        return OVERRIDES[self.gate]


def evaluation(version: Any) -> Check:
    verdict = version.tags.get(PASSED_TAG, "unevaluated")
    run = version.tags.get("ragctl.eval_run_id")
    detail = f"evaluation {verdict}" + (f" (run {run})" if run else "")
    return Check("evaluation", verdict == "true", detail, [run] if run else [])


def collection(config: RagctlConfig, version: Any) -> Check:
    """The digest the version was evaluated on against the collection's manifest now."""
    from ragctl.components.vector_stores import chroma_client
    from ragctl.stages.ingest.manifest import Manifest

    name = version.tags.get("ragctl.collection", config.vector_store.collection)
    evaluated_on = version.tags.get("ragctl.collection_digest")
    current = Manifest.load(chroma_client(config.vector_store), name, create=False).digest()
    if not evaluated_on:
        return Check("collection", False, f"no collection digest recorded on the version; '{name}' is at {current}")
    same = evaluated_on == current
    detail = f"'{name}' evaluated at {evaluated_on}, now {current}" + ("" if same else " (re-ingested since)")
    return Check("collection", same, detail)


def _scored(version: Any) -> tuple[Any, str] | None:
    """A version's logged evaluation as evaluate's `Scored` with its QA set's digest, or None when its rows
    are not there."""
    import mlflow
    from mlflow.tracking import MlflowClient

    from ragctl.evaluation.baseline import ROWS_ARTIFACT
    from ragctl.evaluation.harness import Row
    from ragctl.stages.evaluate import Scored

    run_id = version.tags.get("ragctl.eval_run_id")
    if not run_id:
        return None
    run = MlflowClient().get_run(run_id)
    try:
        data: Any = mlflow.artifacts.load_dict(f"{run.info.artifact_uri}/{ROWS_ARTIFACT}")
    except Exception:
        return None
    top_k = int(version.tags.get("ragctl.top_k") or run.data.tags.get("ragctl.top_k") or 0)
    rows = [Row(**r) for r in data["rows"]]
    return Scored(run_id, version.source, None, top_k, rows, {}, []), run.data.tags.get("ragctl.dataset_digest", "")


def regression(config: RagctlConfig, version: Any, holder: Any | None) -> tuple[Check, list[Any]]:
    """The version against the alias's current holder, per question; (check, comparisons)."""
    from ragctl.stages.evaluate import compare

    if holder is None or str(holder.version) == str(version.version):
        return Check("regression", True, "no current holder to compare with"), []
    found, held = _scored(version), _scored(holder)
    if found is None or held is None:
        missing = version.version if found is None else holder.version
        return Check("regression", False, f"version {missing} has no logged evaluation to compare"), []
    (candidate, candidate_set), (baseline, baseline_set) = found, held
    evidence = [baseline.run_id, candidate.run_id]
    if candidate_set != baseline_set:
        detail = (
            f"versions {holder.version} and {version.version} were evaluated on different QA sets "
            f"(runs {baseline.run_id}, {candidate.run_id})"
        )
        return Check("regression", False, detail, evidence), []
    comparisons = compare(config, baseline, candidate)
    worse = [c for c in comparisons if c.regression]
    if worse:
        detail = "; ".join(
            f"{c.metric} {c.baseline:.3f} -> {c.candidate:.3f} [{c.low:+.3f}, {c.high:+.3f}]" for c in worse
        )
        return Check("regression", False, f"worse than v{holder.version}: {detail}", evidence), comparisons
    return Check("regression", True, f"not worse than v{holder.version} on {len(comparisons)} metrics", evidence), (
        comparisons
    )
