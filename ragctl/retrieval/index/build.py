"""A collection's search index, built from its chunks as Chroma holds them (texts, metadata, vectors): all
of them, or (of_corpus) those a Corpus holds, which update.py merges into an earlier index."""

from __future__ import annotations

from typing import Any

from ragctl.retrieval.index.model import SearchIndex


def build(collection: Any, digest: str = "") -> SearchIndex:
    from ragctl.retrieval import corpus

    return of_corpus(corpus.load(collection, vectors=True), digest)


def of_corpus(chunks: Any, digest: str = "") -> SearchIndex:
    import numpy as np

    from ragctl.retrieval.keyword import KeywordIndex
    from ragctl.retrieval.parts import PartIndex

    rows = chunks.rows_by_file()
    files = list(rows)
    starts = np.asarray([rows[f].start for f in files] + [len(chunks.ids)], dtype=np.int64)
    width = max((len(i.encode()) for i in chunks.ids), default=1)
    vectors = chunks.vectors if chunks.vectors is not None else np.zeros((0, 0), dtype=np.float32)
    return SearchIndex(
        ids=np.asarray([i.encode() for i in chunks.ids], dtype=f"S{width}"),
        files=files,
        starts=starts,
        titles=chunks.titles(),
        pages=np.asarray([_page(m) for m in chunks.metadatas], dtype=np.int32),
        vectors=vectors.astype(np.float32, copy=False),
        keyword=KeywordIndex.of_texts(chunks.texts),
        parts=PartIndex(chunks.metadatas).under,
        digest=digest,
    )


def _page(metadata: dict[str, Any]) -> int:
    page = metadata.get("page")
    return int(page) if isinstance(page, int) or (isinstance(page, str) and page.isdigit()) else -1
