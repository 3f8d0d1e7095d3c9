"""A queue's items as reviewers left them: the trace's question and answer, the QA-set gold, each answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ragctl.records import runs
from ragctl.records import tags as t
from ragctl.records.reviews.schemas import CORRECT, EXPECTED, ITEMS_ARTIFACT, SOURCE, SUPPORTED
from ragctl.session import Session


@dataclass
class Answer:
    """One reviewer's answers on one item (None: not answered)."""

    reviewer: str
    correct: str | None = None
    supported: str | None = None
    expected: str | None = None
    source: str | None = None
    comment: str | None = None


@dataclass
class Reviewed:
    """One queue item: its trace, the question and answer it shows, the QA-set gold, and the answers."""

    trace_id: str
    status: str
    question: str = ""
    answer: str = ""
    sources: list[dict[str, Any]] = field(default_factory=list)
    citation: dict[str, Any] | None = None  # the source the answer cites, when it cites one
    item: dict[str, Any] = field(default_factory=dict)  # from the review run: id, gold answers and sources
    answers: dict[str, Answer] = field(default_factory=dict)  # by reviewer


def items(session: Session, queue: Any) -> list[Reviewed]:
    """Every item of the queue with what each reviewer answered (the latest valid answer per question)."""
    known = items_of_runs(session, queue.name)
    return [_reviewed(session, item, known.get(item.item_id, {})) for item in queued(queue)]


def queued(queue: Any) -> list[Any]:
    """The queue's items, every page of them."""
    from mlflow.genai import review_queues as rq

    found, token = [], None
    while True:
        page = rq.list_review_queue_items(queue.queue_id, page_token=token)
        found += list(page)
        token = page.token
        if not token:
            return found


def items_of_runs(session: Session, queue: str) -> dict[str, dict[str, Any]]:
    known: dict[str, dict[str, Any]] = {}
    for run in reversed(runs.search(session, "review", {t.REVIEW_QUEUE: queue})):
        for item in (runs.load_artifact(run, ITEMS_ARTIFACT) or {}).get("items", []):
            known[item["trace_id"]] = item
    return known


def _reviewed(session: Session, item: Any, known: dict[str, Any]) -> Reviewed:
    trace = session.mlflow.get_trace(item.item_id)
    root = next((s for s in trace.data.spans if s.parent_id is None), None)
    outputs = root.outputs if root is not None and isinstance(root.outputs, dict) else {}
    inputs = root.inputs if root is not None and isinstance(root.inputs, dict) else {}
    found = Reviewed(
        item.item_id,
        str(getattr(item.status, "value", item.status)),
        str(inputs.get("question") or known.get("question", "")),
        str(outputs.get("answer", "")),
        list(outputs.get("sources") or []),
        outputs.get("citation") if isinstance(outputs.get("citation"), dict) else None,
        known,
    )
    fields = {CORRECT: "correct", SUPPORTED: "supported", EXPECTED: "expected", SOURCE: "source"}
    latest = sorted(trace.info.assessments or [], key=lambda a: a.last_update_time_ms or 0)
    for assessment in latest:
        kind = fields.get(assessment.name)
        source = assessment.source
        if kind is None or not assessment.valid or str(source.source_type) != "HUMAN":
            continue
        answer = found.answers.setdefault(source.source_id, Answer(source.source_id))
        value = assessment.value
        setattr(answer, kind, None if value in (None, "") else str(value))
        if kind == "correct" and assessment.rationale:
            answer.comment = assessment.rationale
    return found
