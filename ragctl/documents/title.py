"""A document's title: what one chunk of it cannot say on its own (which company, which period, which
report), so that `chunking.context` can carry it into every chunk's embedded text.

Made of the distinct parts found, in this order: the file name (people name files for what they hold:
"2023 Q1 AAPL"), the document's own title (PDF /Title, HTML <title>, DOCX core title, a Markdown `# `
heading), its PDF /Subject, and what a report's cover says: the entity an SEC filing names ("Apple Inc.") and the
period it covers ("quarterly period ended December 31, 2022"). Identifiers
(accession numbers, `(unspecified)`) are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Any

MAX_CHARS = 240
# SEC filings (10-K, 10-Q, 8-K, ...) print the registrant's name on the line above this one.
_REGISTRANT = re.compile(r"^\s*\(?exact name of (the )?registrant", re.IGNORECASE)
_PERIOD = re.compile(
    r"for the (quarterly period|fiscal year|fiscal quarter|year|quarter|period) ended:?\s+"
    r"([A-Z][a-z]+\s+\d{1,2},\s*\d{4})",
    re.IGNORECASE,
)
_PLACEHOLDERS = {"untitled", "(unspecified)", "unspecified", "none", "title"}


def wordy(value: Any) -> str:
    """The value if it reads as words: two or more letters in a row, not a placeholder or an identifier."""
    text = " ".join(str(value or "").split())
    if text.lower() in _PLACEHOLDERS or not re.search(r"[A-Za-z]{2,}", text):
        return ""
    return text


def file_part(name: str) -> str:
    """The file name without folders and extension, separators as spaces: "2023_Q1-AAPL.pdf" -> "2023 Q1 AAPL"."""
    return " ".join(re.split(r"[_\-\s]+", PurePosixPath(name).stem)).strip()


def registrant(first_page: str) -> str:
    """The entity an SEC filing names on its cover, or ""."""
    lines = [line.strip() for line in first_page.splitlines() if line.strip()]
    for index, line in enumerate(lines):
        if index and _REGISTRANT.match(line):
            return wordy(lines[index - 1])
    return ""


def period(first_page: str) -> str:
    """ "quarterly period ended December 31, 2022" from a report's cover, or ""."""
    match = _PERIOD.search(" ".join(first_page.split()))
    return f"{match.group(1).lower()} ended {match.group(2)}" if match else ""


def markdown_heading(text: str) -> str:
    match = re.search(r"^#\s+(.+)$", text, re.MULTILINE)
    return wordy(match.group(1)) if match else ""


def compose(name: str, parts: Iterable[str]) -> str:
    """The file part, then each other part that adds something (case-insensitively new), within MAX_CHARS."""
    chosen: list[str] = []
    for part in [file_part(name), *parts]:
        part = wordy(part) or (part if not chosen else "")
        if part and not any(part.lower() in c.lower() for c in chosen):
            chosen = [c for c in chosen if c.lower() not in part.lower()] + [part]
    return " | ".join(chosen)[:MAX_CHARS]
