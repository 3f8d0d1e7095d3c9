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


def _title_parts(reader: Any, first_page: str) -> list[str]:
    from ragctl.documents.title import period, registrant

    try:
        meta = reader.metadata or {}
        parts = [str(meta.get("/Title") or ""), str(meta.get("/Subject") or "")]
    except Exception:  # unreadable metadata must not cost the text
        parts = []
    return [*parts, registrant(first_page), period(first_page)]


def _pages(reader: Any, path: Path, config: IngestionConfig) -> Document:
    from pypdf.errors import LimitReachedError

    pages: list[Page] = []
    doc = Document(pages, pages_total=len(reader.pages))
    blank: list[int] = []
    for number, page in enumerate(reader.pages, start=1):
        try:
            text = page.extract_text() or ""
        except LimitReachedError:
            raise
        except Exception:
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
    doc.title_parts = _title_parts(reader, pages[0].text if pages else "")
    return doc
