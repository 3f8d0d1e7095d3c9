"""What the experts decided: the majority on one item, and a queue's counts."""

from __future__ import annotations

from dataclasses import dataclass, field

from ragctl.records import runs
from ragctl.records import tags as t
from ragctl.records.reviews.items import Reviewed, items
from ragctl.session import Session


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
