"""A search index as a folder of plain files: numpy arrays (memory-mapped when loaded), the BM25 index
(bm25s' own format, memory-mapped) and one JSON file of the small parts. A folder is written under a
temporary name and renamed into place, so a reader never sees half an index."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from ragctl.retrieval.index.model import SearchIndex

FORMAT = 2  # bump when what is saved, or how BM25 tokenizes, changes: an older folder is then stale
META = "index.json"
ARRAYS = ("ids", "starts", "pages", "vectors")


def save(index: SearchIndex, folder: Path) -> Path:
    """Write `index` to `folder` (replacing one already there); returns `folder`."""
    import numpy as np

    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = folder.parent / f".{folder.name}.{uuid.uuid4().hex[:8]}.partial"
    partial.mkdir()
    try:
        for name in ARRAYS:
            np.save(partial / f"{name}.npy", getattr(index, name), allow_pickle=False)
        names = sorted(index.parts)
        lengths = [len(index.parts[p]) for p in names]
        flat = np.concatenate([index.parts[p] for p in names]) if names else np.zeros(0, dtype=np.int64)
        np.save(partial / "parts.npy", flat.astype(np.int64), allow_pickle=False)
        index.keyword.save(partial / "bm25")
        meta = {
            "format": FORMAT,
            "digest": index.digest,
            "chunks": len(index),
            "files": index.files,
            "titles": index.titles,
            "parts": dict(zip(names, lengths)),
        }
        (partial / META).write_text(json.dumps(meta))
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(partial, folder)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return folder


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
    # Every query reads the BM25 postings of its words and the ids of its hits: ask the kernel to read
    # those files ahead now, in the background, so queries after a cold start do not wait for their pages
    # one fault at a time. The vectors (1.5 GB at 1,000,000 chunks) are read a document at a time, by need.
    will_need(arrays["ids"], arrays["starts"], arrays["pages"], flat, *keyword.postings())
    return SearchIndex(
        files=list(described["files"]),
        titles=dict(described["titles"]),
        keyword=keyword,
        parts=parts,
        digest=str(described["digest"]),
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
