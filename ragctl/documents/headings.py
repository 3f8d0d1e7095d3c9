"""Section headings, found on a page's lines before cleaning joins them (chunking.sections).

A heading is a line that is, by level:
1. a Markdown `#` heading (its `#` count is its level) or a "PART I" line;
2. an "Item 2." or "Note 6 –" line (SEC filings and financial notes);
3. a line in capitals ("CONDENSED CONSOLIDATED BALANCE SHEETS");
4. a short line in title case, with no closing punctuation and few digits, followed by a line of prose
   ("Share Repurchase Program" above "During the three months ended ..."): the prose rules out table rows.
Markdown files use `#` headings only. Positions are given in the cleaned text (documents/clean.py).
"""

from __future__ import annotations

import re

from ragctl.documents.clean import clean

Heading = tuple[int, int, str]  # (offset in the cleaned page text, level, text)

MAX_CHARS = 100
_MARKDOWN = re.compile(r"^(#{1,6})\s+(.+?)\s*#*$")
_PART = re.compile(r"^PART\s+[IVX]+\b", re.IGNORECASE)
_NUMBERED = re.compile(r"^(Item|ITEM|Note|NOTE)\s+\d+[A-Z]?\s*[.:–—-]")
_MARK = "\ue000"  # a private-use character: no extracted text has it, clean() leaves it alone
_SMALL_WORDS = {"a", "an", "and", "as", "at", "by", "for", "from", "in", "of", "on", "or", "the", "to", "with"}


def level(line: str, following: str) -> int | None:
    """The heading level of a (stripped) line of a non-Markdown page, or None for body text."""
    if not line or len(line) > MAX_CHARS or sum(c.isdigit() for c in line) > len(line) / 5:
        return None
    if _PART.match(line):
        return 1
    if _NUMBERED.match(line):
        return 2
    letters = [c for c in re.sub(r"\([^)]*\)", "", line) if c.isalpha()]
    if len(letters) >= 6 and all(c.isupper() for c in letters) and len(line.split()) >= 2:
        return 3
    if "$" in line or ";" in line or line[-1] in ".,;:?!" or not line[0].isupper():
        return None
    words = re.findall(r"[A-Za-z][\w’'&-]*", line)
    if not 1 <= len(words) <= 8 or any(w[0].islower() and w.lower() not in _SMALL_WORDS for w in words):
        return None
    prose = len(following) >= 60 and sum(c.islower() for c in following) > len(following) / 2
    return 4 if prose else None


def clean_with_headings(raw: str, markdown: bool = False) -> tuple[str, tuple[Heading, ...]]:
    """clean(raw), and the headings among raw's lines at their offsets in it. Heading lines are marked with a
    private-use character, the text cleaned once, and the marks taken out again (where they fell is where the
    headings start)."""
    lines = raw.replace(_MARK, "").splitlines()
    texts: list[tuple[int, str]] = []
    for index, line in enumerate(lines):
        stripped = line.strip()
        depth: int | None = None
        if markdown:
            match = _MARKDOWN.match(stripped)
            if match:
                depth, stripped = len(match.group(1)), match.group(2)
        else:
            following = next((ln.strip() for ln in lines[index + 1 : index + 4] if ln.strip()), "")
            depth = level(stripped, following)
        if depth is not None and stripped:
            texts.append((depth, " ".join(stripped.split())))
            indent = len(line) - len(line.lstrip())
            lines[index] = line[:indent] + _MARK + line[indent:]
    if not texts:
        return clean(raw), ()
    parts = clean("\n".join(lines)).split(_MARK)
    found, offset = [], len(parts[0])
    for (depth, text), part in zip(texts, parts[1:]):
        found.append((offset, depth, text))
        offset += len(part)
    return "".join(parts), tuple(found)


class Outline:
    """The headings in effect as a document is read page after page: a heading closes deeper ones."""

    def __init__(self) -> None:
        self._open: dict[int, str] = {}

    def enter(self, depth: int, text: str) -> None:
        self._open = {d: t for d, t in self._open.items() if d < depth}
        self._open[depth] = text

    def section(self) -> str:
        """The two innermost open headings ("Note 7 – Benefit Plans > Restricted Stock Units")."""
        return " > ".join(self._open[d] for d in sorted(self._open)[-2:])[: 2 * MAX_CHARS]
