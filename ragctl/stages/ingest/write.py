"""Writing one file's chunks: upsert the new ones, then drop the file's chunks of any other version.
Ids are deterministic, so a redo after a crash overwrites instead of duplicating."""

from __future__ import annotations

from typing import Any

from ragctl.stages.ingest.work import Prepared


def write_chunks(collection: Any, prepared: Prepared, key: str, max_batch: int) -> None:
    chunks = prepared.chunks
    for start in range(0, len(chunks), max_batch):
        part = chunks[start : start + max_batch]
        collection.upsert(
            ids=[c.id for c in part],
            embeddings=prepared.embeddings[start : start + max_batch],
            documents=[c.text for c in part],
            metadatas=[c.metadata for c in part],
        )
    drop_chunks(collection, prepared.file, keep_key=key)


def drop_chunks(collection: Any, file: str, keep_key: str | None = None) -> None:
    """Delete the file's chunks (all of them, or those not of `keep_key`)."""
    where: dict[str, Any] = {"file": file}
    if keep_key is not None:
        where = {"$and": [{"file": file}, {"ingest_key": {"$ne": keep_key}}]}
    collection.delete(where=where)


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
