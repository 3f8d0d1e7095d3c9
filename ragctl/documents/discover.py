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


UNREADABLE = "cannot read: "  # how a refusal for an error of the file system begins (outcome corrupt)


@dataclass(frozen=True)
class SourceFile:
    path: Path
    name: str  # stable id: the path relative to the configured root it was found under (posix, valid UTF-8)
    refused: str = ""  # why it is not to be read (a symbolic link out of its folder), else ""


def display_name(relative: Path) -> str:
    """A file's name as ragctl records it: the relative posix path, with bytes that are not UTF-8 (a name
    from another encoding) written as \\xNN, so the name can be stored, shown and searched for."""
    return relative.as_posix().encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _escapes(path: Path, root: Path) -> bool:
    """Whether the file, followed through its links, lies outside the folder it was found under."""
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return True
    return False


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
            explicit = not match.is_dir() and not any(c in entry for c in "*?[")
            candidates = sorted(p for p in match.rglob("*") if p.is_file()) if match.is_dir() else [match]
            root = match if match.is_dir() else match.parent
            for path in candidates:
                name = display_name(path.relative_to(root))
                wanted = explicit or path.suffix.lower() in suffixes
                if wanted and not _excluded(name, config.exclude):
                    refused = ""
                    if not path.is_file():
                        # Opening a named pipe waits for a writer forever; a device never ends.
                        refused = "not a regular file (a named pipe, socket or device); only files are read"
                    elif not config.follow_symlinks and not explicit and _escapes(path, root):
                        refused = (
                            f"a symbolic link to {display_name(path.resolve())}, outside {display_name(root)}; "
                            "set ingestion.follow_symlinks: true to read it"
                        )
                    found.setdefault(path.resolve(), SourceFile(path, name, refused))
    if not found:
        raise DataError(
            f"no {'/'.join(config.formats)} files found under {', '.join(config.paths)}",
            "put the documents there, or point ingestion.paths at them (ingestion.formats and ingestion.exclude "
            "decide which files count)",
        )
    return sorted(found.values(), key=lambda f: f.name)


def _excluded(name: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(Path(name).name, p) for p in patterns)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
