"""Writing read files into the collection, several at a time: Chroma commits every call (5-25 ms each here,
whatever its size), and four calls per file were most of an ingest of many small files. A group's records
go `pending` first, then its chunks are upserted and every other version of its files' chunks dropped, then
its records go `ok` or `failed`: a crash anywhere leaves pending records, which the next run redoes. Ids
are deterministic, so a redo overwrites instead of duplicating."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ragctl.records.manifest import Entry, Manifest
from ragctl.stages.ingest.work import Prepared

GROUP_CHUNKS = 512  # chunks held for one upsert: memory stays small, far under Chroma's batch limit
GROUP_FILES = 128  # files in one group: its delete is one filter with a clause per file
GROUP_SECONDS = 1.0  # a group is written once its first file has waited this long (progress stays live)


@dataclass
class Written:
    """One file of a group: what was read, and its manifest record (state set by write_group)."""

    prepared: Prepared
    entry: Entry


def grouped(
    stream: Iterable[Prepared], chunks: int = GROUP_CHUNKS, files: int = GROUP_FILES, seconds: float = GROUP_SECONDS
) -> Iterator[list[Prepared]]:
    """The stream's files in groups, each as soon as it is full or its first file has waited `seconds`
    (checked as files arrive: a file read after a long one is written with it)."""
    group: list[Prepared] = []
    size, since = 0, 0.0
    for prepared in stream:
        if not group:
            since = time.monotonic()
        group.append(prepared)
        size += len(prepared.chunks)
        if size >= chunks or len(group) >= files or time.monotonic() - since >= seconds:
            yield group
            group, size = [], 0
    if group:
        yield group


def write_group(collection: Any, manifest: Manifest, group: list[Written], max_batch: int) -> None:
    manifest.put_many([w.entry for w in group])  # pending: a crash from here on makes the next run redo them
    kept = [
        pair
        for w in group
        if not w.prepared.failed
        for pair in zip(w.prepared.chunks, w.prepared.embeddings, strict=True)
    ]
    for start in range(0, len(kept), max_batch):
        part = kept[start : start + max_batch]
        collection.upsert(
            ids=[c.id for c, _ in part],
            embeddings=[v for _, v in part],
            documents=[c.text for c, _ in part],
            metadatas=[c.metadata for c, _ in part],
        )
    # A failed file keeps none of its chunks; a written one only those of the version just written.
    drop_many(collection, {w.entry.file: None if w.prepared.failed else w.entry.key for w in group})
    for w in group:
        w.entry.state = "failed" if w.prepared.failed else "ok"
    manifest.put_many([w.entry for w in group])


def drop_many(collection: Any, files: Mapping[str, str | None]) -> None:
    """Delete each file's chunks: all of them (None), or those not of the ingest key given."""
    clauses: list[dict[str, Any]] = [
        {"file": file} if keep is None else {"$and": [{"file": file}, {"ingest_key": {"$ne": keep}}]}
        for file, keep in files.items()
    ]
    for start in range(0, len(clauses), GROUP_FILES):
        part = clauses[start : start + GROUP_FILES]
        collection.delete(where=part[0] if len(part) == 1 else {"$or": part})


def chunk_census(collection: Any) -> dict[str, dict[str, int]]:
    """file -> ingest_key -> chunks present: a full scan, only for repairing a collection that does not
    match its manifest (chunks deleted behind ragctl's back, or a crash mid-file)."""
    found: dict[str, dict[str, int]] = {}
    total = collection.count()
    for offset in range(0, total, 5000):
        got = collection.get(include=["metadatas"], limit=5000, offset=offset)
        for meta in got["metadatas"] or []:
            keys = found.setdefault(str(meta.get("file")), {})
            keys[str(meta.get("ingest_key"))] = keys.get(str(meta.get("ingest_key")), 0) + 1
    return found
