"""BM25 over the chunks (bm25s: English stop words and Snowball stemming; its scorer over a sparse matrix),
built once and saved with the search index, loaded memory-mapped. The index keeps every chunk's token ids,
so an ingest that changes a few files re-scores them (retrieval/bm25.py) instead of tokenizing every chunk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TOKENS, STARTS = "tokens.npy", "token_starts.npy"


def tokenize(texts: list[str], batch: int = 10_000) -> tuple[Any, Any, list[str]]:
    """(flat token ids, starts: text t's ids are ids[starts[t]:starts[t + 1]], vocabulary: id -> token)."""
    tokens = Tokens()
    for start in range(0, len(texts), batch):
        tokens.add(texts[start : start + batch])
    return tokens.result()


class Tokens:
    """Texts tokenized as bm25s does, a batch at a time into one vocabulary, kept as numpy arrays: bm25s
    gives a Python list of ints per text, gigabytes at 1,000,000 chunks at once."""

    def __init__(self) -> None:
        import Stemmer

        self._stemmer = Stemmer.Stemmer("english")
        self._vocabulary: dict[str, int] = {}
        self._flats: list[Any] = []
        self._lengths: list[Any] = []

    def add(self, texts: list[str]) -> None:
        import itertools

        import bm25s
        import numpy as np

        if not texts:
            return
        got = bm25s.tokenize(texts, stopwords="en", stemmer=self._stemmer, show_progress=False)
        number = np.empty(len(got.vocab), dtype=np.int32)  # this batch's token id -> the corpus's
        for token, local in got.vocab.items():
            number[local] = self._vocabulary.setdefault(token, len(self._vocabulary))
        sizes = np.fromiter((len(ids) for ids in got.ids), dtype=np.int64, count=len(got.ids))
        flat = np.fromiter(itertools.chain.from_iterable(got.ids), dtype=np.int32, count=int(sizes.sum()))
        self._flats.append(number[flat])
        self._lengths.append(sizes)

    def result(self, order: Any = None) -> tuple[Any, Any, list[str]]:
        """As tokenize() gives them, the texts in the order added, or text order[i] as the i-th."""
        import numpy as np

        sizes = np.concatenate(self._lengths) if self._lengths else np.zeros(0, dtype=np.int64)
        flat = np.concatenate(self._flats) if self._flats else np.zeros(0, dtype=np.int32)
        self._flats, self._lengths = [], []
        starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        if order is not None:
            flat, starts = _reordered(flat, starts, np.asarray(order, dtype=np.int64))
        return flat, starts, list(self._vocabulary)  # a dict keeps insertion order: id -> token


def _reordered(flat: Any, starts: Any, order: Any, block: int = 100_000) -> tuple[Any, Any]:
    """The texts' token ids with text order[i] as the i-th; gathered a block of texts at a time, so the
    gather's index array is never the size of every token (90,000,000 at 1,000,000 chunks)."""
    import numpy as np

    sizes = np.diff(starts)[order]
    moved = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    out = np.empty_like(flat)
    for first in range(0, len(order), block):
        texts = order[first : first + block]
        lengths = sizes[first : first + block]
        begin, end = moved[first], moved[first + len(texts)]
        # each token's place in `flat`: its text's start there, plus its place within the text
        source = np.repeat(starts[texts] - moved[first : first + len(texts)], lengths) + np.arange(begin, end)
        out[begin:end] = flat[source]
    return out, moved


class KeywordIndex:
    def __init__(self, bm25: Any = None, tokens: Any = None, starts: Any = None) -> None:
        import numpy as np
        import Stemmer

        self._stemmer = Stemmer.Stemmer("english")
        self._bm25 = bm25  # None for an empty collection
        self.tokens = np.zeros(0, dtype=np.int32) if tokens is None else tokens
        self.starts = np.zeros(1, dtype=np.int64) if starts is None else starts

    @classmethod
    def of_texts(cls, texts: list[str]) -> KeywordIndex:
        return cls.of_tokens(*tokenize(texts)) if texts else cls()

    @classmethod
    def of_tokens(cls, tokens: Any, starts: Any, vocabulary: list[str]) -> KeywordIndex:
        """The index of documents given by token ids into `vocabulary`; tokens no document has are dropped
        from it (an updated index has the vocabulary a fresh one would)."""
        import bm25s
        import numpy as np

        from ragctl.retrieval.bm25 import score_matrix

        if len(starts) <= 1:
            return cls()
        used = np.zeros(len(vocabulary), dtype=bool)
        used[tokens] = True
        kept = vocabulary
        if not used.all():  # renumbered only then: a copy of every token id (90,000,000 at 1,000,000 chunks)
            renumber = np.cumsum(used, dtype=np.int64) - 1
            tokens = renumber[tokens].astype(np.int32)
            kept = [token for token, keep in zip(vocabulary, used.tolist()) if keep]
        bm25 = bm25s.BM25()  # its defaults are the parameters score_matrix scores with
        bm25.scores = score_matrix(tokens, starts, len(kept))
        bm25.vocab_dict = {token: number for number, token in enumerate(kept)}
        bm25.unique_token_ids_set = set(bm25.vocab_dict.values())
        bm25.nonoccurrence_array = None  # the Lucene variant has none
        return cls(bm25, tokens, np.asarray(starts, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.starts) - 1

    def vocabulary(self) -> list[str]:
        """id -> token, for the token ids this index keeps."""
        if self._bm25 is None:
            return []
        found = [""] * len(self._bm25.vocab_dict)
        for token, number in self._bm25.vocab_dict.items():
            found[number] = token
        return found

    def save(self, folder: Path) -> None:
        import numpy as np

        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / TOKENS, self.tokens, allow_pickle=False)
        np.save(folder / STARTS, self.starts, allow_pickle=False)
        self.save_scores(folder)

    def save_scores(self, folder: Path) -> None:
        """The BM25 index alone, beside token ids already written to `folder` (index/update.py)."""
        if self._bm25 is not None:
            self._bm25.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, size: int) -> KeywordIndex:
        """The index `save` wrote, its score matrix and token ids memory-mapped (only the vocabulary is read
        into memory)."""
        import bm25s
        import numpy as np

        if not size:
            return cls()
        tokens = np.load(folder / TOKENS, mmap_mode="r", allow_pickle=False)
        starts = np.load(folder / STARTS, mmap_mode="r", allow_pickle=False)
        return cls(bm25s.BM25.load(str(folder), mmap=True, show_progress=False), tokens, starts)

    def postings(self) -> list[Any]:
        """The arrays of the score matrix a query reads (empty for an empty index)."""
        if self._bm25 is None:
            return []
        return [self._bm25.scores[name] for name in ("data", "indices", "indptr")]

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
        if positions is None:
            scores = self._bm25.get_scores(known)  # one pass over the query words' postings
            candidates = _above(scores, k)
            values = scores[candidates]
        else:
            candidates = np.asarray(positions)
            values = self.scores_within(known, candidates)
        kept = values > 0
        candidates, values = candidates[kept], values[kept]
        order = np.lexsort((candidates, -values))[:k]
        return [(int(candidates[i]), float(values[i])) for i in order]

    def scores_within(self, words: list[str], positions: Any) -> Any:
        """bm25s' scores of the given chunks alone (get_scores(words)[positions], the same float32 sums in
        the same order) from the slice of each word's postings between the first and last position: a
        question that names documents scores their few hundred chunks, not every chunk (~9 ms at 1,000,000).
        Relies on each word's postings being in row order, as retrieval/bm25.py writes them."""
        import numpy as np

        positions = np.asarray(positions, dtype=np.int64)
        if not len(positions):
            return np.zeros(0, dtype=np.float32)
        order = None if np.all(positions[1:] >= positions[:-1]) else np.argsort(positions, kind="stable")
        ranked = positions if order is None else positions[order]
        matrix = self._bm25.scores
        data, rows_of, starts = matrix["data"], matrix["indices"], matrix["indptr"]
        sums = np.zeros(len(ranked), dtype=np.float32)
        for word in self._bm25.get_tokens_ids(words):
            start, end = int(starts[word]), int(starts[word + 1])
            column = rows_of[start:end]
            first, last = (int(i) for i in np.searchsorted(column, [ranked[0], ranked[-1] + 1]))
            rows = column[first:last]
            at = np.minimum(np.searchsorted(ranked, rows), len(ranked) - 1)
            hit = ranked[at] == rows
            sums[at[hit]] += data[start + first : start + last][hit]
        if order is None:
            return sums
        found = np.empty_like(sums)
        found[order] = sums
        return found


SAMPLE = 20_000


def _above(scores: Any, k: int) -> Any:
    """Positions that include every one of the best k positive scores: those at or above a threshold a
    strided sample of the scores puts a few times k places down (about 2 ms at 1,000,000 chunks, where a
    partition of every score costs 12-20 ms); all positive ones when that finds fewer than k."""
    import numpy as np

    stride = len(scores) // SAMPLE
    if stride > 1:
        sample = scores[::stride]
        place = len(sample) - min(len(sample), 4 * k // stride + 2)
        threshold = np.partition(sample, place)[place]
        if threshold > 0:
            found = np.flatnonzero(scores >= threshold)
            if len(found) >= k:  # then no score below the threshold can be among the best k
                return found
    return np.flatnonzero(scores > 0)
