"""Expert review, in MLflow's own machinery: ragctl's questions for a reviewer are label schemas, a registered
version's candidates wait in a review queue named for it, and what reviewers answer are HUMAN assessments on
the queue's traces (MLflow's Review page writes them: the schema's name, the reviewer as source, a comment
as the rationale).

The review run (stage `review`) is the record that ties them together: the queue, the version, and each
item's question with its QA-set gold, which the agreement figures need and reviewers should not see.

Its steps: `schemas` (the questions), `queues` (a version's queue), `items` (what reviewers answered),
`verdicts` (the majority and a queue's counts), `ratings` (end users' thumbs on served answers).
"""

from ragctl.records.reviews.items import Answer, Reviewed, items
from ragctl.records.reviews.queues import find_queue, open_queue, queue_name, queued_ids
from ragctl.records.reviews.ratings import rate
from ragctl.records.reviews.schemas import (
    CORRECT,
    EXPECTED,
    ITEMS_ARTIFACT,
    SCHEMAS,
    SOURCE,
    SUPPORTED,
    USER_RATING,
    VERDICTS,
    schema_ids,
)
from ragctl.records.reviews.verdicts import Tally, majority, tally

__all__ = [
    "CORRECT",
    "EXPECTED",
    "ITEMS_ARTIFACT",
    "SCHEMAS",
    "SOURCE",
    "SUPPORTED",
    "USER_RATING",
    "VERDICTS",
    "Answer",
    "Reviewed",
    "Tally",
    "find_queue",
    "items",
    "majority",
    "open_queue",
    "queue_name",
    "queued_ids",
    "rate",
    "schema_ids",
    "tally",
]
