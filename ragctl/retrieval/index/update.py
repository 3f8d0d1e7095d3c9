"""An index updated after an ingest that changed some files: the earlier index's rows of the files that did
not change (ids, pages, vectors, token ids, parts, titles), and the changed files' chunks read from Chroma,
merged in corpus order; BM25 re-scored from the token ids (the collection's statistics changed with it).
So an ingest that adds one file to a million chunks reads and tokenizes that file's chunks, not a million.

The result equals what build.py makes from the whole collection (tests/test_retrieval.py checks it), on
one condition the caller keeps: the earlier index was of the collection as it was before this ingest wrote
(the collection was marked at its digest when the ingest began, and only this ingest, holding the lock,
wrote since)."""

from __future__ import annotations

from typing import Any

from ragctl.retrieval.index.model import SearchIndex


def update(base: SearchIndex, collection: Any, changed: set[str], digest: str) -> SearchIndex:
    """`base` with the chunks of the `changed` files (added, changed or deleted) as the collection has them now."""
    from ragctl.retrieval.index.build import build

    fresh = build(collection, files=sorted(changed))
    blocks = [(f, base) for f in base.files if f not in changed] + [(f, fresh) for f in fresh.files]
    return merge(sorted(blocks, key=lambda block: block[0]), digest)


def merge(blocks: list[tuple[str, SearchIndex]], digest: str) -> SearchIndex:
    """One index of the given files' rows, each taken from the index it names, in the order given."""
    import numpy as np

    from ragctl.retrieval.keyword import KeywordIndex

    ids: list[Any] = []
    pages: list[Any] = []
    vectors: list[Any] = []
    tokens: list[Any] = []
    lengths: list[Any] = []
    starts = [0]
    titles: dict[str, str] = {}
    parts: dict[str, list[Any]] = {}
    vocabulary: dict[str, int] = {}
    renumber: dict[int, Any] = {}  # id(source index) -> its token id -> the merged vocabulary's
    for file, source in blocks:
        if id(source) not in renumber:
            words = source.keyword.vocabulary()
            renumber[id(source)] = np.asarray([vocabulary.setdefault(w, len(vocabulary)) for w in words], np.int32)
        first, end = source.block(file)
        at = starts[-1]
        ids.append(source.ids[first:end])
        pages.append(source.pages[first:end])
        vectors.append(source.vectors[first:end])
        offsets = source.keyword.starts[first : end + 1]
        tokens.append(renumber[id(source)][source.keyword.tokens[offsets[0] : offsets[-1]]])
        lengths.append(np.diff(offsets))
        for part, positions in source.parts.items():
            inside = positions[np.searchsorted(positions, first) : np.searchsorted(positions, end)]
            if len(inside):
                parts.setdefault(part, []).append(inside - first + at)
        titles[file] = source.titles.get(file, "")
        starts.append(at + end - first)
    if not blocks:
        return SearchIndex.empty(digest)
    token_starts = np.concatenate([[0], np.cumsum(np.concatenate(lengths))]).astype(np.int64)
    words = [""] * len(vocabulary)
    for word, number in vocabulary.items():
        words[number] = word
    return SearchIndex(
        ids=np.concatenate(ids),
        files=[file for file, _ in blocks],
        starts=np.asarray(starts, dtype=np.int64),
        titles=titles,
        pages=np.concatenate(pages),
        vectors=np.concatenate([v for v in vectors if v.size] or [np.zeros((0, 0), np.float32)]),
        keyword=KeywordIndex.of_tokens(np.concatenate(tokens), token_starts, words),
        parts={part: np.concatenate(found).astype(np.int64) for part, found in sorted(parts.items())},
        digest=digest,
    )
