"""Thresholds with explicit comparisons (`hit_rate@5: ">= 0.8"`, `latency_p95: "<= 10"`) and their verdicts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ragctl.config.metrics import OPS, parse_threshold
from ragctl.config.model import JudgeConfig


@dataclass
class Gate:
    metric: str
    op: str
    bound: float
    value: float | None  # None: the metric could not be computed (e.g. no question had it)

    @property
    def passed(self) -> bool:
        return self.value is not None and bool(OPS[self.op](self.value, self.bound))

    @property
    def condition(self) -> str:
        return f"{self.op} {self.bound:g}"


def check(values: Mapping[str, float | None], thresholds: Mapping[str, str | float]) -> list[Gate]:
    gates = []
    for name, spec in thresholds.items():
        op, bound = parse_threshold(name, spec)
        gates.append(Gate(name, op, bound, values.get(name)))
    return gates


def unmeasured(judge: JudgeConfig | None, rows: Sequence[Any]) -> tuple[list[Gate], dict[str, int]]:
    """Per judge metric: a gate on the share of questions without a verdict, and how many those are."""
    if not judge:
        return [], {}
    counts: dict[str, int] = {}
    result: list[Gate] = []
    for metric in judge.metrics:
        judged = [r for r in rows if metric in r.values or metric in r.unmeasured]
        missing = sum(metric in r.unmeasured for r in judged)
        counts[metric] = missing
        share = missing / len(judged) if judged else 0.0
        result.append(Gate(f"{metric} unmeasured", "<=", judge.max_unmeasured, share))
    return result, counts
