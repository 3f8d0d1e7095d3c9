"""Which parts of a document a question names ("the cash flow statement", "the balance sheet", "Note 7",
"Item 7", "segment information") and which pages lie under them (retrieval.part_filter), as titles.py does
for whole documents. The index is the section headings chunking.sections keeps with every chunk: a page is
under a part when a heading on it, or the heading path one of its chunks carries in from earlier pages,
names it. Statements go by several names (documents/statements.py)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_OTHER = {
    "segment information": re.compile(r"\bsegments? (?:information|results|reporting|data)|\bbusiness segments?\b")
}
_NUMBERED = re.compile(r"\b(note|item)\s+(\d{1,2}[a-z]?)\b")


def named(text: str) -> set[str]:
    """The parts a question, or a heading path, names."""
    from ragctl.documents.statements import normal, statements

    lowered = normal(text)
    found = statements(lowered) | {part for part, pattern in _OTHER.items() if pattern.search(lowered)}
    return found | {f"{kind} {number}" for kind, number in _NUMBERED.findall(lowered)}


class PartIndex:
    """The pages under each part, as positions of their chunks in the corpus (`under`: part -> positions)."""

    def __init__(self, metadatas: Iterable[dict[str, Any]] = (), under: dict[str, Any] | None = None) -> None:
        import numpy as np

        if under is not None:  # as the search index saved it
            self.under = under
            return
        from ragctl.retrieval.pages import page_of

        pages: dict[tuple[str, Any], list[int]] = {}
        parts_of_page: dict[tuple[str, Any], set[str]] = {}
        for position, metadata in enumerate(metadatas):
            page = page_of(metadata)
            pages.setdefault(page, []).append(position)
            headings = f"{metadata.get('section') or ''} | {metadata.get('headings') or ''}"
            parts_of_page.setdefault(page, set()).update(named(headings))
        gathered: dict[str, list[int]] = {}
        for page, parts in parts_of_page.items():
            for part in parts:
                gathered.setdefault(part, []).extend(pages[page])
        self.under = {part: np.asarray(sorted(positions), dtype=np.int64) for part, positions in gathered.items()}

    def __bool__(self) -> bool:
        return bool(self.under)

    def positions(self, question: str) -> dict[str, Any]:
        """part -> the chunk positions of the pages under it, for each part the question names that the
        collection has."""
        return {part: self.under[part] for part in sorted(named(question)) if part in self.under}
