"""Retrieval and answer metrics. Pure functions, so they are tested without any model."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence
from typing import Any

_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize(text: str) -> str:
    """SQuAD normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, answers: Sequence[str]) -> float:
    return float(any(normalize(prediction) == normalize(a) for a in answers))


def token_f1(prediction: str, answers: Sequence[str]) -> float:
    def f1(pred: str, gold: str) -> float:
        p, g = normalize(pred).split(), normalize(gold).split()
        common = sum((Counter(p) & Counter(g)).values())
        if not p or not g:
            return float(p == g)
        if common == 0:
            return 0.0
        precision, recall = common / len(p), common / len(g)
        return 2 * precision * recall / (precision + recall)

    return max((f1(prediction, a) for a in answers), default=0.0)


def source_matches(retrieved: dict[str, Any], gold: dict[str, Any]) -> bool:
    """Same file (exact or as a path suffix) and, when the gold source names a page, the same page."""
    file = str(retrieved.get("file") or "")
    if not (file == gold["file"] or file.endswith("/" + gold["file"])):
        return False
    return gold.get("page") is None or retrieved.get("page") == gold["page"]


def first_hit_rank(retrieved: Sequence[dict[str, Any]], gold: Sequence[dict[str, Any]]) -> int | None:
    """1-based rank of the first retrieved source that matches any gold source."""
    for rank, source in enumerate(retrieved, start=1):
        if any(source_matches(source, g) for g in gold):
            return rank
    return None


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile, q in [0, 100]; 0.0 for no values."""
    import numpy as np

    return float(np.percentile(values, q)) if len(values) else 0.0
