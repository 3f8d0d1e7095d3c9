"""The collection's chunks, read once when the chain loads: the text BM25 indexes (the embedded text: with
its title when chunking.context is on) and each file's title."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PAGE = 5000


@dataclass
class Corpus:
    ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # what was embedded: title + chunk
    metadatas: list[dict[str, Any]] = field(default_factory=list)
    vectors: Any = None  # unit-length float32 rows, when loaded (exact search within named documents)

    def titles(self) -> dict[str, str]:
        """file -> its title (or "" for collections ingested without chunking.context)."""
        return {str(m.get("file")): str(m.get("title") or "") for m in self.metadatas}

    def rows_by_file(self) -> dict[str, slice]:
        """file -> the rows of its chunks; load() keeps each file's chunks together, so a row block is a view."""
        rows: dict[str, slice] = {}
        start = 0
        for position in range(1, len(self.ids) + 1):
            if position == len(self.ids) or self.metadatas[position].get("file") != self.metadatas[start].get("file"):
                rows[str(self.metadatas[start].get("file"))] = slice(start, position)
                start = position
        return rows


def embedded_text(document: str, metadata: dict[str, Any]) -> str:
    """The text that was embedded for this chunk, rebuilt as llama-index built it at ingest."""
    from llama_index.core.schema import MetadataMode
    from llama_index.core.vector_stores.utils import metadata_dict_to_node

    return str(metadata_dict_to_node(metadata, text=document).get_content(MetadataMode.EMBED))


def load(collection: Any, vectors: bool = False, files: list[str] | None = None) -> Corpus:
    """Every chunk (or the chunks of `files`), grouped by file and in each file's chunk order. Read by id,
    PAGE at a time: Chroma's offset paging rescans what it skips (4.4 s a page at 500,000 chunks), a read
    by ids does not."""
    import numpy as np

    corpus = Corpus()
    if files is not None and not files:
        return corpus
    include = ["documents", "metadatas", *(["embeddings"] if vectors else [])]
    where = None if files is None else {"file": {"$in": list(files)}}
    every = collection.get(where=where, include=[])["ids"]  # ids alone: one call, ~10 s at 1,000,000 chunks
    matrix: Any = None  # filled a page at a time: at 1,000,000 chunks it is 1.5 GB, so held once
    for start in range(0, len(every), PAGE):
        got = collection.get(ids=every[start : start + PAGE], include=include)
        for chunk_id, document, metadata in zip(got["ids"], got["documents"] or [], got["metadatas"] or []):
            kept = dict(metadata or {})
            corpus.ids.append(chunk_id)
            corpus.metadatas.append(kept)
            corpus.texts.append(embedded_text(document or "", kept))
        if vectors and len(got["ids"]):
            page = np.asarray(got["embeddings"], dtype=np.float32).reshape(len(got["ids"]), -1)
            if matrix is None:
                matrix = np.empty((len(every), page.shape[1]), dtype=np.float32)
            matrix[len(corpus.ids) - len(page) : len(corpus.ids)] = page  # row i is corpus.ids[i]
    # One order whatever order Chroma returns them in, so every reader of a collection ranks ties alike.
    order = sorted(range(len(corpus.ids)), key=lambda i: _place(corpus.metadatas[i], corpus.ids[i]))
    for name in ("ids", "texts", "metadatas"):
        setattr(corpus, name, [getattr(corpus, name)[i] for i in order])
    if matrix is not None:
        matrix = matrix[: len(corpus.ids)][order]
        matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
        corpus.vectors = matrix
    return corpus


def _place(metadata: dict[str, Any], chunk_id: str) -> tuple[str, int, str]:
    index = metadata.get("chunk_index")
    return str(metadata.get("file")), index if isinstance(index, int) else 0, chunk_id
