"""The chain's retriever. Dense candidates from Chroma and, in hybrid mode, BM25 candidates, fused by
reciprocal rank; when the question names documents by title (retrieval.title_filter), candidates come only
from those documents (restrict) or those documents' candidates are fused in a second time (boost).
With retrieval.unit page, the top k are the best k pages (retrieval/pages.py); with retrieval.part_filter, a
question that names the balance sheet or Note 7 searches the pages under those headings (retrieval/parts.py).
The best dense similarity is kept as the evidence the chain abstains on (retrieval.min_score).

Within named documents the dense search is exact, over the chunk vectors held in memory: Chroma's
metadata-filtered search costs ~65 ms at 50,000 chunks here, a matrix product over the documents' rows
well under 1 ms (bench/README.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ragctl.config.model import RetrievalConfig

Found = dict[str, tuple[str, dict[str, Any]]]  # chunk id -> (text, metadata) of every candidate seen


@dataclass
class Hits:
    nodes: list[Any]  # llama-index NodeWithScore, best first; score: cosine (dense) or fused (hybrid)
    best_similarity: float | None  # the top dense cosine similarity; None when the dense search found nothing
    files: list[str]  # the documents the question named (title_filter), or []
    parts: list[str] = field(default_factory=list)  # the parts of documents it named (part_filter), or []


class Retriever:
    def __init__(self, config: RetrievalConfig, embed_model: Any, collection: Any, llm: Any = None) -> None:
        from ragctl.retrieval import corpus
        from ragctl.retrieval.keyword import KeywordIndex
        from ragctl.retrieval.parts import PartIndex
        from ragctl.retrieval.titles import TitleMatcher

        self.config = config
        self._embed = embed_model
        self._collection = collection
        by_title = config.title_filter != "off"
        by_part = config.part_filter != "off"
        needs_corpus = config.mode == "hybrid" or by_title or by_part
        self._corpus = corpus.load(collection, vectors=by_title or by_part) if needs_corpus else corpus.Corpus()
        self._rows = self._corpus.rows_by_file() if by_title else {}
        self._keyword = KeywordIndex(self._corpus.texts) if config.mode == "hybrid" and self._corpus.ids else None
        self._titles = TitleMatcher(self._corpus.titles()) if by_title else None
        self._parts = PartIndex(self._corpus.metadatas) if by_part else None
        self._reranker = None
        if config.rerank:
            from ragctl.retrieval import rerank

            self._reranker = rerank.create(config.rerank, llm)  # type llm: the chain's LLM judges candidates

    def search(self, question: str) -> Hits:
        import numpy as np

        config = self.config
        files = self._titles.files(question) if self._titles else []
        parts = self._parts.positions(question) if self._parts else {}
        vector = self._embed.get_query_embedding(question)
        boost = (bool(files) and config.title_filter == "boost") or bool(parts)
        wide = self._keyword or boost or config.unit == "page"
        width = max(config.candidates, config.top_k) if wide else config.top_k
        if config.rerank:
            width = max(width, config.rerank.candidates)
        found: Found = {}
        scope = self._rows_of(files) if files and config.title_filter == "restrict" else None
        if scope is not None:
            dense, similarity = self._exact(vector, width, scope, found)
        else:
            dense, similarity = self._dense(vector, width, found)
        rankings = [dense, *self._keywords(question, width, scope, found)]
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

            ranked = best_pages(ranked, lambda chunk_id: found[chunk_id][1])
        if self._reranker:
            ranked = self._rerank(question, ranked, found)
        nodes = [self._node(chunk_id, score, *found[chunk_id]) for chunk_id, score in ranked[: config.top_k]]
        best = max((similarity[i] for i in dense), default=None)
        return Hits(nodes, best, files, sorted(parts) if within_parts else [])

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
        with tracing.span("rerank", "RERANKER", {"query": question, "candidates": len(pool)}) as span:
            scores = self._reranker.scores(question, [embedded_text(*found[chunk_id]) for chunk_id in pool])
            reranked = sorted(zip(pool, scores), key=lambda pair: -pair[1])
            span.set_outputs([{"id": chunk_id, "score": score} for chunk_id, score in reranked[: self.config.top_k]])
        return reranked

    def _rows_of(self, files: list[str]) -> Any:
        """The corpus positions of the named documents' chunks."""
        import numpy as np

        return np.concatenate([np.arange(self._rows[f].start, self._rows[f].stop) for f in files])

    def _dense(self, vector: list[float], width: int, found: Found) -> tuple[list[str], dict[str, float]]:
        """Chroma's approximate nearest neighbours over the whole collection."""
        got = self._collection.query(
            query_embeddings=[vector], n_results=width, include=["documents", "metadatas", "distances"]
        )
        ids = got["ids"][0]
        for chunk_id, document, metadata in zip(ids, got["documents"][0], got["metadatas"][0]):
            found[chunk_id] = (document or "", dict(metadata or {}))
        return ids, {i: 1.0 - float(d) for i, d in zip(ids, got["distances"][0])}  # cosine space

    def _exact(
        self, vector: list[float], width: int, positions: Any, found: Found
    ) -> tuple[list[str], dict[str, float]]:
        """Exact cosine search among the chunks at the given corpus positions (those of the named documents)."""
        import numpy as np

        query = np.asarray(vector, dtype=np.float32)
        query /= max(float(np.linalg.norm(query)), 1e-12)
        scores = self._corpus.vectors[positions] @ query
        best = np.argsort(-scores)[:width] if len(scores) <= width else np.argpartition(-scores, width)[:width]
        best = best[np.argsort(-scores[best])]
        ids = []
        for index in best:
            position = int(positions[index])
            ids.append(self._corpus.ids[position])
            found.setdefault(ids[-1], (self._corpus.documents[position], self._corpus.metadatas[position]))
        return ids, {i: float(scores[b]) for i, b in zip(ids, best)}

    def _bm25(self, question: str, width: int, positions: Any, found: Found) -> list[str]:
        assert self._keyword is not None
        mask = None
        if positions is not None:
            import numpy as np

            mask = np.zeros(len(self._corpus.ids), dtype=np.float32)
            mask[positions] = 1.0
        ids = []
        for position, _score in self._keyword.search(question, width, mask):
            chunk_id = self._corpus.ids[position]
            found.setdefault(chunk_id, (self._corpus.documents[position], self._corpus.metadatas[position]))
            ids.append(chunk_id)
        return ids

    @staticmethod
    def _node(chunk_id: str, score: float, document: str, metadata: dict[str, Any]) -> Any:
        from llama_index.core.schema import NodeWithScore
        from llama_index.core.vector_stores.utils import metadata_dict_to_node

        node = metadata_dict_to_node(metadata, text=document)
        node.id_ = chunk_id
        return NodeWithScore(node=node, score=score)
