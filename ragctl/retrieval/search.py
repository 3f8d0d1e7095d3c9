"""The chain's retriever. Dense candidates from Chroma and, in hybrid mode, BM25 candidates, fused by
reciprocal rank; when the question names documents by title (retrieval.title_filter), candidates come only
from those documents (restrict) or those documents' candidates are fused in a second time (boost).
With retrieval.unit page, the top k are the best k pages (retrieval/pages.py); with retrieval.part_filter, a
question that names the balance sheet or Note 7 searches the pages under those headings (retrieval/parts.py).
The best dense similarity is kept as the evidence the chain abstains on (retrieval.min_score).

Everything beyond Chroma's own vector search comes from the collection's search index (retrieval/index/),
saved by ingest and memory-mapped here, the kept chunks' text and metadata included (a dense-only chain
uses it for those when this machine has it, and reads them from Chroma when not). Within named
documents the dense search is exact, a matrix product over those documents' rows of the index's mapped
vectors (only those rows are read): Chroma's filtered search (by metadata or by ids) costs 20-65 ms here
and is approximate, a matrix product well under 1 ms (bench/README.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ragctl.config.model import RetrievalConfig


@dataclass
class Found:
    """The candidates of one search: what Chroma returned of them, and where the index found the others
    (their text is read from Chroma only if they are kept)."""

    read: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)  # id -> (text, metadata)
    positions: dict[str, int] = field(default_factory=dict)  # id -> corpus position


@dataclass
class Hits:
    nodes: list[Any]  # llama-index NodeWithScore, best first; score: cosine (dense) or fused (hybrid)
    best_similarity: float | None  # the top dense cosine similarity; None when the dense search found nothing
    files: list[str]  # the documents the question named (title_filter), or []
    parts: list[str] = field(default_factory=list)  # the parts of documents it named (part_filter), or []


class Retriever:
    def __init__(
        self, config: RetrievalConfig, embed_model: Any, collection: Any, llm: Any = None, store: Any = None
    ) -> None:
        """`store` (the vector_store settings) says where the collection's saved search index is; without
        it, or when it is not current, the index is built in memory (retrieval/index/find.py)."""
        from ragctl.retrieval.index.find import for_collection, on_disk
        from ragctl.retrieval.index.model import SearchIndex
        from ragctl.retrieval.parts import PartIndex
        from ragctl.retrieval.titles import TitleMatcher

        self.config = config
        self._embed = embed_model
        self._collection = collection
        by_title = config.title_filter != "off"
        by_part = config.part_filter != "off"
        self.index_source, self.index_note = "", ""
        self._index: SearchIndex | None = None
        needed = config.mode == "hybrid" or by_title or by_part
        found = for_collection(collection, store) if needed else on_disk(collection, store)
        if found is not None:
            self._index, self.index_source, self.index_note = found.index, found.source, found.note
        index = self._index
        self._keyword = index.keyword if config.mode == "hybrid" and index is not None and len(index) else None
        self._titles = TitleMatcher(index.titles) if by_title and index is not None else None
        self._parts = PartIndex(under=index.parts) if by_part and index is not None else None
        self._reranker = None
        self._threads: Any = None
        if config.rerank:
            from ragctl.retrieval import rerank

            self._reranker = rerank.create(config.rerank, llm)  # type llm: the chain's LLM judges candidates

    def search(self, question: str) -> Hits:
        import numpy as np

        config = self.config
        files = self._titles.files(question) if self._titles else []
        parts = self._parts.positions(question) if self._parts else {}
        boost = (bool(files) and config.title_filter == "boost") or bool(parts)
        wide = self._keyword or boost or config.unit == "page"
        width = max(config.candidates, config.top_k) if wide else config.top_k
        if config.rerank:
            width = max(width, config.rerank.candidates)
        found = Found()
        scope = self._rows_of(files) if files and config.title_filter == "restrict" else None
        # BM25 (~11 ms at 1,000,000 chunks) runs on another core while the question is embedded and Chroma
        # searched (~15 ms): numpy, the embedding runtime and Chroma let go of the GIL.
        keywords = self._pool().submit(self._keyword.search, question, width, scope) if self._keyword else None
        vector = self._embed.get_query_embedding(question)
        if scope is not None:
            dense, similarity = self._exact(vector, width, scope, found)
        else:
            dense, similarity = self._dense(vector, width, found)
        rankings = [dense]
        if keywords is not None:
            rankings.append([self._seen(position, found) for position, _ in keywords.result()])
        if files and config.title_filter == "boost":
            rankings += self._within(question, vector, width, self._rows_of(files), found, similarity)
        within_parts = []
        for positions in parts.values():  # a ranking for each part named: a ratio of two statements needs both
            if scope is not None:
                positions = np.intersect1d(positions, scope, assume_unique=True)
            if len(positions):
                within_parts += self._within(question, vector, width, positions, found, similarity)
        if within_parts and config.part_filter == "restrict":
            rankings = within_parts
        else:
            rankings += within_parts
        if len(rankings) == 1:
            ranked = [(chunk_id, similarity[chunk_id]) for chunk_id in rankings[0]]
        else:
            from ragctl.retrieval.fusion import rrf

            ranked = rrf(rankings, config.rrf_k)
        if config.unit == "page":
            from ragctl.retrieval.pages import best_pages

            ranked = best_pages(ranked, lambda chunk_id: self._metadata(chunk_id, found))
        if self._reranker:
            ranked = self._rerank(question, ranked, found)
        self._fill([chunk_id for chunk_id, _ in ranked[: config.top_k]], found)
        nodes = [self._node(chunk_id, score, *found.read[chunk_id]) for chunk_id, score in ranked[: config.top_k]]
        best = max((similarity[i] for i in dense), default=None)
        return Hits(nodes, best, files, sorted(parts) if within_parts else [])

    def _pool(self) -> Any:
        from concurrent.futures import ThreadPoolExecutor

        if self._threads is None:
            self._threads = ThreadPoolExecutor(1, thread_name_prefix="ragctl-bm25")
        return self._threads

    def _within(
        self, question: str, vector: list[float], width: int, positions: Any, found: Found, similarity: dict
    ) -> list[list[str]]:
        """The dense (exact) and, in hybrid mode, keyword rankings among the given chunks."""
        ids, scores = self._exact(vector, width, positions, found)
        for chunk_id, score in scores.items():
            similarity.setdefault(chunk_id, score)
        return [ids, *self._keywords(question, width, positions, found)]

    def _keywords(self, question: str, width: int, positions: Any, found: Found) -> list[list[str]]:
        return [self._bm25(question, width, positions, found)] if self._keyword else []

    def _rerank(self, question: str, ranked: list[tuple[str, float]], found: Found) -> list[tuple[str, float]]:
        """The best fused candidates, ordered by the reranker's relevance scores (in a RERANKER span)."""
        from ragctl import tracing
        from ragctl.retrieval.corpus import embedded_text

        assert self._reranker is not None
        pool = [chunk_id for chunk_id, _ in ranked[: self._reranker.config.candidates]]
        self._fill(pool, found)
        with tracing.span("rerank", "RERANKER", {"query": question, "candidates": len(pool)}) as span:
            scores = self._reranker.scores(question, [embedded_text(*found.read[chunk_id]) for chunk_id in pool])
            reranked = sorted(zip(pool, scores), key=lambda pair: -pair[1])
            span.set_outputs([{"id": chunk_id, "score": score} for chunk_id, score in reranked[: self.config.top_k]])
        return reranked

    def _rows_of(self, files: list[str]) -> Any:
        """The corpus positions of the named documents' chunks."""
        assert self._index is not None
        return self._index.rows(files)

    def _metadata(self, chunk_id: str, found: Found) -> dict[str, Any]:
        """A candidate's metadata: as Chroma returned it, or its file and page from the index."""
        if chunk_id in found.read:
            return found.read[chunk_id][1]
        assert self._index is not None
        file, page = self._index.page_of(found.positions[chunk_id])
        return {"file": file, "page": page}

    def _fill(self, chunk_ids: list[str], found: Found) -> None:
        """Text and metadata of the candidates not yet read: from the index's records when it keeps them
        (microseconds), else from Chroma (one read for all)."""
        missing = [chunk_id for chunk_id in chunk_ids if chunk_id not in found.read]
        index = self._index
        if missing and index is not None and index.texts is not None:
            for chunk_id in missing:
                position = found.positions.get(chunk_id)
                if position is None:  # a candidate of Chroma's own search
                    position = index.position(chunk_id)
                if position is not None:
                    found.read[chunk_id] = index.texts.get(position)
            missing = [chunk_id for chunk_id in missing if chunk_id not in found.read]
        if missing:
            got = self._collection.get(ids=missing, include=["documents", "metadatas"])
            for chunk_id, document, metadata in zip(got["ids"], got["documents"] or [], got["metadatas"] or []):
                found.read[chunk_id] = (document or "", dict(metadata or {}))

    def _dense(self, vector: list[float], width: int, found: Found) -> tuple[list[str], dict[str, float]]:
        """Chroma's approximate nearest neighbours over the whole collection, ids and distances only: only
        the kept ones are read after (`_fill`), at 1,000,000 chunks each candidate read from Chroma is a
        few pages of its SQLite file, often not in the page cache, and a wide search keeps a quarter of
        what it finds. Ranking by page needs every candidate's page: from the index, or read with them
        from an index without records."""
        index = self._index
        kept = index is not None and index.texts is not None  # every page is in the index
        by_page = self.config.unit == "page"
        wanted = ["documents", "metadatas", "distances"] if by_page and not kept else ["distances"]
        got = self._collection.query(query_embeddings=[vector], n_results=width, include=wanted)
        ids = got["ids"][0]
        if by_page and not kept:
            for chunk_id, document, metadata in zip(ids, got["documents"][0], got["metadatas"][0]):
                found.read[chunk_id] = (document or "", dict(metadata or {}))
        elif by_page and index is not None:
            for chunk_id in ids:
                if (position := index.position(chunk_id)) is not None:
                    found.positions[chunk_id] = position
            self._fill([chunk_id for chunk_id in ids if chunk_id not in found.positions], found)
        return ids, {i: 1.0 - float(d) for i, d in zip(ids, got["distances"][0])}  # cosine space

    def _exact(
        self, vector: list[float], width: int, positions: Any, found: Found
    ) -> tuple[list[str], dict[str, float]]:
        """Exact cosine search among the chunks at the given corpus positions (those of the named documents)."""
        import numpy as np

        assert self._index is not None
        query = np.asarray(vector, dtype=np.float32)
        query /= max(float(np.linalg.norm(query)), 1e-12)
        vectors = self._index.vectors
        if len(positions) and positions[-1] - positions[0] + 1 == len(positions):  # one document: a view, no copy
            scores = vectors[int(positions[0]) : int(positions[-1]) + 1] @ query
        else:
            scores = vectors[positions] @ query  # reads only these rows of the mapped vectors
        best = np.argsort(-scores)[:width] if len(scores) <= width else np.argpartition(-scores, width)[:width]
        best = best[np.argsort(-scores[best])]
        ids = []
        for index in best:
            ids.append(self._seen(int(positions[index]), found))
        return ids, {i: float(scores[b]) for i, b in zip(ids, best)}

    def _seen(self, position: int, found: Found) -> str:
        """The id of the chunk at `position`, noted as a candidate whose text is read later if it is kept."""
        assert self._index is not None
        chunk_id = self._index.id(position)
        found.positions[chunk_id] = position
        return chunk_id

    def _bm25(self, question: str, width: int, positions: Any, found: Found) -> list[str]:
        assert self._keyword is not None
        return [self._seen(position, found) for position, _score in self._keyword.search(question, width, positions)]

    @staticmethod
    def _node(chunk_id: str, score: float, document: str, metadata: dict[str, Any]) -> Any:
        from llama_index.core.schema import NodeWithScore
        from llama_index.core.vector_stores.utils import metadata_dict_to_node

        node = metadata_dict_to_node(metadata, text=document)
        node.id_ = chunk_id
        return NodeWithScore(node=node, score=score)
