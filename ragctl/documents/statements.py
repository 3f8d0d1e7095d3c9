"""Financial statements by their usual names (US GAAP and IFRS usage): a balance sheet is also a statement of
financial position, an income statement a statement of operations or of earnings. Used to carry a page's
statement into its chunks (chunking.tables) and to find the pages a question names (retrieval/parts.py)."""

from __future__ import annotations

import re
from collections.abc import Iterable

# statement -> the pattern that finds it, in a heading or a question alike (lower case, spaces collapsed)
NAMES = {
    "balance sheet": r"(?<!off-)(?<!off )balance sheets?"  # not "off-balance sheet arrangements"
    r"|statements? of (?:consolidated )?financial (?:position|condition)",
    "income statement": r"income statements?|statements? of (?:consolidated )?(?:income|operations|earnings)\b"
    r"|profit and loss|\bp ?& ?l\b",
    "cash flow statement": r"cash ?flows? statements?|statements? of (?:consolidated )?cash ?flows?",
    "equity statement": r"statements? of (?:changes in )?(?:stockholders|shareholders|owners)[’']? equity"
    r"|statements? of changes in equity|equity statements?",
    "comprehensive income": r"statements? of (?:consolidated )?comprehensive (?:income|loss)",
}
_COMPILED = {name: re.compile(pattern) for name, pattern in NAMES.items()}


def normal(text: str) -> str:
    return " ".join(text.lower().replace("’", "'").split())


def statements(text: str) -> set[str]:
    """The financial statements a heading, or a question, names."""
    lowered = normal(text)
    return {name for name, pattern in _COMPILED.items() if pattern.search(lowered)}


def page_statement(headings: Iterable[str]) -> str:
    """The first heading of a page that names a financial statement, as written; "" when none does."""
    return next((heading for heading in headings if statements(heading)), "")
