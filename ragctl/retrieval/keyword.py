"""BM25 over the chunks (bm25s: sparse matrices, English stop words and Snowball stemming)."""

from __future__ import annotations

from typing import Any


class KeywordIndex:
    def __init__(self, texts: list[str]) -> None:
        import bm25s
        import Stemmer

        self._stemmer = Stemmer.Stemmer("english")
        self._bm25 = bm25s.BM25()
        self._size = len(texts)
        tokens = bm25s.tokenize(texts, stopwords="en", stemmer=self._stemmer, show_progress=False)
        self._bm25.index(tokens, show_progress=False)

    def search(self, query: str, k: int, mask: Any = None) -> list[tuple[int, float]]:
        """(position in the corpus, score) of the best k chunks with a positive score; `mask` (0/1 per chunk)
        keeps only some chunks."""
        import bm25s

        tokens = bm25s.tokenize(query, stopwords="en", stemmer=self._stemmer, show_progress=False)
        if not tokens.vocab:  # nothing but stop words
            return []
        k = min(k, self._size)
        positions, scores = self._bm25.retrieve(tokens, k=k, weight_mask=mask, show_progress=False, n_threads=1)
        return [(int(p), float(s)) for p, s in zip(positions[0], scores[0]) if s > 0]
