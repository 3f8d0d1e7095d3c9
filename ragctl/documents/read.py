"""One file -> a Document of clean pages, or `Unreadable` with the outcome and a one-line reason."""

from __future__ import annotations

from pathlib import Path

from ragctl.config.model import IngestionConfig
from ragctl.documents.clean import strip_running_lines
from ragctl.documents.types import Document, Page, Unreadable

# Bump when reading or cleaning changes what text a file yields: ingest then asks for --rebuild.
# 4: documents carry a title (chunking.context); 5: pages carry their headings (chunking.sections), and a
# line ending in a hyphen is no longer joined to a heading line that follows it.
PARSER_VERSION = 5


def read(path: Path, name: str, config: IngestionConfig) -> Document:
    """Read and clean one file; raise Unreadable when nothing usable comes out."""
    from ragctl.documents import markup, pdf
    from ragctl.documents.headings import clean_with_headings
    from ragctl.documents.title import compose

    size_mb = path.stat().st_size / 2**20
    if size_mb > config.max_file_mb:
        raise Unreadable("too-large", f"{size_mb:.1f} MB is over ingestion.max_file_mb ({config.max_file_mb:g})")
    suffix = path.suffix.lower()
    readers = {".pdf": pdf.read, ".html": markup.read_html, ".htm": markup.read_html, ".docx": markup.read_docx}
    if suffix in (".txt", ".md", ".markdown"):
        doc = markup.read_text(path, config.fallback_encodings)
    elif suffix in readers:
        doc = readers[suffix](path, name, config)
    else:
        raise Unreadable("unsupported", f"no reader for '{suffix or path.name}' files (pdf, txt, md, html, docx)")
    doc.title = compose(name, doc.title_parts)
    texts = strip_running_lines([p.text for p in doc.pages])
    markdown = suffix in (".md", ".markdown")
    doc.pages = [Page(p.number, *clean_with_headings(t, markdown)) for p, t in zip(doc.pages, texts)]
    doc.pages = [p for p in doc.pages if p.text]
    if sum(len(p.text) for p in doc.pages) < config.min_chars:
        if doc.pages_total and doc.pages_without_text >= doc.pages_total:
            raise Unreadable(
                "empty", f"none of {doc.pages_total} pages has a text layer (scanned? see ingestion.pdf.ocr)"
            )
        raise Unreadable("empty", "no extractable text")
    return doc
