"""monitor: the recent answers of served versions, scored without gold (production has none): latency,
abstentions, retrieval similarity, citations, end users' thumbs, and the judge's groundedness and relevance
when `evaluation.judge` is set; logged as a monitor run so the figures
plot over time in MLflow. The thumbs-down answers and the weakest by retrieval similarity go to a review
queue, where experts can say what the right answer was (and `dataset from-reviews` makes it a QA item)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from ragctl import tracing
from ragctl.errors import UsageError
from ragctl.evaluation.aggregate import percentile
from ragctl.records import reviews, runs
from ragctl.records import tags as t
from ragctl.session import Session

_SINCE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds(since: str) -> float:
    found = _SINCE.match(since)
    if not found or not float(found[1]):
        raise UsageError(f"--since {since!r}: give a duration above zero, like 30m, 24h or 7d")
    return float(found[1]) * _UNIT[found[2]]


@dataclass
class Served:
    trace_id: str
    version: str
    question: str
    answer: str
    seconds: float
    similarity: float | None
    abstained: bool
    cited: bool
    rating: bool | None  # the latest end-user thumbs: True up, False down


@dataclass
class MonitorResult:
    run_id: str
    experiment_id: str
    since: str
    traces: int
    metrics: dict[str, float] = field(default_factory=dict)
    by_version: dict[str, int] = field(default_factory=dict)
    queued: list[str] = field(default_factory=list)  # trace ids sent for review
    queue: str = ""


def _served(trace: Any) -> Served:
    spans = trace.data.spans
    root = next((s for s in spans if s.parent_id is None), None)
    retrieval = next((s for s in spans if str(s.span_type) == "RETRIEVER"), None)
    outputs = root.outputs if root is not None and isinstance(root.outputs, dict) else {}
    inputs = root.inputs if root is not None and isinstance(root.inputs, dict) else {}
    similarity = retrieval.get_attribute(tracing.SIMILARITY) if retrieval is not None else None
    ratings = sorted(
        (a for a in trace.info.assessments or [] if a.name == reviews.USER_RATING and a.valid is not False),
        key=lambda a: a.last_update_time_ms or 0,
    )
    return Served(
        trace.info.trace_id,
        trace.info.tags.get(tracing.SERVED_VERSION, "?"),
        str(inputs.get("question", "")),
        str(outputs.get("answer", "")),
        (trace.info.execution_duration or 0) / 1000,
        float(similarity) if similarity is not None else None,
        bool(root is not None and root.get_attribute(tracing.ABSTAINED)),
        bool(outputs.get("citation")),
        bool(ratings[-1].value) if ratings else None,
    )


def figures(found: list[Served]) -> dict[str, float]:
    if not found:
        return {"traces": 0}
    latency = [s.seconds for s in found]
    similar = [s.similarity for s in found if s.similarity is not None]
    rated = [s.rating for s in found if s.rating is not None]
    out = {
        "traces": len(found),
        "latency_p50": percentile(latency, 50) or 0.0,
        "latency_p95": percentile(latency, 95) or 0.0,
        "abstain_rate": sum(s.abstained for s in found) / len(found),
        "citation_rate": sum(s.cited for s in found) / len(found),
        "thumbs_up": sum(r is True for r in rated),
        "thumbs_down": sum(r is False for r in rated),
    }
    if similar:
        out["similarity_mean"] = sum(similar) / len(similar)
        out["similarity_min"] = min(similar)
    if rated:
        out["thumbs_down_rate"] = out["thumbs_down"] / len(rated)
    return out


JUDGED_IN_PRODUCTION = ("groundedness", "relevance")  # correctness needs a gold answer production lacks


def judged(session: Session, traces: list[Any]) -> dict[str, float]:
    """The configured judge's yes-rate on the window's answers, per judge metric that needs no gold."""
    from ragctl.components.http import check_endpoints
    from ragctl.env import patched
    from ragctl.evaluation.scorers import judge_of, judge_settings

    judge = session.config.evaluation.judge
    names = [m for m in (judge.metrics if judge else []) if m in JUDGED_IN_PRODUCTION]
    if judge is None or not names or not traces:
        return {}
    check_endpoints({"evaluation": session.config.evaluation.model_dump()})
    out: dict[str, float] = {}
    with patched(judge_settings(judge)):
        for name in names:
            scorer, verdicts, unjudged = judge_of(judge, name), [], 0
            for trace in traces:
                try:
                    said = scorer(trace=trace)
                except Exception:  # MLflow raises when it cannot parse the judge's reply: counted unjudged
                    said = None
                for feedback in said if isinstance(said, list) else [said]:
                    value = str(getattr(feedback, "value", "") or "").strip().lower()
                    if value in ("yes", "no"):
                        verdicts.append(value == "yes")
                    else:
                        unjudged += 1
            out[f"judge_{name}_judged"], out[f"judge_{name}_unjudged"] = len(verdicts), unjudged
            if verdicts:
                out[f"judge_{name}_yes_rate"] = sum(verdicts) / len(verdicts)
    return out


def run(session: Session, since: str = "24h", worst: int = 5, reviewers: list[str] | None = None) -> MonitorResult:
    import mlflow

    window = seconds(since)
    start = int((time.time() - window) * 1000)
    name = session.config.registry.model_name
    query = f"trace.timestamp_ms > {start} AND tags.`{tracing.SERVED_MODEL}` = '{name}'"
    traces = mlflow.search_traces(locations=[session.experiment_id], filter_string=query, return_type="list")
    found = [_served(trace) for trace in traces]
    down = [s for s in found if s.rating is False]
    weakest = sorted(
        (s for s in found if s.similarity is not None and s.rating is not False), key=lambda s: s.similarity or 0
    )
    picked = list(dict.fromkeys(s.trace_id for s in [*down, *weakest[:worst]]))
    queue_name = f"{name} production"
    tags = {t.MODEL_NAME: name, t.REVIEW_QUEUE: queue_name}
    with runs.stage_run(session, "monitor", tags) as active:
        metrics = figures(found) | judged(session, traces)
        mlflow.log_metrics(metrics)
        mlflow.log_params({"since": since, "worst": worst})
        if picked:
            from mlflow.genai import review_queues as rq

            queue = reviews.open_queue(session, queue_name, reviewers or [])
            rq.add_items_to_review_queue(queue.queue_id, item_ids=picked)
        mlflow.log_dict({"traces": [vars(s) for s in found], "queued": picked}, "monitor/traces.json")
        by_version: dict[str, int] = {}
        for s in found:
            by_version[s.version] = by_version.get(s.version, 0) + 1
        return MonitorResult(
            active.info.run_id,
            active.info.experiment_id,
            since,
            len(found),
            metrics,
            by_version,
            picked,
            queue_name if picked else "",
        )
