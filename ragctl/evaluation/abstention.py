"""Calibrating `retrieval.min_score`: the chain declines when its best dense similarity is below it. Given the
best similarity of answerable and of unanswerable questions, the threshold that maximises the smaller of the
two rates (unanswerable ones declined, answerable ones answered)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass
class Calibration:
    min_score: float
    declined: float  # of the unanswerable questions, the share declined at min_score
    answered: float  # of the answerable questions, the share answered at min_score


def rates(evidence: Sequence[tuple[float, bool]], floor: float) -> tuple[float, float]:
    """(share of unanswerable declined, share of answerable answered) at this threshold."""
    unanswerable = [s for s, answerable in evidence if not answerable]
    answerable = [s for s, ok in evidence if ok]
    declined = sum(s < floor for s in unanswerable) / max(1, len(unanswerable))
    answered = sum(s >= floor for s in answerable) / max(1, len(answerable))
    return declined, answered


def calibrate(evidence: Sequence[tuple[float, bool]]) -> Calibration | None:
    """`evidence`: (best similarity, answerable) per question; None unless both kinds are present."""
    if not any(ok for _, ok in evidence) or all(ok for _, ok in evidence):
        return None
    candidates = sorted({round(s, 3) for s, _ in evidence})
    best = max(candidates, key=lambda floor: (min(rates(evidence, floor)), -floor))
    return Calibration(best, *rates(evidence, best))
