"""Answer metrics that need no judge: exact match and token F1 (SQuAD normalisation), ROUGE-L (the
`rouge_score` package), semantic similarity (cosine of the configured embedding model's vectors), and
whether the chain declined (for `answerable: false` items)."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = set(string.punctuation)


def normalize(text: str) -> str:
    """SQuAD normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, answers: Sequence[str]) -> float:
    return float(any(normalize(prediction) == normalize(a) for a in answers))


def token_f1(prediction: str, answers: Sequence[str]) -> float:
    def f1(pred: str, gold: str) -> float:
        p, g = normalize(pred).split(), normalize(gold).split()
        if not p or not g:
            return float(p == g)
        common = sum((Counter(p) & Counter(g)).values())
        if common == 0:
            return 0.0
        precision, recall = common / len(p), common / len(g)
        return 2 * precision * recall / (precision + recall)

    return max((f1(prediction, a) for a in answers), default=0.0)


@lru_cache(maxsize=1)
def _rouge() -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)


def rouge_l(prediction: str, answers: Sequence[str]) -> float:
    """Best ROUGE-L F-measure against any gold answer."""
    return max((_rouge().score(a, prediction)["rougeL"].fmeasure for a in answers), default=0.0)


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    import numpy as np

    va, vb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    denominator = float(np.linalg.norm(va) * np.linalg.norm(vb))
    return float(va @ vb / denominator) if denominator else 0.0


def semantic_similarity(prediction: str, answers: Sequence[str], embed: Any) -> float:
    """Best cosine similarity between the answer and a gold answer, with a llama-index embedding model."""
    if not prediction.strip():
        return 0.0
    vectors = embed.get_text_embedding_batch([prediction, *answers])
    return max((cosine(vectors[0], v) for v in vectors[1:]), default=0.0)


def declined(prediction: str, phrases: Sequence[str]) -> float:
    """1.0 when the answer is empty or says it cannot answer (any configured phrase, normalised)."""
    text = normalize(prediction)
    return float(not text or any(normalize(p) in text for p in phrases))
