"""Undo page layout: join wrapped lines, drop running headers and footers."""

from __future__ import annotations

import re


def clean(text: str) -> str:
    """Join hyphenated breaks and wrapped lines, drop NULs, collapse spaces; keep paragraphs."""
    text = text.replace("\x00", "").replace("\r\n", "\n")
    text = re.sub(r"(\w)-\n(\w)", r"\1\2", text)
    text = re.sub(r"[ \t\f\v]+", " ", text)
    text = re.sub(r" ?\n ?", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    text = re.sub(r"(?<!\n)\n(?!\n)", " ", text)  # a single line break is layout, not structure
    return text.strip()


# A file inlined as base64 (`![chart](data:image/png;base64,...)`, as Markdown editors export images): not
# prose, and a megabyte of it would be thousands of chunks of noise in both indexes.
_DATA_URI = re.compile(r"data:[\w.+-]+/[\w.+-]+(?:;[\w.+-]+=[\w.+-]+)*;base64,[A-Za-z0-9+/=]+")
_EMPTIED_IMAGE = re.compile(r"!\[([^\]]*)\]\(\s*\)")


def without_data_uris(text: str) -> str:
    """Inlined base64 files taken out; a Markdown image left without its data keeps its alt text."""
    if "base64," not in text:
        return text
    return _EMPTIED_IMAGE.sub(r"\1", _DATA_URI.sub("", text))


def without_leaders(text: str) -> str:
    """Dot and underscore leaders (a table row's "Total assets ........ $ 59,268") collapsed to a space."""
    return re.sub(r" ?(?:[.] ?){4,}| ?_{4,} ?", " ", text)


def _shape(line: str) -> str:
    return re.sub(r"\d+", "#", line.strip().lower())


def strip_running_lines(texts: list[str]) -> list[str]:
    """Drop page headers/footers: first/last lines that recur (digits aside) on at least half of the pages."""
    if len(texts) < 3:
        return texts
    edges: dict[str, int] = {}
    for text in texts:
        lines = [ln for ln in text.splitlines() if ln.strip()]
        for line in {_shape(x) for x in lines[:2] + lines[-2:]}:
            edges[line] = edges.get(line, 0) + 1
    running = {line for line, n in edges.items() if n >= len(texts) / 2}
    return ["\n".join(ln for ln in text.splitlines() if _shape(ln) not in running) for text in texts]
