"""The collection's chunks as Chroma holds them, read a page at a time (ids, the text BM25 indexes: the
embedded text, with its title when chunking.context is on; the stored text, metadata, vectors), so
whoever reduces them to what they keep (index/build.py) never holds a million texts and metadata dicts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

PAGE = 5000


@dataclass
class Page:
    ids: list[str]
    texts: list[str]  # what was embedded: title + chunk
    metadatas: list[dict[str, Any]]
    vectors: Any = None  # float32 rows, one per id, when asked for (as stored: not normalised)
    documents: list[str] = field(default_factory=list)  # the chunks' text as stored


def pages(collection: Any, vectors: bool = False, files: list[str] | None = None, size: int = PAGE) -> Iterator[Page]:
    """Every chunk (or the chunks of `files`) in pages of `size`, in no particular order. Read by id: Chroma's
    offset paging rescans what it skips (4.4 s a page at 500,000 chunks), a read by ids does not."""
    import numpy as np

    if files is not None and not files:
        return
    include = ["documents", "metadatas", *(["embeddings"] if vectors else [])]
    where = None if files is None else {"file": {"$in": list(files)}}
    every = collection.get(where=where, include=[])["ids"]  # ids alone: one call, ~10 s at 1,000,000 chunks
    for start in range(0, len(every), size):
        got = collection.get(ids=every[start : start + size], include=include)
        metadatas = [dict(m or {}) for m in got["metadatas"] or []]
        documents = [d or "" for d in got["documents"] or []]
        texts = [embedded_text(d, m) for d, m in zip(documents, metadatas)]
        found = None
        if vectors and len(got["ids"]):
            found = np.asarray(got["embeddings"], dtype=np.float32).reshape(len(got["ids"]), -1)
        yield Page(list(got["ids"]), texts, metadatas, found, documents)


def embedded_text(document: str, metadata: dict[str, Any]) -> str:
    """The text that was embedded for this chunk, rebuilt as llama-index built it at ingest."""
    from llama_index.core.schema import MetadataMode
    from llama_index.core.vector_stores.utils import metadata_dict_to_node

    return str(metadata_dict_to_node(metadata, text=document).get_content(MetadataMode.EMBED))


def chunk_index(metadata: dict[str, Any]) -> int:
    """The chunk's place in its file (corpus order: by file, then this, then id)."""
    index = metadata.get("chunk_index")
    return index if isinstance(index, int) else 0
