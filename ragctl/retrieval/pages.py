"""Pages instead of chunks (retrieval.unit: page): the fused chunk candidates grouped by the page they come
from, each page scored by the sum of its chunks' scores, so a page that several searches and several of its
chunks point to ranks above a page with one lucky chunk (CombSUM, Fox & Shaw 1994). Each page is shown by its
best chunk, so the prompt holds as many chunks as before, from top_k different pages."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

Ranked = list[tuple[str, float]]  # chunk id, score; best first


def page_of(metadata: dict[str, Any]) -> tuple[str, Any]:
    """The page a chunk belongs to; a chunk of a file without pages is its own file's single page."""
    return str(metadata.get("file")), metadata.get("page")


def best_pages(ranked: Sequence[tuple[str, float]], metadata: Callable[[str], dict[str, Any]]) -> Ranked:
    """(best chunk of the page, page score) for every page among the candidates, best page first; ties keep
    the order the pages were first reached in."""
    totals: dict[tuple[str, Any], float] = {}
    best: dict[tuple[str, Any], str] = {}
    for chunk_id, score in ranked:  # best chunk first, so the first chunk seen of a page is its best
        page = page_of(metadata(chunk_id))
        totals[page] = totals.get(page, 0.0) + score
        best.setdefault(page, chunk_id)
    return sorted(((best[page], total) for page, total in totals.items()), key=lambda pair: -pair[1])
