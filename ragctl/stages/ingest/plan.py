"""What a run has to do: compare the files found with the manifest (not with every chunk's metadata)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ragctl.config.model import RagctlConfig
from ragctl.documents import SourceFile, sha256
from ragctl.stages.ingest.manifest import Entry, Manifest
from ragctl.stages.ingest.work import ingest_key


@dataclass
class Plan:
    added: list[tuple[SourceFile, str]] = field(default_factory=list)  # (file, sha256)
    changed: list[tuple[SourceFile, str]] = field(default_factory=list)
    retry: list[tuple[SourceFile, str]] = field(default_factory=list)  # failed last time, same content
    unchanged: list[Entry] = field(default_factory=list)
    deleted: list[Entry] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)  # files with chunks but no manifest record (repair)

    def todo(self) -> list[tuple[SourceFile, str, str]]:
        """(file, sha256, status if it reads fine) for every file to read, chunk and embed."""
        labelled = [(self.added, "added"), (self.changed, "changed"), (self.retry, "added")]
        return [(source, digest, status) for group, status in labelled for source, digest in group]


def make_plan(files: list[SourceFile], manifest: Manifest, collection: Any | None, config: RagctlConfig) -> Plan:
    suspects, orphans = _suspects(manifest, collection)
    plan = Plan(orphans=orphans)
    for source in files:
        digest = sha256(source.path)
        entry = manifest.entries.get(source.name)
        key = ingest_key(digest, config)
        if entry is None:
            plan.added.append((source, digest))
        elif entry.key == key and entry.state == "ok" and source.name not in suspects:
            plan.unchanged.append(entry)
        elif entry.key == key and entry.state == "failed":
            plan.retry.append((source, digest))
        else:
            plan.changed.append((source, digest))
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
