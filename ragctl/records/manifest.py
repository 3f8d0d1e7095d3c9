"""The manifest of a collection: one record per source file (hash, size, reader, chunk ids, state), kept
in a companion Chroma collection beside the chunks, so everyone who shares the store shares the manifest.

A file's record is written `pending` before its chunks are touched and `ok` (or `failed`) after, so a
crash at any moment leaves a record that the next run redoes: no orphan chunks, no duplicates.

The manifest's digest identifies the collection's content: ingest tags its run with it, assemble and
evaluate record the digest they read, promote compares it with the collection as it is now.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from ragctl.config.model import VectorStoreConfig
from ragctl.digests import digest

META_ID = "__collection__"
SUFFIX = ".ragctl-manifest"
_DUMMY = [1.0]  # Chroma stores vectors with every record; the manifest needs none
_PAGE = 1000  # records per delete, far under Chroma's batch limit


@dataclass
class Entry:
    file: str
    sha256: str
    size: int
    reader: str  # digest of the reading settings (parser version, OCR): a change redoes the file
    key: str  # ingest key: sha256 + reader + collection fingerprint; stamped on every chunk
    state: str  # pending | ok | failed
    outcome: str = ""
    reason: str = ""
    pages: int = 0
    chunk_ids: list[str] = field(default_factory=list)

    @property
    def chunks(self) -> int:
        return len(self.chunk_ids)


def record_id(file: str) -> str:
    return "f-" + hashlib.sha256(file.encode()).hexdigest()[:40]


class Manifest:
    """Read once at the start of a run (`entries`), then written a group of records at a time."""

    def __init__(self, client: Any, collection: str) -> None:
        self.name = collection + SUFFIX
        self._client = client
        self._store: Any = None
        self.entries: dict[str, Entry] = {}
        self.meta: dict[str, Any] = {}

    @classmethod
    def load(cls, client: Any, collection: str, create: bool) -> Manifest:
        manifest = cls(client, collection)
        if create:
            manifest._store = client.get_or_create_collection(manifest.name)
        else:
            try:
                manifest._store = client.get_collection(manifest.name)
            except Exception:  # not there yet: an empty manifest, and nothing is written
                return manifest
        got = manifest._store.get(include=["metadatas", "documents"])
        for rid, meta, doc in zip(got["ids"], got["metadatas"] or [], got["documents"] or []):
            if rid == META_ID:
                manifest.meta = json.loads(doc)
            elif meta and meta.get("kind") == "file":
                manifest.entries[meta["file"]] = Entry(**json.loads(doc))
        return manifest

    @property
    def fingerprint(self) -> str | None:
        return self.meta.get("fingerprint")

    def set_meta(self, **values: Any) -> None:
        self.meta.update(values)
        self._store.upsert(
            ids=[META_ID], embeddings=[_DUMMY], documents=[json.dumps(self.meta)], metadatas=[{"kind": "meta"}]
        )

    def put_many(self, entries: list[Entry]) -> None:
        """Several records in one write (Chroma commits every call)."""
        if not entries:
            return
        self.entries.update((e.file, e) for e in entries)
        self._store.upsert(
            ids=[record_id(e.file) for e in entries],
            embeddings=[_DUMMY] * len(entries),
            documents=[json.dumps(asdict(e)) for e in entries],
            metadatas=[{"kind": "file", "file": e.file, "state": e.state} for e in entries],
        )

    def remove_many(self, files: list[str]) -> None:
        for file in files:
            self.entries.pop(file, None)
        for start in range(0, len(files), _PAGE):
            self._store.delete(ids=[record_id(f) for f in files[start : start + _PAGE]])

    def drop(self) -> None:
        with contextlib.suppress(Exception):
            self._client.delete_collection(self.name)
        self.entries, self.meta = {}, {}

    def digest(self) -> str:
        """Identifies the collection's content: the ingested files, their hashes and ingest keys."""
        rows = sorted((e.file, e.sha256, e.key) for e in self.entries.values() if e.state == "ok")
        return digest([self.fingerprint, rows])

    def expected_chunks(self) -> int:
        return sum(e.chunks for e in self.entries.values() if e.state == "ok")

    def files(self) -> set[str]:
        """The files whose chunks are in the collection."""
        return {e.file for e in self.entries.values() if e.state == "ok"}


def read(client: Any, store: VectorStoreConfig) -> Manifest:
    """The manifest of a collection as it is now (empty when there is none); writes nothing."""
    return Manifest.load(client, store.collection, create=False)
