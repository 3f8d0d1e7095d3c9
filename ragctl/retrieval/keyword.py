"""BM25 over the chunks (bm25s: sparse matrices, English stop words and Snowball stemming), built once and
saved with the search index; loaded memory-mapped."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class KeywordIndex:
    def __init__(self, texts: list[str] | None = None, bm25: Any = None, size: int = 0) -> None:
        import bm25s
        import Stemmer

        self._stemmer = Stemmer.Stemmer("english")
        if bm25 is None and texts:
            bm25 = bm25s.BM25()
            tokens = bm25s.tokenize(texts, stopwords="en", stemmer=self._stemmer, show_progress=False)
            bm25.index(tokens, show_progress=False)
            size = len(texts)
        self._bm25, self._size = bm25, size  # no bm25 for an empty collection

    def __len__(self) -> int:
        return self._size

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self._bm25 is not None:
            self._bm25.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, size: int) -> KeywordIndex:
        """The index `save` wrote, its score matrix memory-mapped (only the vocabulary is read into memory)."""
        import bm25s

        if not size:
            return cls()
        return cls(bm25=bm25s.BM25.load(str(folder), mmap=True, show_progress=False), size=size)

    def search(self, query: str, k: int, positions: Any = None) -> list[tuple[int, float]]:
        """(position in the corpus, score) of the best k chunks with a positive score, best first (ties: the
        earlier position); `positions` keeps only those chunks."""
        import bm25s
        import numpy as np

        if self._bm25 is None:
            return []
        tokens = bm25s.tokenize(query, stopwords="en", stemmer=self._stemmer, show_progress=False, return_ids=False)
        known = [token for token in tokens[0] if token in self._bm25.vocab_dict]
        if not known:  # nothing but stop words and words no chunk has
            return []
        scores = self._bm25.get_scores(known)  # one pass over the query words' postings
        # Within given chunks, the best k among them alone (a partition of all scores costs ~12 ms at
        # 1,000,000 chunks); over all chunks, one partition of them all.
        if positions is None:
            candidates = np.argpartition(-scores, k - 1)[:k] if len(scores) > k else np.arange(len(scores))
        else:
            candidates = np.asarray(positions)
        values = scores[candidates]
        kept = values > 0
        candidates, values = candidates[kept], values[kept]
        if len(values) > k:
            best = np.argpartition(-values, k - 1)[:k]
            candidates, values = candidates[best], values[best]
        order = np.lexsort((candidates, -values))
        return [(int(candidates[i]), float(values[i])) for i in order]
