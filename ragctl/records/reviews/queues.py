"""A registered version's review queue: named for it, opened (or joined by a later round's reviewers), found."""

from __future__ import annotations

from typing import Any

from ragctl.errors import UsageError
from ragctl.records import runs
from ragctl.records import tags as t
from ragctl.records.reviews.items import items_of_runs, queued
from ragctl.records.reviews.schemas import schema_ids
from ragctl.session import Session


def queue_name(model_name: str, version: str) -> str:
    return f"{model_name} v{version}"


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


def queued_ids(session: Session, name: str) -> set[str]:
    """The QA-item ids already in the named queue (none when there is no such queue yet)."""
    from mlflow.exceptions import MlflowException
    from mlflow.genai import review_queues as rq

    try:
        queue = rq.get_review_queue(name=name, experiment_id=session.experiment_id)
    except MlflowException:
        return set()
    known = items_of_runs(session, name)
    return {known[i.item_id]["id"] for i in queued(queue) if i.item_id in known}
