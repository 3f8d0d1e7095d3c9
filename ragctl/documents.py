"""Finding and reading documents: PDFs page by page with pypdf, text and Markdown whole.

A file that cannot be read raises `UnreadableFile` with a one-line reason; ingest reports it and goes on.
"""

from __future__ import annotations

import fnmatch
import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from ragctl.config.model import IngestionConfig
from ragctl.errors import DataError

# Bump when reading or cleaning changes what text a file yields: ingest then redoes every file.
PIPELINE_VERSION = 2
SUFFIXES = {"pdf": (".pdf",), "txt": (".txt",), "md": (".md", ".markdown")}


class UnreadableFile(Exception):
    """The file exists but yields no usable text; the message is the reason shown to the user."""


@dataclass(frozen=True)
class SourceFile:
    path: Path
    name: str  # stable id: the path relative to the configured root it was found under (posix)


@dataclass(frozen=True)
class Page:
    number: int | None  # 1-based for PDFs, None for text files
    text: str


def discover(config: IngestionConfig) -> list[SourceFile]:
    """Expand the configured paths (files, folders, globs) into the files to ingest, sorted, no duplicates."""
    suffixes = tuple(s for fmt in config.formats for s in SUFFIXES[fmt])
    found: dict[Path, SourceFile] = {}
    for entry in config.paths:
        matches = sorted(Path().glob(entry)) if any(c in entry for c in "*?[") else [Path(entry)]
        if not matches or not all(m.exists() for m in matches):
            raise DataError(f"ingestion.paths: '{entry}' does not exist", "paths are relative to the working directory")
        for match in matches:
            candidates = sorted(p for p in match.rglob("*") if p.is_file()) if match.is_dir() else [match]
            root = match if match.is_dir() else match.parent
            for path in candidates:
                name = path.relative_to(root).as_posix()
                if path.suffix.lower() in suffixes and not _excluded(name, config.exclude):
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


def clean(text: str) -> str:
    """Undo line layout: join hyphenated breaks and wrapped lines, drop NULs, collapse spaces; keep paragraphs."""
    text = text.replace("\x00", "").replace("\r\n", "\n")
    text = re.sub(r"(\w)-\n(\w)", r"\1\2", text)
    text = re.sub(r"[ \t\f\v]+", " ", text)
    text = re.sub(r" ?\n ?", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    text = re.sub(r"(?<!\n)\n(?!\n)", " ", text)  # a single line break is layout, not structure
    return text.strip()


def strip_running_lines(pages: list[Page]) -> list[Page]:
    """Drop page headers/footers: first/last lines that recur (digits aside) on at least half of the pages."""
    if len(pages) < 3:
        return pages

    def shape(line: str) -> str:
        return re.sub(r"\d+", "#", line.strip().lower())

    edges: dict[str, int] = {}
    for page in pages:
        lines = [ln for ln in page.text.splitlines() if ln.strip()]
        for line in {shape(x) for x in lines[:2] + lines[-2:]}:
            edges[line] = edges.get(line, 0) + 1
    running = {line for line, n in edges.items() if n >= len(pages) / 2}
    return [Page(p.number, "\n".join(ln for ln in p.text.splitlines() if shape(ln) not in running)) for p in pages]


def read_pages(path: Path, min_chars: int) -> list[Page]:
    pages = _read_pdf(path) if path.suffix.lower() == ".pdf" else _read_text(path)
    pages = [Page(p.number, clean(p.text)) for p in strip_running_lines(pages)]
    pages = [p for p in pages if p.text]
    if sum(len(p.text) for p in pages) < min_chars:
        kind = "image-only or scanned PDF?" if path.suffix.lower() == ".pdf" else "empty file"
        raise UnreadableFile(f"no extractable text ({kind})")
    return pages


def _read_text(path: Path) -> list[Page]:
    try:
        return [Page(None, path.read_text(encoding="utf-8"))]
    except UnicodeDecodeError:
        raise UnreadableFile("not UTF-8 text") from None
    except OSError as exc:
        raise UnreadableFile(f"cannot read: {exc.strerror or exc}") from None


def _read_pdf(path: Path) -> list[Page]:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableFile("encrypted PDF (a password is required)")
        return [Page(i, page.extract_text() or "") for i, page in enumerate(reader.pages, start=1)]
    except UnreadableFile:
        raise
    except FileNotDecryptedError:
        raise UnreadableFile("encrypted PDF (a password is required)") from None
    except DependencyError as exc:
        raise UnreadableFile(f"encrypted PDF needs an extra package: {exc}") from None
    except PdfReadError as exc:
        raise UnreadableFile(f"corrupt PDF: {exc}") from None
    except Exception as exc:  # pypdf raises many types on hostile files; the reason is what matters
        raise UnreadableFile(f"unreadable PDF: {type(exc).__name__}: {exc}") from None
