"""The gates a promotion passes, each with the evidence it read and the flag that overrides it:

- evaluation: the version's registered evaluation passed (`--allow-unevaluated`);
- collection: it was evaluated on the collection state it will serve, by manifest digest
  (`--allow-collection-change`);
- regression: it is not significantly worse than the alias's current holder, compared per question from
  the two versions' logged evaluations (`--allow-regression`). The comparison is evaluate's own
  (paired bootstrap / McNemar); it needs both evaluated on the same QA set;
- review (when `registry.gates.review` is set): enough of the version's answers reviewed by experts in its
  review queue, and enough of those judged correct (`--allow-unreviewed`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ragctl.evaluation.statistics import Comparison
from ragctl.records import evaluations, reviews
from ragctl.records import tags as t
from ragctl.session import Session

OVERRIDES = {
    "evaluation": "--allow-unevaluated",
    "collection": "--allow-collection-change",
    "regression": "--allow-regression",
    "review": "--allow-unreviewed",
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
    verdict = version.tags.get(t.EVAL_PASSED, "unevaluated")
    run = version.tags.get(t.EVAL_RUN_ID)
    said = {"true": "evaluation passed", "false": "evaluation failed"}.get(verdict, "never evaluated")
    detail = said + (f" (run {run})" if run else "")
    return Check("evaluation", verdict == "true", detail, [run] if run else [])


def collection(session: Session, version: Any) -> Check:
    """The digest the version was evaluated on against the collection's manifest now (the same collection,
    overrides included, that evaluate read)."""
    from ragctl.records import manifest

    store = session.store.model_copy(update={"collection": version.tags.get(t.COLLECTION, session.store.collection)})
    name = store.collection
    evaluated_on = version.tags.get(t.COLLECTION_DIGEST)
    current = manifest.read(session.chroma_reading(store), store).digest()
    if not evaluated_on:
        return Check("collection", False, f"no collection digest recorded on the version; '{name}' is at {current}")
    same = evaluated_on == current
    detail = f"'{name}' evaluated at {evaluated_on}, now {current}" + ("" if same else " (re-ingested since)")
    return Check("collection", same, detail)


def regression(session: Session, version: Any, holder: Any | None) -> tuple[Check, list[Comparison]]:
    """The version against the alias's current holder, per question; (check, comparisons)."""
    if holder is None or str(holder.version) == str(version.version):
        return Check("regression", True, "no current holder to compare with"), []
    found, held = evaluations.of_version(session, version), evaluations.of_version(session, holder)
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
    comparisons = evaluations.compare(session.config.evaluation.regression, baseline, candidate)
    worse = [c for c in comparisons if c.regression]
    if worse:
        detail = "; ".join(
            f"{c.metric} {c.baseline:.3f} -> {c.candidate:.3f} [{c.low:+.3f}, {c.high:+.3f}]" for c in worse
        )
        return Check("regression", False, f"worse than v{holder.version}: {detail}", evidence), comparisons
    passed = Check("regression", True, f"not worse than v{holder.version} on {len(comparisons)} metrics", evidence)
    return passed, comparisons


def review(session: Session, version: Any) -> Check | None:
    """The experts' verdicts in the version's review queue; None when the gate is off."""
    gate = session.config.registry.gates.review
    if gate is None:
        return None
    name = reviews.queue_name(version.name, str(version.version))
    found = reviews.tally(session, name)
    if found is None:
        detail = (
            f"no expert review of v{version.version}: start one with `ragctl review start --version {version.version}`"
        )
        return Check("review", False, f"{detail} (queue '{name}')")
    passed = found.reviewed >= gate.min_reviewed and found.share >= gate.min_approved
    detail = (
        f"queue '{name}': {found.reviewed} of {found.items} reviewed (needs {gate.min_reviewed}), "
        f"{found.share:.0%} approved (needs {gate.min_approved:.0%})"
    )
    return Check("review", passed, detail, found.runs)
