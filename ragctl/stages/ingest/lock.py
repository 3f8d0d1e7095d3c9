"""One writer per collection (records/locks.py): an OS file lock beside an embedded index; on a Chroma server,
a lease record in the manifest collection, renewed while the run works."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ragctl.components.vector_stores import writer_lock
from ragctl.config.model import VectorStoreConfig
from ragctl.records.locks import file_lock, lease
from ragctl.records.manifest import SUFFIX

LEASE_ID = "__lease__"


@contextmanager
def collection_lock(config: VectorStoreConfig, client: Any, wait: float = 0.0) -> Iterator[Any]:
    """Hold the collection for the duration; yields a `renew()` callable to call now and then."""
    subject = f"ingest into collection '{config.collection}'"
    if config.mode == "persistent":
        with file_lock(writer_lock(config), subject, wait):
            yield lambda: None
        return
    store = client.get_or_create_collection(config.collection + SUFFIX)

    def read() -> dict[str, Any]:
        got = store.get(ids=[LEASE_ID], include=["documents"])
        return dict(json.loads(got["documents"][0])) if got["ids"] else {}

    def write(value: dict[str, Any]) -> None:
        store.upsert(ids=[LEASE_ID], embeddings=[[1.0]], documents=[json.dumps(value)], metadatas=[{"kind": "lease"}])

    with lease(read, write, lambda: store.delete(ids=[LEASE_ID]), subject, wait) as renew:
        yield renew
