"""Text, Markdown, HTML (BeautifulSoup) and DOCX (python-docx): one page each."""

from __future__ import annotations

from pathlib import Path

from ragctl.config.model import IngestionConfig
from ragctl.documents.types import Document, Page, Unreadable

# HTML elements whose text is not document content.
_NOT_CONTENT = ["script", "style", "noscript", "template", "svg", "nav", "header", "footer", "form"]


def read_text(path: Path) -> Document:
    from ragctl.documents.title import markdown_heading

    try:
        text = path.read_text(encoding="utf-8")
        return Document([Page(None, text)], title_parts=[markdown_heading(text)])
    except UnicodeDecodeError:
        raise Unreadable("unsupported", "not UTF-8 text") from None
    except OSError as exc:
        raise Unreadable("corrupt", f"cannot read: {exc.strerror or exc}") from None


def read_html(path: Path, name: str, config: IngestionConfig) -> Document:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(path.read_bytes(), "html.parser")  # detects the encoding from the bytes and meta tags
    for tag in soup(_NOT_CONTENT):
        tag.decompose()
    body = soup.body or soup
    # Block elements end paragraphs; clean() then joins lines inside a paragraph.
    text = body.get_text("\n\n", strip=True)
    title = soup.title.get_text(strip=True) if soup.title else ""
    if title and not text.startswith(title):
        text = f"{title}\n\n{text}"
    heading = soup.find("h1")
    return Document([Page(None, text)], title_parts=[title, heading.get_text(" ", strip=True) if heading else ""])


def read_docx(path: Path, name: str, config: IngestionConfig) -> Document:
    import docx

    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises zip, XML and its own errors on broken files
        raise Unreadable("corrupt", f"not a valid DOCX file: {type(exc).__name__}: {exc}") from None
    blocks = [p.text for p in document.paragraphs if p.text.strip()]
    for table in document.tables:
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells if c.text.strip()]
            if cells:
                blocks.append(" | ".join(dict.fromkeys(cells)))  # merged cells repeat their text
    return Document([Page(None, "\n\n".join(blocks))], title_parts=[document.core_properties.title or ""])
