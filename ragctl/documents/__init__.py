"""Finding and reading documents. Each reader turns one file into pages of clean text, or says why not.

A file that cannot be read raises `Unreadable(outcome, reason)`; ingest records the outcome and goes on.
Outcomes: ok, partial (some pages without text or failed), empty, encrypted, wrong-password, corrupt,
unsupported, too-large, timeout.
"""

from __future__ import annotations

from ragctl.documents.discover import SUFFIXES, UNREADABLE, SourceFile, discover, sha256
from ragctl.documents.read import PARSER_VERSION, read
from ragctl.documents.types import Document, Page, Unreadable

__all__ = [
    "PARSER_VERSION",
    "SUFFIXES",
    "UNREADABLE",
    "Document",
    "Page",
    "SourceFile",
    "Unreadable",
    "discover",
    "read",
    "sha256",
]
