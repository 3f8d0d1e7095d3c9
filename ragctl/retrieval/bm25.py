"""BM25 scores of a tokenized corpus, the numbers bm25s' own `BM25().index` computes (its defaults: Lucene
variant, k1 1.5, b 0.75), with array operations over all tokens at once instead of its loop over
documents, and from token ids: an index that keeps its chunks' token ids is updated by re-scoring them,
without reading or tokenizing the unchanged chunks again (retrieval/index/update.py).
tests/test_retrieval.py checks the matrix equals bm25s' own."""

from __future__ import annotations

import math
from typing import Any

K1, B = 1.5, 0.75  # bm25s.BM25()'s defaults; the scorer that loads the matrix is a default BM25() too


BLOCK = 1 << 23  # tokens scored at a time: their sort keys, positions and documents, ~0.2 GB


def score_matrix(tokens: Any, starts: Any, vocabulary: int, block: int = BLOCK) -> dict[str, Any]:
    """bm25s' score matrix (CSC: one column per vocabulary id, a row per document) of the documents whose
    token ids are tokens[starts[d]:starts[d + 1]].

    Scored a block of vocabulary ids at a time, each block about `block` tokens: the matrix is in
    vocabulary order, so the blocks' columns follow one another, and what a block sorts is its own
    tokens (at 1,000,000 chunks all ~90,000,000 at once made ~3 GB of temporaries; bench/bm25_memory.py)."""
    import numpy as np

    starts = np.asarray(starts, dtype=np.int64)
    documents = len(starts) - 1
    lengths = np.diff(starts)
    if not documents or not len(tokens):
        return _matrix(np.zeros(0, np.float32), np.zeros(0, np.int64), np.zeros(vocabulary + 1, np.int64), documents)
    tokens = np.asarray(tokens)
    occurrences = np.cumsum(np.bincount(tokens, minlength=vocabulary))
    cuts = np.searchsorted(occurrences, np.arange(block, occurrences[-1], block), side="right")
    edges = np.unique(np.concatenate([[0], cuts, [vocabulary]]))
    average = lengths.mean()
    frequency = np.zeros(vocabulary, dtype=np.int64)
    data: list[Any] = []
    rows: list[Any] = []
    for low, high in zip(edges[:-1].tolist(), edges[1:].tolist()):
        terms, row, counts = _pairs(tokens, starts, low, high)
        frequency[low:high] = np.bincount(terms, minlength=high - low)
        # idf as bm25s computes it, term by term in Python floats (numpy's log may differ in the last bit)
        idf = np.asarray(
            [math.log(1 + (documents - df + 0.5) / (df + 0.5)) if df else 0.0 for df in frequency[low:high].tolist()],
            dtype=np.float32,
        )
        tf = counts.astype(np.float32)
        # bm25s' expression, in its order and precisions: tf / (k1 * ((1 - b) + b * l_d / l_avg) + tf)
        tfc = tf / (K1 * ((1 - B) + B * lengths[row] / average) + tf)
        data.append((idf[terms] * tfc).astype(np.float32))
        rows.append(row.astype(np.int32 if documents < 2**31 else np.int64))
        del terms, row, counts, tf, tfc
    indptr = np.concatenate([[0], np.cumsum(frequency)])
    return _matrix(np.concatenate(data), np.concatenate(rows), indptr, documents)


def _pairs(tokens: Any, starts: Any, low: int, high: int) -> tuple[Any, Any, Any]:
    """(term - low, document, count) of each term of [low, high) in each document it occurs in, in the
    matrix's order: by term, then document."""
    import numpy as np

    documents = len(starts) - 1
    at = np.flatnonzero((tokens >= low) & (tokens < high))
    pairs = np.multiply(tokens[at] - low, documents, dtype=np.int64)
    pairs += np.searchsorted(starts, at, side="right") - 1  # the document each token is in
    del at
    if not len(pairs):  # ids no document has
        return pairs, pairs, pairs
    pairs.sort()
    first = np.empty(len(pairs), dtype=bool)
    first[0] = True
    np.not_equal(pairs[1:], pairs[:-1], out=first[1:])
    counts = np.diff(np.append(np.flatnonzero(first), len(pairs)))
    terms, row = np.divmod(pairs[first], documents)
    return terms, row, counts


def _matrix(data: Any, indices: Any, indptr: Any, documents: int) -> dict[str, Any]:
    import numpy as np

    return {  # the dtypes bm25s' own builder gives
        "data": data,
        "indices": indices.astype(np.int32 if len(data) < 2**31 else np.int64, copy=False),
        "indptr": indptr.astype(np.int64, copy=False),
        "num_docs": documents,
    }
