"""What reading a file yields: a Document of Pages, or Unreadable with the outcome and a one-line reason."""

from __future__ import annotations

from dataclasses import dataclass, field


class Unreadable(Exception):
    """The file yields no usable text. `outcome` is one of the failure outcomes, `reason` says why."""

    def __init__(self, outcome: str, reason: str) -> None:
        super().__init__(reason)
        self.outcome = outcome
        self.reason = reason


@dataclass(frozen=True)
class Page:
    number: int | None  # 1-based for PDFs, None for formats without pages
    text: str
    headings: tuple[tuple[int, int, str], ...] = ()  # (offset in text, level, heading): see headings.py


@dataclass
class Document:
    pages: list[Page]
    pages_total: int = 0
    pages_without_text: int = 0  # no text layer (scanned or image-only), after OCR if that is on
    pages_failed: int = 0  # extraction raised on these pages
    notes: list[str] = field(default_factory=list)
    title_parts: list[str] = field(default_factory=list)  # what the file says it is (see title.py)
    title: str = ""  # set by read(): the file name and the title parts

    @property
    def outcome(self) -> str:
        return "partial" if self.pages_without_text or self.pages_failed else "ok"

    @property
    def reason(self) -> str:
        parts = []
        if self.pages_without_text:
            parts.append(f"{self.pages_without_text} of {self.pages_total} pages have no text layer")
        if self.pages_failed:
            parts.append(f"{self.pages_failed} of {self.pages_total} pages failed to extract")
        return "; ".join(parts + self.notes)
