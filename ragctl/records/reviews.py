"""Expert review, in MLflow's own machinery: ragctl's questions for a reviewer are label schemas, a registered
version's candidates wait in a review queue named for it, and what reviewers answer are HUMAN assessments on
the queue's traces (MLflow's Review page writes them: the schema's name, the reviewer as source, a comment
as the rationale).

The review run (stage `review`) is the record that ties them together: the queue, the version, and each
item's question with its QA-set gold, which the agreement figures need and reviewers should not see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ragctl.errors import UsageError
from ragctl.records import runs
from ragctl.records import tags as t
from ragctl.session import Session

CORRECT = "ragctl_correct"
SUPPORTED = "ragctl_sources_support"
EXPECTED = "ragctl_expected_answer"
SOURCE = "ragctl_right_source"
ITEMS_ARTIFACT = "review/items.json"
USER_RATING = "ragctl_user_rating"  # an end user's thumbs up (true) or down (false) on a served answer
VERDICTS = ("yes", "partly", "no")

# name -> (kind, options or None for free text, instruction, comment box)
SCHEMAS: dict[str, tuple[str, tuple[str, ...] | None, str, bool]] = {
    CORRECT: ("feedback", VERDICTS, "Is the answer correct? (a comment is welcome)", True),
    SUPPORTED: ("feedback", ("yes", "no"), "Do the cited sources support the answer?", False),
    EXPECTED: ("expectation", None, "The answer you expected, if this one is not fully correct.", False),
    SOURCE: ("expectation", None, "The right source: file and page, e.g. 'normans.pdf p. 2'.", False),
}


def queue_name(model_name: str, version: str) -> str:
    return f"{model_name} v{version}"


def schema_ids(session: Session) -> list[str]:
    """ragctl's label schemas in the experiment, created on first use."""
    from mlflow.exceptions import MlflowException
    from mlflow.genai import label_schemas as ls

    ids = []
    for name, (kind, options, instruction, comment) in SCHEMAS.items():
        answer = ls.InputCategorical(options=list(options)) if options else ls.InputText()
        try:
            schema = ls.create_label_schema(
                name,
                type=kind,  # type: ignore[arg-type]
                input=answer,
                instruction=instruction,
                enable_comment=comment,
                experiment_id=session.experiment_id,
            )
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
            schema = ls.get_label_schema(name, experiment_id=session.experiment_id)
        ids.append(str(schema.schema_id))
    return ids


def open_queue(session: Session, name: str, reviewers: list[str]) -> Any:
    """The queue of this name (a later round adds its reviewers), created with ragctl's questions if new."""
    from mlflow.exceptions import MlflowException
    from mlflow.genai import review_queues as rq

    schemas = schema_ids(session)
    try:
        queue = rq.get_review_queue(name=name, experiment_id=session.experiment_id)
    except MlflowException:
        return rq.create_review_queue(
            name, queue_type="custom", users=reviewers, schema_ids=schemas, experiment_id=session.experiment_id
        )
    users = list(dict.fromkeys([*queue.users, *reviewers]))
    if users != list(queue.users):
        queue = rq.update_review_queue(queue.queue_id, users=users)
    return queue


def find_queue(session: Session, name: str | None) -> Any:
    """A queue by name, or the newest one a ragctl review run made in this experiment."""
    from mlflow.exceptions import MlflowException
    from mlflow.genai import review_queues as rq

    if name is None:
        latest = runs.latest(session, "review")
        if latest is None:
            raise UsageError("no review started in this experiment", "start one: ragctl review start --version N")
        name = latest.data.tags[t.REVIEW_QUEUE]
    try:
        return rq.get_review_queue(name=name, experiment_id=session.experiment_id)
    except MlflowException:
        known = [q.name for q in rq.list_review_queues(experiment_id=session.experiment_id)]
        raise UsageError(
            f"no review queue named {name!r} in experiment {session.config.project.experiment!r}",
            f"queues: {', '.join(known) or 'none'}",
        ) from None


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
    from mlflow.genai import review_queues as rq

    known = _items_of_runs(session, queue.name)
    found, token = [], None
    while True:
        page = rq.list_review_queue_items(queue.queue_id, page_token=token)
        found += list(page)
        token = page.token
        if not token:
            break
    return [_reviewed(session, item, known.get(item.item_id, {})) for item in found]


def _items_of_runs(session: Session, queue: str) -> dict[str, dict[str, Any]]:
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


def majority(item: Reviewed, question: str = "correct") -> bool | None:
    """The experts' majority on one of ragctl's questions ("correct": is the answer correct, "supported": do
    the cited sources support it): True (yes), False (partly or no), None (a tie, or no verdict yet)."""
    said = [getattr(a, question) for a in item.answers.values()]
    votes = [v == "yes" for v in said if v]
    if not votes or votes.count(True) * 2 == len(votes):
        return None
    return votes.count(True) * 2 > len(votes)


@dataclass
class Tally:
    queue: str
    items: int
    reviewed: int  # items with at least one verdict
    approved: int  # items whose majority says correct
    runs: list[str] = field(default_factory=list)  # the review runs that filled the queue

    @property
    def share(self) -> float:
        return self.approved / self.reviewed if self.reviewed else 0.0


def tally(session: Session, name: str) -> Tally | None:
    """A queue's counts, or None when there is no queue of that name."""
    from mlflow.exceptions import MlflowException
    from mlflow.genai import review_queues as rq

    try:
        queue = rq.get_review_queue(name=name, experiment_id=session.experiment_id)
    except MlflowException:
        return None
    found = items(session, queue)
    reviewed = [i for i in found if any(a.correct for a in i.answers.values())]
    made = [r.info.run_id for r in runs.search(session, "review", {t.REVIEW_QUEUE: name})]
    return Tally(name, len(found), len(reviewed), sum(majority(i) is True for i in reviewed), made)


def rate(session: Session, trace_id: str, up: bool, comment: str | None, user: str) -> Any:
    """Record an end user's verdict on an answer as a HUMAN feedback assessment on its trace."""
    import mlflow
    from mlflow.entities import AssessmentSource
    from mlflow.exceptions import MlflowException

    _ = session.experiment_id  # the tracking store is set up
    try:
        session.mlflow.get_trace(trace_id)
    except MlflowException:
        raise UsageError(
            f"no trace {trace_id!r} in the tracking store", "pass the trace_id a served answer returned"
        ) from None
    source = AssessmentSource(source_type="HUMAN", source_id=user)
    return mlflow.log_feedback(trace_id=trace_id, name=USER_RATING, value=up, rationale=comment or None, source=source)
