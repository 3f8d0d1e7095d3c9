"""A check that two search indexes hold the same thing, whatever their vocabularies' numbering."""

from __future__ import annotations

from typing import Any

import numpy as np


def assert_same_index(got: Any, expected: Any) -> None:
    assert got.files == expected.files and got.titles == expected.titles
    for name in ("ids", "starts", "pages", "vectors"):
        np.testing.assert_array_equal(getattr(got, name), getattr(expected, name), err_msg=name)
    assert (got.texts is None) == (expected.texts is None)
    if got.texts is not None:  # every chunk's (text, metadata), and the positions in id order
        assert [got.texts.get(i) for i in range(len(got))] == [expected.texts.get(i) for i in range(len(expected))]
        np.testing.assert_array_equal(got.by_id, expected.by_id, err_msg="by_id")
    assert sorted(got.parts) == sorted(expected.parts)
    for part in got.parts:
        np.testing.assert_array_equal(got.parts[part], expected.parts[part], err_msg=part)
    words = (got.keyword.vocabulary(), expected.keyword.vocabulary())
    assert sorted(words[0]) == sorted(words[1])
    np.testing.assert_array_equal(got.keyword.starts, expected.keyword.starts)
    assert [words[0][t] for t in got.keyword.tokens] == [words[1][t] for t in expected.keyword.tokens]
    matrices = (got.keyword._bm25.scores, expected.keyword._bm25.scores)
    numbers = (got.keyword._bm25.vocab_dict, expected.keyword._bm25.vocab_dict)
    for word in words[0]:  # each word's column: the same chunks, bit for bit the same scores
        columns = [(m["indptr"][n[word]], m["indptr"][n[word] + 1]) for m, n in zip(matrices, numbers)]
        for key in ("indices", "data"):
            a, b = (m[key][start:end] for m, (start, end) in zip(matrices, columns))
            np.testing.assert_array_equal(a, b, err_msg=f"{word}: {key}")


def index_of_sorted_chunks(collection: Any) -> Any:
    """The search index as its definition says, from every chunk read at once and sorted in Python: the
    oracle the page-by-page build is checked against."""
    from ragctl.retrieval.corpus import chunk_index, embedded_text
    from ragctl.retrieval.index.build import _page
    from ragctl.retrieval.index.model import SearchIndex
    from ragctl.retrieval.index.texts import Spool
    from ragctl.retrieval.keyword import KeywordIndex
    from ragctl.retrieval.parts import PartIndex

    got = collection.get(include=["documents", "metadatas", "embeddings"])
    rows = sorted(
        zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"]),
        key=lambda row: (str(row[2].get("file")), chunk_index(row[2]), row[0]),
    )
    files = sorted({str(m.get("file")) for _, _, m, _ in rows})
    vectors = np.asarray([v for *_, v in rows], dtype=np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    counts = [sum(1 for _, _, m, _ in rows if m.get("file") == f) for f in files]
    texts = Spool()
    texts.add([d for _, d, _, _ in rows], [m for _, _, m, _ in rows])
    ids = np.asarray([i.encode() for i, *_ in rows])
    return SearchIndex(
        ids=ids,
        files=files,
        starts=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        titles={str(m.get("file")): str(m.get("title") or "") for _, _, m, _ in rows},
        pages=np.asarray([_page(m) for _, _, m, _ in rows], dtype=np.int32),
        vectors=vectors,
        keyword=KeywordIndex.of_texts([embedded_text(d, m) for _, d, m, _ in rows]),
        parts=PartIndex([m for _, _, m, _ in rows]).under,
        texts=texts.in_order(np.arange(len(rows))),
        by_id=np.asarray(sorted(range(len(rows)), key=lambda i: rows[i][0].encode())),
    )
