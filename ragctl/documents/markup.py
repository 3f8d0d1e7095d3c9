"""Text, Markdown, HTML (BeautifulSoup) and DOCX (python-docx): one page each."""

from __future__ import annotations

import codecs
from pathlib import Path

from ragctl.config.model import IngestionConfig
from ragctl.documents.types import Document, Page, Unreadable

# HTML elements whose text is not document content.
_NOT_CONTENT = ["script", "style", "noscript", "template", "svg", "nav", "header", "footer", "form"]


# A byte-order mark names its encoding outright (Notepad's "Unicode" is UTF-16 with one). UTF-32's marks
# come first: UTF-32-LE's begins with UTF-16-LE's.
_MARKS = [
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]


def decode(data: bytes, fallbacks: list[str]) -> str:
    """The text of a file: by its byte-order mark if it has one, else UTF-8, else the first of the configured
    fallback encodings that decodes it. Guessing is no fallback: detectors read latin-1 prose as cp1250."""
    marked = next((encoding for mark, encoding in _MARKS if data.startswith(mark)), None)
    for encoding in [marked] if marked else ["utf-8", *fallbacks]:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    if marked:
        named = marked.removesuffix("-sig").upper()
        raise Unreadable("unsupported", f"not valid {named} text, though it begins with its byte-order mark")
    tried = " or ".join(["UTF-8", *fallbacks])
    hint = "" if fallbacks else "; if you know its encoding, name it in ingestion.fallback_encodings (e.g. [cp1252])"
    raise Unreadable("unsupported", f"not {tried} text{hint}")


def read_text(path: Path, fallbacks: list[str]) -> Document:
    from ragctl.documents.clean import without_data_uris
    from ragctl.documents.title import markdown_heading

    try:
        text = without_data_uris(decode(path.read_bytes(), fallbacks))
    except OSError as exc:
        raise Unreadable("corrupt", f"cannot read: {exc.strerror or exc}") from None
    return Document([Page(None, text)], title_parts=[markdown_heading(text)])


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
