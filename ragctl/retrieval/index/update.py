"""An index updated after an ingest that changed some files: the earlier index's rows of the files that did
not change (ids, pages, vectors, token ids, parts, titles), and the changed files' chunks read from Chroma,
merged in corpus order with their records (texts.py); BM25 re-scored from the token ids (the
collection's statistics changed with it).
So an ingest that adds one file to a million chunks reads and tokenizes that file's chunks, not a million.

The merged rows are written straight into the new folder, a run of rows at a time, read from the earlier
folder's files without mapping them: what the update holds is the changed files' chunks and the BM25
scoring, not a second copy of every vector and token id (1.9 GB at 1,000,000 chunks).

The result equals what build.py makes from the whole collection (tests/test_retrieval.py checks it), on
one condition the caller keeps: the earlier index was of the collection as it was before this ingest wrote
(the collection was marked at its digest when the ingest began, and only this ingest, holding the lock,
wrote since)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragctl.retrieval.index import disk
from ragctl.retrieval.index.model import SearchIndex

ROWS = 1 << 16  # rows copied at a time: 100 MB of vectors at 384 dimensions
TOKENS = 1 << 24  # token ids renumbered at a time: 64 MB


@dataclass
class Run:
    """Rows first:end of `source`, consecutive in it and in the merged index."""

    source: SearchIndex
    first: int
    end: int


def update(base: SearchIndex, collection: Any, changed: set[str], digest: str, folder: Path) -> Path:
    """Write to `folder` the index `base` with the chunks of the `changed` files (added, changed or
    deleted) as the collection has them now; returns `folder`."""
    from ragctl.retrieval.index.build import build

    fresh = build(collection, files=sorted(changed))
    blocks = [(f, base) for f in base.files if f not in changed] + [(f, fresh) for f in fresh.files]
    return merge(sorted(blocks, key=lambda block: block[0]), digest, folder)


def merge(blocks: list[tuple[str, SearchIndex]], digest: str, folder: Path) -> Path:
    """Write to `folder` one index of the given files' rows, each taken from the index it names, in the
    order given; returns `folder`."""
    import numpy as np

    from ragctl.retrieval.keyword import KeywordIndex

    if not blocks:
        return disk.save(SearchIndex.empty(digest), folder)
    runs = _runs(blocks)
    words, numbering = _vocabulary(runs)
    chunks = sum(run.end - run.first for run in runs)
    starts, at = [0], 0
    titles: dict[str, str] = {}
    parts: dict[str, list[Any]] = {}
    for file, source in blocks:
        first, end = source.block(file)
        for part, positions in source.parts.items():
            inside = positions[np.searchsorted(positions, first) : np.searchsorted(positions, end)]
            if len(inside):
                parts.setdefault(part, []).append(np.asarray(inside) - first + at)
        titles[file] = source.titles.get(file, "")
        at += end - first
        starts.append(at)
    lengths = np.concatenate([np.diff(run.source.keyword.starts[run.first : run.end + 1]) for run in runs])
    token_starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    with disk.writing(folder) as partial:
        width = max(run.source.ids.dtype.itemsize for run in runs)
        dimensions = max((run.source.vectors.shape[1] for run in runs if run.source.vectors.size), default=0)
        _write(partial / "ids.npy", f"S{width}", (chunks,), runs, lambda s: s.ids)
        _write(partial / "pages.npy", np.int32, (chunks,), runs, lambda s: s.pages)
        _write(partial / "vectors.npy", np.float32, (chunks, dimensions), runs, lambda s: s.vectors)
        np.save(partial / "starts.npy", np.asarray(starts, dtype=np.int64), allow_pickle=False)
        (partial / "bm25").mkdir()
        _write_tokens(partial / "bm25" / "tokens.npy", int(token_starts[-1]), runs, numbering)
        np.save(partial / "bm25" / "token_starts.npy", token_starts, allow_pickle=False)
        tokens = np.load(partial / "bm25" / "tokens.npy", mmap_mode="r", allow_pickle=False)
        KeywordIndex.of_tokens(tokens, token_starts, words).save_scores(partial / "bm25")
        del tokens
        texts = all(run.source.texts is not None for run in runs)
        if texts:
            _write_texts(partial, chunks, runs)
        merged = {part: np.concatenate(found).astype(np.int64) for part, found in sorted(parts.items())}
        disk.write_small(partial, digest, chunks, [file for file, _ in blocks], titles, merged, texts)
    return folder


def _runs(blocks: list[tuple[str, SearchIndex]]) -> list[Run]:
    """The blocks' rows as runs: files next to each other in one source are one run (at 1,000,000 chunks
    the unchanged files are a few runs, not thousands of reads)."""
    runs: list[Run] = []
    for file, source in blocks:
        first, end = source.block(file)
        if runs and runs[-1].source is source and runs[-1].end == first:
            runs[-1].end = end
        else:
            runs.append(Run(source, first, end))
    return runs


def _pieces(run: Run) -> list[tuple[int, int]]:
    """The run's rows as ranges of at most ROWS."""
    return [(first, min(first + ROWS, run.end)) for first in range(run.first, run.end, ROWS)]


def _write(path: Path, dtype: Any, shape: tuple[int, ...], runs: list[Run], array: Any) -> None:
    out = disk.Appended(path, dtype, shape)
    for run in runs:
        for first, end in _pieces(run):
            out.add(disk.read_rows(array(run.source), first, end))
    out.close()


def _write_texts(partial: Path, chunks: int, runs: list[Run]) -> None:
    """The runs' records (a byte range of each source's file), their offsets, and the positions by id."""
    import numpy as np

    offsets = disk.Appended(partial / "text_offsets.npy", np.int64, (chunks + 1,))
    offsets.add(np.zeros(1, dtype=np.int64))
    at = 0
    with open(partial / disk.TEXTS, "wb") as out:
        for run in runs:
            source = run.source.texts.offsets
            for first, end in _pieces(run):
                ends = disk.read_rows(source, first + 1, end + 1).astype(np.int64)
                offsets.add(ends - int(source[run.first]) + at)
            at += run.source.texts.copy(run.first, run.end, out)
    offsets.close()
    ids = np.load(partial / "ids.npy", allow_pickle=False)  # 32 MB at 1,000,000 chunks
    np.save(partial / "by_id.npy", np.argsort(ids, kind="stable"), allow_pickle=False)


def _vocabulary(runs: list[Run]) -> tuple[list[str], dict[int, Any]]:
    """The merged vocabulary (the words the runs' token ids use, no others: what a build of these rows
    would keep) and, for each source, its token id -> the merged one."""
    import numpy as np

    used: dict[int, Any] = {}
    for run in runs:
        keyword = run.source.keyword
        mask = used.setdefault(id(run.source), np.zeros(len(keyword.vocabulary()), dtype=bool))
        for first, end in _token_pieces(run):
            mask[disk.read_rows(keyword.tokens, first, end)] = True
    number: dict[str, int] = {}
    numbering: dict[int, Any] = {}
    for run in runs:
        if id(run.source) in numbering:
            continue
        vocabulary, mask = run.source.keyword.vocabulary(), used[id(run.source)]
        numbering[id(run.source)] = np.asarray(
            [number.setdefault(w, len(number)) if keep else -1 for w, keep in zip(vocabulary, mask.tolist())],
            dtype=np.int32,
        )
    words = [""] * len(number)
    for word, n in number.items():
        words[n] = word
    return words, numbering


def _token_pieces(run: Run) -> list[tuple[int, int]]:
    """The run's token ids as ranges of at most TOKENS."""
    offsets = run.source.keyword.starts
    low, high = int(offsets[run.first]), int(offsets[run.end])
    return [(first, min(first + TOKENS, high)) for first in range(low, high, TOKENS)]


def _write_tokens(path: Path, count: int, runs: list[Run], numbering: dict[int, Any]) -> None:
    import numpy as np

    out = disk.Appended(path, np.int32, (count,))
    for run in runs:
        renumber = numbering[id(run.source)]
        for first, end in _token_pieces(run):
            out.add(renumber[disk.read_rows(run.source.keyword.tokens, first, end)])
    out.close()
