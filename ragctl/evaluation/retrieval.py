"""Retrieval metrics against gold sources that name files and pages, never chunk ids (so a QA set survives
re-chunking). Pure functions over the ranked list of retrieved {file, page} sources."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

Source = dict[str, Any]


def matches(retrieved: Source, gold: Source, by_page: bool) -> bool:
    """Same file (exact, or the gold name as a path suffix) and, at page level when gold names a page, same page."""
    file = str(retrieved.get("file") or "")
    if not (file == gold["file"] or file.endswith("/" + gold["file"])):
        return False
    return not by_page or gold.get("page") is None or retrieved.get("page") == gold["page"]


def relevance(retrieved: Sequence[Source], gold: Sequence[Source], by_page: bool) -> list[bool]:
    """Per retrieved position: does it match some gold source."""
    return [any(matches(r, g, by_page) for g in gold) for r in retrieved]


def _novel(retrieved: Sequence[Source], gold: Sequence[Source], by_page: bool) -> list[bool]:
    """Per position: does it find a gold source no earlier position found (nDCG gains, so nDCG <= 1)."""
    seen: set[int] = set()
    gains = []
    for r in retrieved:
        new = next((i for i, g in enumerate(gold) if i not in seen and matches(r, g, by_page)), None)
        if new is not None:
            seen.add(new)
        gains.append(new is not None)
    return gains


def _found(retrieved: Sequence[Source], gold: Sequence[Source], by_page: bool) -> int:
    """How many distinct gold sources appear among the retrieved ones."""
    return sum(any(matches(r, g, by_page) for r in retrieved) for g in gold)


def scores(retrieved: Sequence[Source], gold: Sequence[Source], k: int, by_page: bool) -> dict[str, float]:
    """hit_rate, mrr, recall, precision and nDCG (binary gains) over the first k retrieved sources."""
    top = list(retrieved[:k])
    rel = relevance(top, gold, by_page)
    first = next((i for i, r in enumerate(rel, start=1) if r), None)
    ideal = sum(1 / math.log2(i + 1) for i in range(1, min(len(gold), k) + 1))
    dcg = sum(1 / math.log2(i + 1) for i, r in enumerate(_novel(top, gold, by_page), start=1) if r)
    return {
        "hit_rate": float(first is not None),
        "mrr": 1.0 / first if first else 0.0,
        "recall": _found(top, gold, by_page) / len(gold) if gold else 0.0,
        "precision": sum(rel) / k,
        "ndcg": dcg / ideal if ideal else 0.0,
    }


def all_scores(retrieved: Sequence[Source], gold: Sequence[Source], ks: Sequence[int]) -> dict[str, float]:
    """Every retrieval metric at every k, at page level (`hit_rate@3`) and file level (`file_hit_rate@3`)."""
    out = {}
    for k in ks:
        for prefix, by_page in (("", True), ("file_", False)):
            for name, value in scores(retrieved, gold, k, by_page).items():
                out[f"{prefix}{name}@{k}"] = value
    return out
