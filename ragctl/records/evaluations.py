"""Evaluation records: the per-question rows an evaluate run logs, finding a reusable evaluation, the
evaluations of one model, a registered version's logged evaluation, and the paired comparison of two."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ragctl.config import metrics
from ragctl.config.model import RegressionConfig
from ragctl.evaluation import aggregate, statistics
from ragctl.evaluation.harness import Row
from ragctl.evaluation.result import Scored
from ragctl.records import runs
from ragctl.records import tags as t
from ragctl.session import Session

ROWS_ARTIFACT = "eval/rows.json"
# An earlier evaluation's rows are reused only when all of these match.
REUSE_TAGS = (t.MODEL_ID, t.DATASET_DIGEST, t.COLLECTION_DIGEST, t.SETTINGS_DIGEST)
# The figures a version's description and lineage show.
HEADLINE = ("hit_rate", "mrr", "token_f1", "exact_match", "rouge_l", "latency_p95")


def rows_document(rows: list[Row]) -> dict[str, Any]:
    return {"rows": [asdict(r) for r in rows]}


def rows_of(run: Any) -> list[Row] | None:
    """The per-question rows an evaluate run logged, or None when the artifact is gone."""
    data = runs.load_artifact(run, ROWS_ARTIFACT)
    return [Row(**r) for r in data["rows"]] if data else None


def reusable(
    session: Session, tags: dict[str, str], ids: list[str], whole_digest: str | None = None
) -> tuple[str, list[Row]] | None:
    """The rows for these question ids of the newest finished evaluation with exactly these identifying
    tags; failing that, when a limit took the first questions of a QA set (whose digest is `whole_digest`),
    of the newest evaluation of the whole set, so CI's `--limit` run against the champion pays for one model."""
    wanted = {k: tags[k] for k in REUSE_TAGS}
    for dataset_digest in [d for d in (tags[t.DATASET_DIGEST], whole_digest) if d]:
        found = runs.latest(session, "evaluate", wanted | {t.DATASET_DIGEST: dataset_digest})
        if found is None or (rows := rows_of(found)) is None:
            continue
        by_id = {r.id: r for r in rows}
        if by_id.keys() >= set(ids):
            return found.info.run_id, [by_id[i] for i in ids]
    return None


def of_model(session: Session, model_uri: str) -> tuple[Any | None, Any | None]:
    """(the latest passing, the latest) evaluation of exactly this model as the candidate."""
    same = {t.MODEL_URI: model_uri, t.ROLE: "candidate"}
    passing = runs.latest(session, "evaluate", {**same, t.EVAL_PASSED: "true"})
    return passing, passing or runs.latest(session, "evaluate", same)


def of_version(session: Session, version: Any) -> tuple[Scored, str] | None:
    """A registered version's logged evaluation as `Scored`, with its QA set's digest; None when the
    version has no evaluation or its rows are gone."""
    run = runs.get(session, version.tags.get(t.EVAL_RUN_ID))
    rows = rows_of(run) if run else None
    if run is None or rows is None:
        return None
    top_k = int(version.tags.get(t.TOP_K) or run.data.tags.get(t.TOP_K) or 0)
    scored = Scored(run.info.run_id, version.source, None, top_k, rows, {}, [])
    return scored, run.data.tags.get(t.DATASET_DIGEST, "")


def compare(settings: RegressionConfig, base: Scored, candidate: Scored) -> list[statistics.Comparison]:
    """Per question, each regression metric of the candidate against the baseline."""
    comparisons = []
    for metric in settings.metrics:
        result = statistics.compare(
            metric,
            aggregate.per_question(base.rows, metric, base.top_k),
            aggregate.per_question(candidate.rows, metric, candidate.top_k),
            metrics.is_binary(metric),
            metrics.higher_is_better(metric),
            settings,
        )
        if result:
            comparisons.append(result)
    return comparisons


def summary(run: Any) -> dict[str, Any]:
    """An evaluate run as lineage shows it: model, QA set, verdict, headline figures."""
    tags, values = run.data.tags, run.data.metrics
    return {
        "run_id": run.info.run_id,
        "model_uri": tags.get(t.MODEL_URI, ""),
        "dataset": tags.get(t.DATASET, ""),
        "passed": tags.get(t.EVAL_PASSED, "?"),
        "metrics": {m: round(values[m], 4) for m in HEADLINE if m in values},
    }
