"""A collection's search index, built from its chunks as Chroma holds them (texts, metadata, vectors): all
of them, or those of some files (which update.py merges into an earlier index).

Each page Chroma returns is reduced at once to what the index keeps (id, place, page, title, the parts its
headings name, BM25 token ids, vector; its text and metadata compressed into a temporary file) and its
texts and metadata dicts dropped, so the build holds the index's own arrays, not a million of them.
Pages come in no particular order; the rows are put in corpus order (by file, then chunk_index, then id)
at the end."""

from __future__ import annotations

from typing import Any

from ragctl.retrieval.corpus import PAGE
from ragctl.retrieval.index.model import SearchIndex


def build(collection: Any, digest: str = "", files: list[str] | None = None, page: int = PAGE) -> SearchIndex:
    """The index of every chunk, or of the chunks of `files`; `page`: chunks read from Chroma at a time."""
    import numpy as np

    from ragctl.retrieval import corpus
    from ragctl.retrieval.index.texts import Spool
    from ragctl.retrieval.keyword import KeywordIndex, Tokens
    from ragctl.retrieval.pages import page_of
    from ragctl.retrieval.parts import PagesParts

    ids: list[Any] = []
    file_of_row: list[str] = []
    places: list[int] = []
    page_numbers: list[int] = []
    titles: dict[str, str] = {}
    parts = PagesParts()
    tokens = Tokens()
    vectors: list[Any] = []
    spool = Spool()
    for got in corpus.pages(collection, vectors=True, files=files, size=page):
        for metadata in got.metadatas:
            file = str(metadata.get("file"))
            file_of_row.append(file)
            places.append(corpus.chunk_index(metadata))
            page_numbers.append(_page(metadata))
            titles[file] = str(metadata.get("title") or "")
            parts.add(page_of(metadata), metadata)
        ids.append(np.asarray([i.encode() for i in got.ids], dtype=bytes))
        tokens.add(got.texts)
        spool.add(got.documents, got.metadatas)
        if got.vectors is not None:
            vectors.append(got.vectors)
    if not file_of_row:
        return SearchIndex.empty(digest)
    files_sorted = sorted(set(file_of_row))
    rank = {f: i for i, f in enumerate(files_sorted)}
    file_rank = np.asarray([rank[f] for f in file_of_row], dtype=np.int64)
    del file_of_row
    chunk_ids = np.concatenate(ids)
    del ids
    order = np.lexsort((chunk_ids, np.asarray(places, dtype=np.int64), file_rank))  # the last key sorts first
    position = np.empty_like(order)
    position[order] = np.arange(len(order))  # row -> its place in corpus order
    counts = np.bincount(file_rank, minlength=len(files_sorted))
    ids_in_order = chunk_ids[order]
    return SearchIndex(
        ids=ids_in_order,
        files=files_sorted,
        starts=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        titles={f: titles[f] for f in files_sorted},
        pages=np.asarray(page_numbers, dtype=np.int32)[order],
        vectors=_in_order(vectors, position),
        keyword=KeywordIndex.of_tokens(*tokens.result(order)),
        parts=dict(sorted(parts.under(position).items())),
        digest=digest,
        texts=spool.in_order(order),
        by_id=np.argsort(ids_in_order, kind="stable"),
    )


def _in_order(pages: list[Any], position: Any) -> Any:
    """The pages' rows, row r at position[r], each of unit length; a page is freed once it is placed, so
    the rows are held about once (1.5 GB at 1,000,000 chunks)."""
    import numpy as np

    if not pages:
        return np.zeros((0, 0), dtype=np.float32)
    matrix = np.empty((len(position), pages[0].shape[1]), dtype=np.float32)
    first = 0
    while pages:
        rows = pages.pop(0)
        matrix[position[first : first + len(rows)]] = rows
        first += len(rows)
        del rows
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    return matrix


def _page(metadata: dict[str, Any]) -> int:
    page = metadata.get("page")
    return int(page) if isinstance(page, int) or (isinstance(page, str) and page.isdigit()) else -1
