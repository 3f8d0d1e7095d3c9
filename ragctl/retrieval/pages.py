"""Pages instead of chunks (retrieval.unit: page): the fused chunk candidates grouped by the page they come
from and each page ranked by its best chunk, so the top k are k different pages, each shown by that chunk.
The prompt holds as many chunks as before, from top_k different pages; the first page is always the best
chunk's, so hit@1 is never lower than by chunks. Summing a page's chunk scores instead (CombSUM, and two
milder forms) was tried and lost page hit@1 on financebench-dev (bench/README.md)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

Ranked = list[tuple[str, float]]  # chunk id, score; best first


def page_of(metadata: dict[str, Any]) -> tuple[str, Any]:
    """The page a chunk belongs to; a chunk of a file without pages is its own file's single page."""
    return str(metadata.get("file")), metadata.get("page")


def best_pages(ranked: Sequence[tuple[str, float]], metadata: Callable[[str], dict[str, Any]]) -> Ranked:
    """(best chunk of the page, its score) for every page among the candidates, best page first."""
    seen: set[tuple[str, Any]] = set()
    pages = []
    for chunk_id, score in ranked:  # best chunk first, so the first chunk seen of a page is its best
        page = page_of(metadata(chunk_id))
        if page not in seen:
            seen.add(page)
            pages.append((chunk_id, score))
    return pages
