"""A search index as a folder of plain files: numpy arrays (memory-mapped when loaded), the BM25 index
(bm25s' own format, memory-mapped), the chunks' records (texts.py) and one JSON file of the small parts.
A folder without the records (written before they were kept) is still read: its chunks' text then comes
from Chroma. A folder is written under a temporary name and renamed into place, so a reader never sees
half an index."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ragctl.retrieval.index.model import SearchIndex

# Bump when what is saved, or how BM25 tokenizes, changes: an older folder is then stale. The records are
# optional (meta "texts"), so adding them left every folder already saved current.
FORMAT = 2
META = "index.json"
ARRAYS = ("ids", "starts", "pages", "vectors")
TEXTS = "texts.bin"


def save(index: SearchIndex, folder: Path) -> Path:
    """Write `index` to `folder` (replacing one already there); returns `folder`."""
    import numpy as np

    with writing(folder) as partial:
        for name in ARRAYS:
            np.save(partial / f"{name}.npy", getattr(index, name), allow_pickle=False)
        index.keyword.save(partial / "bm25")
        if index.texts is not None:
            with open(partial / TEXTS, "wb") as out:
                index.texts.copy(0, len(index.texts), out)
            np.save(partial / "text_offsets.npy", np.asarray(index.texts.offsets), allow_pickle=False)
            np.save(partial / "by_id.npy", index.by_id, allow_pickle=False)
        texts = index.texts is not None
        write_small(partial, index.digest, len(index), index.files, index.titles, index.parts, texts)
    return folder


@contextmanager
def writing(folder: Path) -> Iterator[Path]:
    """A temporary folder beside `folder`, renamed to it (replacing one already there) when the block ends
    without an error, removed when it ends with one."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = folder.parent / f".{folder.name}.{uuid.uuid4().hex[:8]}.partial"
    partial.mkdir()
    try:
        yield partial
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(partial, folder)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def write_small(
    partial: Path,
    digest: str,
    chunks: int,
    files: list[str],
    titles: dict[str, str],
    parts: dict[str, Any],
    texts: bool,
) -> None:
    """The parts' positions (one flat array) and the JSON description, the last files of a folder."""
    import numpy as np

    names = sorted(parts)
    flat = np.concatenate([parts[p] for p in names]) if names else np.zeros(0, dtype=np.int64)
    np.save(partial / "parts.npy", flat.astype(np.int64), allow_pickle=False)
    meta = {
        "format": FORMAT,
        "digest": digest,
        "chunks": chunks,
        "files": files,
        "titles": titles,
        "parts": {p: len(parts[p]) for p in names},
        "texts": texts,  # texts.bin, text_offsets.npy and by_id.npy are there
    }
    (partial / META).write_text(json.dumps(meta))


class Appended:
    """A .npy file of a known dtype and shape written a block of rows at a time, with plain writes: the
    rows pass through this process once and are not kept (a memory map of the new file would keep every
    written page in its resident set until the kernel writes it back)."""

    def __init__(self, path: Path, dtype: Any, shape: tuple[int, ...]) -> None:
        import numpy as np

        self._dtype, self._shape, self._rows = np.dtype(dtype), shape, 0
        self._file = open(path, "wb", buffering=0)  # noqa: SIM115 - closed by close()
        header = {"descr": np.lib.format.dtype_to_descr(self._dtype), "fortran_order": False, "shape": shape}
        np.lib.format.write_array_header_1_0(self._file, header)

    def add(self, rows: Any) -> None:
        import numpy as np

        rows = np.ascontiguousarray(rows, dtype=self._dtype)
        self._file.write(memoryview(rows).cast("B"))
        self._rows += len(rows)

    def close(self) -> None:
        self._file.close()
        if self._rows != self._shape[0]:
            raise ValueError(f"{self._file.name}: {self._rows} rows written, {self._shape[0]} declared")


def read_rows(array: Any, first: int, end: int) -> Any:
    """Rows first:end of an array, read from its file when it is a whole memory-mapped .npy (as load()
    gives them), so that reading a whole index through here does not put its pages in this process's
    resident set; an array in memory is sliced."""
    import numpy as np

    filename = getattr(array, "filename", None)
    if (
        isinstance(array, np.memmap)
        and filename
        and array.flags.c_contiguous
        and array.offset + array.nbytes == os.path.getsize(filename)
    ):
        width = array.strides[0] if array.ndim else array.itemsize
        count = (end - first) * (width // array.itemsize)
        found = np.fromfile(filename, dtype=array.dtype, count=count, offset=array.offset + first * width)
        return found.reshape((end - first, *array.shape[1:]))
    return np.asarray(array[first:end])


def meta(folder: Path) -> dict[str, Any] | None:
    """The folder's description, or None when it holds no index this ragctl reads."""
    try:
        found = json.loads((folder / META).read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) and found.get("format") == FORMAT else None


def load(folder: Path) -> SearchIndex:
    import numpy as np

    from ragctl.retrieval.keyword import KeywordIndex

    described = meta(folder)
    if described is None:
        raise FileNotFoundError(f"no search index in {folder}")
    arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in ARRAYS}
    flat = np.load(folder / "parts.npy", mmap_mode="r", allow_pickle=False)
    parts, offset = {}, 0
    for part, length in described["parts"].items():
        parts[part] = flat[offset : offset + length]
        offset += length
    keyword = KeywordIndex.load(folder / "bm25", described["chunks"])
    texts = by_id = None
    if described.get("texts"):
        from ragctl.retrieval.index.texts import Texts

        texts = Texts.open(folder / TEXTS, np.load(folder / "text_offsets.npy", mmap_mode="r", allow_pickle=False))
        by_id = np.load(folder / "by_id.npy", mmap_mode="r", allow_pickle=False)
    # Every query reads the BM25 postings of its words and the ids of its hits: ask the kernel to read
    # those files ahead now, in the background, so queries after a cold start do not wait for their pages
    # one fault at a time. The vectors (1.5 GB at 1,000,000 chunks) are read a document at a time, by need.
    # The records (texts.bin, ~1 GB at 1,000,000 chunks) are read five at a time, by need, like the vectors.
    finding = [texts.offsets, by_id] if texts is not None else []
    will_need(arrays["ids"], arrays["starts"], arrays["pages"], flat, *keyword.postings(), *finding)
    return SearchIndex(
        files=list(described["files"]),
        titles=dict(described["titles"]),
        keyword=keyword,
        parts=parts,
        digest=str(described["digest"]),
        texts=texts,
        by_id=by_id,
        **arrays,
    )


def will_need(*arrays: Any) -> int:
    """madvise(MADV_WILLNEED) on the files under these memory-mapped arrays (or views of them): the kernel
    starts reading them into the page cache and returns at once (Elasticsearch's `index.store.preload`,
    without the wait). Returns how many were advised; arrays in memory are left alone."""
    import mmap

    advised = 0
    for array in arrays:
        while array is not None and not isinstance(getattr(array, "_mmap", None), mmap.mmap):
            array = getattr(array, "base", None)
        mapped = getattr(array, "_mmap", None)
        if isinstance(mapped, mmap.mmap) and hasattr(mmap, "MADV_WILLNEED"):
            mapped.madvise(mmap.MADV_WILLNEED)
            advised += 1
    return advised
