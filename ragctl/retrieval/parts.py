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
        if under is not None:  # as the search index saved it
            self.under = under
            return
        from ragctl.retrieval.pages import page_of

        pages = PagesParts()
        for metadata in metadatas:
            pages.add(page_of(metadata), metadata)
        self.under = pages.under(range(len(pages.page_of_row)))

    def __bool__(self) -> bool:
        return bool(self.under)

    def positions(self, question: str) -> dict[str, Any]:
        """part -> the chunk positions of the pages under it, for each part the question names that the
        collection has."""
        return {part: self.under[part] for part in sorted(named(question)) if part in self.under}


class PagesParts:
    """Gathers, chunk by chunk in any order, the parts each page's headings name; under(positions) then
    gives each part's chunk positions, row r of what was added being at positions[r]."""

    def __init__(self) -> None:
        self.page_of_row: list[int] = []  # row -> its page's number
        self._numbers: dict[tuple[str, Any], int] = {}  # page -> its number
        self._parts: list[set[str]] = []  # page number -> the parts its headings name
        self._named: dict[str, set[str]] = {}  # heading path -> named(it): most chunks share a few

    def add(self, page: tuple[str, Any], metadata: dict[str, Any]) -> None:
        number = self._numbers.setdefault(page, len(self._numbers))
        if number == len(self._parts):
            self._parts.append(set())
        self.page_of_row.append(number)
        headings = f"{metadata.get('section') or ''} | {metadata.get('headings') or ''}"
        if headings not in self._named:
            self._named[headings] = named(headings)
        self._parts[number].update(self._named[headings])

    def under(self, positions: Any) -> dict[str, Any]:
        import numpy as np

        rows_of_page: list[list[int]] = [[] for _ in self._parts]
        for row, number in enumerate(self.page_of_row):
            rows_of_page[number].append(row)
        at = np.asarray(positions, dtype=np.int64)
        gathered: dict[str, list[Any]] = {}
        for number, parts in enumerate(self._parts):
            for part in parts:
                gathered.setdefault(part, []).append(at[rows_of_page[number]])
        return {part: np.sort(np.concatenate(found)) for part, found in gathered.items()}
