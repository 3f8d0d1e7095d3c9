"""PDFs with pypdf, page by page: configurable safety limits, passwords, and optional OCR of pages
that have no text layer."""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from ragctl.config.model import IngestionConfig
from ragctl.documents.types import Document, Page, Unreadable

T = TypeVar("T")


def passwords_matching(name: str, passwords: Mapping[str, T]) -> dict[str, T]:
    """The entries of `ingestion.pdf.passwords` whose glob matches the file's relative path or its file name."""
    base = Path(name).name
    return {p: s for p, s in passwords.items() if fnmatch.fnmatch(name, p) or fnmatch.fnmatch(base, p)}


def passwords_for(name: str, config: IngestionConfig) -> list[str]:
    """The configured passwords for this file, to try in order."""
    return [secret.get_secret_value() for secret in passwords_matching(name, config.pdf.passwords).values()]


def _decrypt(reader: Any, name: str, config: IngestionConfig) -> None:
    from pypdf import PasswordType

    if reader.decrypt("") != PasswordType.NOT_DECRYPTED:
        return  # an owner password only: readable by anyone
    candidates = passwords_for(name, config)
    if not candidates:
        raise Unreadable("encrypted", "encrypted PDF: no password configured (ingestion.pdf.passwords)")
    for password in candidates:
        if reader.decrypt(password) != PasswordType.NOT_DECRYPTED:
            return
    raise Unreadable("wrong-password", f"encrypted PDF: none of the {len(candidates)} configured password(s) opens it")


def read(path: Path, name: str, config: IngestionConfig) -> Document:
    if config.pdf.engine == "pdfium":
        return _read_pdfium(path, name, config)
    return _read_pypdf(path, name, config)


def _read_pdfium(path: Path, name: str, config: IngestionConfig) -> Document:
    try:
        import pypdfium2
    except ImportError:
        raise Unreadable(
            "unsupported", "ingestion.pdf.engine pdfium needs pypdfium2: pip install 'ragctl[pdfium]'"
        ) from None
    document, candidates = None, passwords_for(name, config)
    for password in [None, *candidates]:
        try:
            document = pypdfium2.PdfDocument(str(path), password=password)
            break
        except pypdfium2.PdfiumError as exc:
            if "password" not in str(exc).lower():
                raise Unreadable("corrupt", f"corrupt PDF: {exc}") from None
    if document is None:
        if not candidates:
            raise Unreadable("encrypted", "encrypted PDF: no password configured (ingestion.pdf.passwords)")
        raise Unreadable(
            "wrong-password", f"encrypted PDF: none of the {len(candidates)} configured password(s) opens it"
        )
    try:
        texts: list[str | None] = []
        for index in range(len(document)):
            try:
                texts.append(document[index].get_textpage().get_text_range())
            except pypdfium2.PdfiumError:
                texts.append(None)
        try:
            meta = document.get_metadata_dict()
        except pypdfium2.PdfiumError:  # unreadable metadata must not cost the text
            meta = {}
    finally:
        document.close()
    # PDFium ends lines with CRLF; the cleaning that follows expects what pypdf gives.
    return _document(path, config, [None if t is None else t.replace("\r\n", "\n") for t in texts], meta)


def _read_pypdf(path: Path, name: str, config: IngestionConfig) -> Document:
    from pypdf import PdfReader, apply_configuration
    from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError, PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    limits = config.pdf.limits.model_dump(exclude_none=True)
    try:
        with apply_configuration(**limits):
            reader = PdfReader(path)
            if reader.is_encrypted:
                _decrypt(reader, name, config)
            return _pages(reader, path, config)
    except Unreadable:
        raise
    except FileNotDecryptedError as exc:
        raise Unreadable("encrypted", f"encrypted PDF: {exc}") from None
    except DependencyError as exc:
        raise Unreadable("unsupported", f"needs an extra package: {exc}") from None
    except LimitReachedError as exc:
        raise Unreadable("too-large", f"pypdf safety limit: {exc} (raise it under ingestion.pdf.limits)") from None
    except PdfReadError as exc:
        raise Unreadable("corrupt", f"corrupt PDF: {exc}") from None
    except Exception as exc:  # pypdf raises many types on hostile files; the reason is what matters
        raise Unreadable("corrupt", f"unreadable PDF: {type(exc).__name__}: {exc}") from None


def _metadata(reader: Any) -> dict[str, str]:
    try:
        meta = reader.metadata or {}
        return {"Title": str(meta.get("/Title") or ""), "Subject": str(meta.get("/Subject") or "")}
    except Exception:  # unreadable metadata must not cost the text
        return {}


def _pages(reader: Any, path: Path, config: IngestionConfig) -> Document:
    from pypdf.errors import LimitReachedError

    texts: list[str | None] = []
    for page in reader.pages:
        try:
            texts.append(page.extract_text() or "")
        except LimitReachedError:
            raise
        except Exception:
            texts.append(None)
    return _document(path, config, texts, _metadata(reader))


def _document(path: Path, config: IngestionConfig, texts: list[str | None], meta: Mapping[str, Any]) -> Document:
    """The pages an engine extracted (None: the page failed), OCR of the blank ones, and the title's parts."""
    from ragctl.documents.title import period, registrant

    pages: list[Page] = []
    doc = Document(pages, pages_total=len(texts))
    blank: list[int] = []
    for number, text in enumerate(texts, start=1):
        if text is None:
            doc.pages_failed += 1
            continue
        if len(text.strip()) < 3:
            blank.append(number)
        pages.append(Page(number, text))
    if blank and config.pdf.ocr:
        from ragctl.documents.ocr import ocr_pages

        recognised = ocr_pages(path, blank)
        pages[:] = [Page(p.number, recognised.get(p.number or 0, p.text)) for p in pages]
        blank = [n for n in blank if len(recognised.get(n, "").strip()) < 3]
        if recognised:
            doc.notes.append(f"OCR read {len(recognised)} page(s)")
    doc.pages_without_text = len(blank)
    first = pages[0].text if pages else ""
    doc.title_parts = [str(meta.get("Title") or ""), str(meta.get("Subject") or ""), registrant(first), period(first)]
    return doc
