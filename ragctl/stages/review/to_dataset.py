"""dataset from-reviews: what experts said becomes QA items. An expected answer a reviewer wrote is the gold;
an answer the experts' majority judged correct is itself the gold; an answer judged wrong with no expected
answer is listed, never guessed. Sources: the reviewer's "right source", else the cited one when reviewers
said the sources support the answer, else the QA set's. A later round replaces its items by id."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragctl.errors import DatasetError
from ragctl.evaluation import datasets
from ragctl.records import reviews, runs
from ragctl.records import tags as t
from ragctl.session import Session

# "normans.pdf p. 2", "normans.pdf, page 2", "normans.pdf#2", "normans.pdf"
_SOURCE = re.compile(r"^\s*(?P<file>.+?)(?:\s*(?:[,;#]|\s)\s*(?:p\.?|page)?\s*(?P<page>\d+))?\s*$", re.IGNORECASE)


@dataclass
class Unresolved:
    trace_id: str
    question: str
    why: str


@dataclass
class FromReviews:
    run_id: str
    queue: str
    output: str
    written: int  # items in the file now
    added: int
    replaced: int
    unresolved: list[Unresolved] = field(default_factory=list)
    mlflow_dataset: str | None = None


def source_of(text: str) -> dict[str, Any] | None:
    found = _SOURCE.match(text or "")
    if not found or not found["file"].strip():
        return None
    page = found["page"]
    return {"file": found["file"].strip(), **({"page": int(page)} if page else {})}


def item_of(reviewed: reviews.Reviewed) -> dict[str, Any] | str:
    """The QA item the reviews make, or why there is none."""
    said = [a for a in reviewed.answers.values() if a.correct or a.expected]
    if not said:
        return "not reviewed yet"
    expected = list(dict.fromkeys(a.expected for a in said if a.expected))
    votes = [a.correct == "yes" for a in said if a.correct]
    approved = bool(votes) and votes.count(True) * 2 > len(votes)
    if not expected and not approved:
        return "judged not correct, and no reviewer wrote the expected answer"
    sources = [s for s in (source_of(a.source or "") for a in said) if s]
    supported = [a.supported for a in said if a.supported]
    if not sources and supported and supported.count("yes") * 2 > len(supported) and reviewed.sources:
        sources = [{k: v for k, v in reviewed.sources[0].items() if k in ("file", "page") and v is not None}]
    if not sources:
        sources = list(reviewed.item.get("sources") or [])
    ident = reviewed.item.get("id") or reviewed.trace_id
    return {
        "id": str(ident),
        "question": reviewed.question,
        "answers": expected or [reviewed.answer],
        "sources": sources,
        "tags": {
            "reviewed": "true",
            "reviewer": ",".join(sorted(a.reviewer for a in said)),
            "trace_id": reviewed.trace_id,
        },
    }


def _existing(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    import json

    from ragctl.evaluation.datasets import read_text

    items = []
    for number, line in enumerate(read_text(path, "--output").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append(json.loads(line))
        except ValueError as exc:
            raise DatasetError(f"{path}:{number}: not JSON ({exc}); give a new -o or fix the line") from None
    return items


def run(session: Session, queue_name: str, output: Path, mlflow_dataset: str | None = None) -> FromReviews:
    import mlflow

    from ragctl.outputs import check_writable

    check_writable("--output", output)
    queue = reviews.find_queue(session, queue_name)
    found = reviews.items(session, queue)
    made, unresolved = [], []
    for reviewed in found:
        item = item_of(reviewed)
        if isinstance(item, str):
            if item != "not reviewed yet":
                unresolved.append(Unresolved(reviewed.trace_id, reviewed.question, item))
            continue
        made.append(item)
    before = _existing(output)
    by_id = {str(i.get("id")): i for i in before}
    replaced = sum(str(i["id"]) in by_id for i in made)
    merged = [*before, *(i for i in made if str(i["id"]) not in by_id)]
    fresh = {str(i["id"]): i for i in made}
    merged = [fresh.get(str(i.get("id")), i) for i in merged]
    with runs.stage_run(session, "dataset", {t.REVIEW_QUEUE: queue.name}) as active:
        datasets.write_jsonl(output, merged)
        if mlflow_dataset:
            datasets.to_mlflow(mlflow_dataset, active.info.experiment_id, made)
        mlflow.log_params({"from_reviews.queue": queue.name, "from_reviews.output": str(output)})
        mlflow.log_metrics({"items": len(merged), "added": len(made) - replaced, "unresolved": len(unresolved)})
        mlflow.log_artifact(str(output), "dataset")
    return FromReviews(
        active.info.run_id,
        queue.name,
        str(output),
        len(merged),
        len(made) - replaced,
        replaced,
        unresolved,
        mlflow_dataset,
    )
