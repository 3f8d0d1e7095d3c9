"""A check that two search indexes hold the same thing, whatever their vocabularies' numbering."""

from __future__ import annotations

from typing import Any

import numpy as np


def assert_same_index(got: Any, expected: Any) -> None:
    assert got.files == expected.files and got.titles == expected.titles
    for name in ("ids", "starts", "pages", "vectors"):
        np.testing.assert_array_equal(getattr(got, name), getattr(expected, name), err_msg=name)
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
