"""Expand the configured paths (files, folders, globs) into the files to ingest."""

from __future__ import annotations

import fnmatch
import hashlib
from dataclasses import dataclass
from pathlib import Path

from ragctl.config.model import IngestionConfig
from ragctl.errors import DataError

SUFFIXES = {
    "pdf": (".pdf",),
    "txt": (".txt",),
    "md": (".md", ".markdown"),
    "html": (".html", ".htm"),
    "docx": (".docx",),
}


@dataclass(frozen=True)
class SourceFile:
    path: Path
    name: str  # stable id: the path relative to the configured root it was found under (posix)


def discover(config: IngestionConfig) -> list[SourceFile]:
    """The files to ingest, sorted by name, no duplicates. A file named explicitly is kept whatever its
    suffix, so that ingest can report it as unsupported instead of silently ignoring it."""
    suffixes = tuple(s for fmt in config.formats for s in SUFFIXES[fmt])
    found: dict[Path, SourceFile] = {}
    for entry in config.paths:
        matches = sorted(Path().glob(entry)) if any(c in entry for c in "*?[") else [Path(entry)]
        if not matches or not all(m.exists() for m in matches):
            raise DataError(f"ingestion.paths: '{entry}' does not exist", "paths are relative to the working directory")
        for match in matches:
            explicit = match.is_file() and not any(c in entry for c in "*?[")
            candidates = sorted(p for p in match.rglob("*") if p.is_file()) if match.is_dir() else [match]
            root = match if match.is_dir() else match.parent
            for path in candidates:
                name = path.relative_to(root).as_posix()
                wanted = explicit or path.suffix.lower() in suffixes
                if wanted and not _excluded(name, config.exclude):
                    found.setdefault(path.resolve(), SourceFile(path, name))
    if not found:
        raise DataError(f"no {'/'.join(config.formats)} files found under {', '.join(config.paths)}")
    return sorted(found.values(), key=lambda f: f.name)


def _excluded(name: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(Path(name).name, p) for p in patterns)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
