"""One QA item: the record checked field by field, and the set it belongs to with its digest."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

from ragctl.digests import digest


@dataclass
class Item:
    id: str
    question: str
    answers: list[str]
    sources: list[dict[str, Any]]
    answerable: bool = True
    tags: dict[str, str] = field(default_factory=dict)
    where: str = ""  # file:line, for messages
    invalid: str = ""  # why it cannot be scored (e.g. its source file is not in the collection)

    def expectations(self) -> dict[str, Any]:
        return {"answers": self.answers, "sources": self.sources, "answerable": self.answerable}


def digest_of(items: list[Item]) -> str:
    return digest([asdict(i) | {"where": "", "invalid": ""} for i in items])


@dataclass
class Dataset:
    name: str
    source: str
    items: list[Item]
    # The digest of the whole QA set when a limit took its first items: an evaluation of the whole set holds
    # a row for each of them.
    whole_digest: str | None = None

    @property
    def digest(self) -> str:
        return digest_of(self.items)

    @property
    def valid(self) -> list[Item]:
        return [i for i in self.items if not i.invalid]


PLACEHOLDER = "Replace me:"  # how the questions of the QA-set template (templates/qa.jsonl) begin


def item_from(raw: dict[str, Any], where: str) -> Item:
    """Validate one record; ValueError says which field is wrong."""
    question = raw.get("question")
    if not isinstance(question, str) or not question.strip():
        raise ValueError("'question' must be a non-empty string")
    if question.startswith(PLACEHOLDER):  # scored, it would fail the gate for a reason no one could see
        raise ValueError(
            "still the placeholder `ragctl init` wrote: replace it with a question your documents answer "
            "(or make some with `ragctl dataset generate`)"
        )
    answerable = raw.get("answerable", True)
    if isinstance(answerable, str):
        answerable = answerable.strip().lower() not in ("false", "0", "no")
    answers = raw.get("answers")
    if answers in (None, "", []):
        answers = [raw["answer"]] if raw.get("answer") not in (None, "") else []
    if isinstance(answers, str):
        answers = [answers]
    if not isinstance(answers, list) or not all(isinstance(a, (str, int, float)) for a in answers):
        raise ValueError("'answers' must be a list of strings")
    if answerable and not answers:
        raise ValueError("needs 'answer' (string) or 'answers' (list), or 'answerable': false")
    sources = raw.get("sources") or []
    if not isinstance(sources, list) or not all(
        isinstance(s, dict) and isinstance(s.get("file"), str) for s in sources
    ):
        raise ValueError('\'sources\' must be a list of {"file": ..., "page": ...}')
    for s in sources:
        if s.get("page") is not None and not isinstance(s["page"], int):
            raise ValueError(f"'sources': page of {s['file']} must be an integer")
    tags = raw.get("tags") or {}
    if isinstance(tags, list):
        tags = {str(t): "true" for t in tags}
    if not isinstance(tags, dict):
        raise ValueError("'tags' must be an object of name: value (or a list of names)")
    item_id = str(raw.get("id") or hashlib.sha256(question.encode()).hexdigest()[:16])
    return Item(
        id=item_id,
        question=question,
        answers=[str(a) for a in answers],
        sources=[{"file": s["file"], **({"page": s["page"]} if s.get("page") is not None else {})} for s in sources],
        answerable=bool(answerable),
        tags={str(k): str(v) for k, v in tags.items()},
        where=where,
    )
