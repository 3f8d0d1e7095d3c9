"""BM25 scores of a tokenized corpus, the numbers bm25s' own `BM25().index` computes (its defaults: Lucene
variant, k1 1.5, b 0.75), with array operations over all tokens at once instead of its loop over
documents, and from token ids: an index that keeps its chunks' token ids is updated by re-scoring them,
without reading or tokenizing the unchanged chunks again (retrieval/index/update.py).
tests/test_retrieval.py checks the matrix equals bm25s' own."""

from __future__ import annotations

import math
from typing import Any

K1, B = 1.5, 0.75  # bm25s.BM25()'s defaults; the scorer that loads the matrix is a default BM25() too


def score_matrix(tokens: Any, starts: Any, vocabulary: int) -> dict[str, Any]:
    """bm25s' score matrix (CSC: one column per vocabulary id, a row per document) of the documents whose
    token ids are tokens[starts[d]:starts[d + 1]]."""
    import numpy as np

    starts = np.asarray(starts, dtype=np.int64)
    documents = len(starts) - 1
    lengths = np.diff(starts)
    if not documents or not len(tokens):
        return _matrix(np.zeros(0, np.float32), np.zeros(0, np.int64), np.zeros(vocabulary + 1, np.int64), documents)
    # One sort, in place, gives the matrix's order (by vocabulary id, then document) and each term's count
    # in each document; at 1,000,000 chunks the keys are ~90,000,000 int64 (0.7 GB), so no copies of them.
    pairs = np.multiply(tokens, documents, dtype=np.int64)
    pairs += np.repeat(np.arange(documents, dtype=np.int64), lengths)
    pairs.sort()
    first = np.empty(len(pairs), dtype=bool)
    first[0] = True
    np.not_equal(pairs[1:], pairs[:-1], out=first[1:])
    counts = np.diff(np.append(np.flatnonzero(first), len(pairs)))
    pairs = pairs[first]
    del first
    term, row = np.divmod(pairs, documents)
    del pairs
    frequency = np.bincount(term, minlength=vocabulary)
    # idf as bm25s computes it, term by term in Python floats (numpy's log may differ in the last bit)
    idf = np.asarray(
        [math.log(1 + (documents - df + 0.5) / (df + 0.5)) if df else 0.0 for df in frequency.tolist()],
        dtype=np.float32,
    )
    average = lengths.mean()
    tf = counts.astype(np.float32)
    # bm25s' expression, in its order and precisions: tf / (k1 * ((1 - b) + b * l_d / l_avg) + tf)
    tfc = tf / (K1 * ((1 - B) + B * lengths[row] / average) + tf)
    scores = (idf[term] * tfc).astype(np.float32)
    indptr = np.concatenate([[0], np.cumsum(frequency)])
    return _matrix(scores, row, indptr, documents)


def _matrix(data: Any, indices: Any, indptr: Any, documents: int) -> dict[str, Any]:
    import numpy as np

    return {  # the dtypes bm25s' own builder gives
        "data": data,
        "indices": indices.astype(np.int32 if len(data) < 2**31 else np.int64),
        "indptr": indptr.astype(np.int64),
        "num_docs": documents,
    }
