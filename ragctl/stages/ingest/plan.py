"""What a run has to do: compare the files found with the manifest (not with every chunk's metadata).
Each file's ingest key is computed here, once, and travels with it to the worker and the manifest."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

from ragctl.documents import UNREADABLE, SourceFile, sha256
from ragctl.records.manifest import Entry, Manifest
from ragctl.stages.ingest.work import Keys


@dataclass
class Todo:
    """A file to read, chunk and embed."""

    source: SourceFile
    sha256: str
    key: str
    status: str  # what it is if it reads fine: added | changed


@dataclass
class Plan:
    added: list[Todo] = field(default_factory=list)
    changed: list[Todo] = field(default_factory=list)
    retry: list[Todo] = field(default_factory=list)  # failed last time: no chunks to replace, so it is added
    unchanged: list[Entry] = field(default_factory=list)
    deleted: list[Entry] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)  # files with chunks but no manifest record (repair)

    def todo(self) -> list[Todo]:
        return self.added + self.changed + self.retry

    def idle(self) -> bool:
        """Nothing to add, change, retry, delete or repair."""
        return not (self.todo() or self.deleted or self.orphans)


def make_plan(files: list[SourceFile], manifest: Manifest, collection: Any | None, keys: Keys) -> Plan:
    suspects, orphans = _suspects(manifest, collection)
    plan = Plan(orphans=orphans)
    for source in files:
        if not source.refused:
            try:
                digest = sha256(source.path)
            except OSError as exc:  # unreadable to this user, or gone since it was found: its outcome, not a crash
                source = replace(source, refused=f"{UNREADABLE}{exc.strerror or exc}")
        if source.refused:
            # A refused file is never read: its key follows the reason (the link's target, the error).
            digest = hashlib.sha256(source.refused.encode()).hexdigest()
        entry = manifest.entries.get(source.name)
        key = keys.ingest_key(digest)
        if entry is None:
            plan.added.append(Todo(source, digest, key, "added"))
        elif entry.key == key and entry.state == "ok" and source.name not in suspects:
            plan.unchanged.append(entry)
        elif entry.state == "failed":
            plan.retry.append(Todo(source, digest, key, "added"))
        else:
            plan.changed.append(Todo(source, digest, key, "changed"))
    found = {f.name for f in files}
    plan.deleted = [e for name, e in sorted(manifest.entries.items()) if name not in found]
    return plan


def _suspects(manifest: Manifest, collection: Any | None) -> tuple[set[str], list[str]]:
    """When the chunk count disagrees with the manifest (chunks deleted behind ragctl's back), find the
    files whose chunks are incomplete and the chunks of files the manifest does not know. One count()
    call when all is well; a full scan only when something is off."""
    from ragctl.stages.ingest.write import chunk_census

    if collection is None or collection.count() == manifest.expected_chunks():
        return set(), []
    census = chunk_census(collection)
    suspects = {
        name
        for name, entry in manifest.entries.items()
        if entry.state == "ok" and census.get(name, {}) != {entry.key: entry.chunks}
    }
    return suspects, sorted(set(census) - set(manifest.entries))
