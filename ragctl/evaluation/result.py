"""What an evaluation produces: each scored model (fresh or reused), and the verdict against thresholds and
a baseline. Plain data: the evaluate stage fills it, reports render it, records store and read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ragctl.evaluation.abstention import Calibration
from ragctl.evaluation.gates import Gate
from ragctl.evaluation.harness import Row
from ragctl.evaluation.statistics import Comparison


@dataclass
class Scored:
    """One model scored on the dataset (fresh, or reused from an earlier run)."""

    run_id: str
    model_uri: str
    model_id: str | None
    top_k: int
    rows: list[Row]
    metrics: dict[str, float]
    invalid: list[dict[str, str]]
    reused: bool = False


@dataclass
class Outputs:
    junit: Path | None = None
    report: Path | None = None
    summary: Path | None = None


@dataclass
class EvalResult:
    run_id: str
    experiment_id: str
    model_uri: str
    dataset: str
    questions: int
    metrics: dict[str, float]
    gates: list[Gate] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    baseline: Scored | None = None
    rows: list[Row] = field(default_factory=list)
    invalid: list[dict[str, str]] = field(default_factory=list)
    unmeasured: dict[str, int] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    # With answerable and unanswerable items: the retrieval.min_score that best tells them apart.
    abstention: Calibration | None = None

    @property
    def passed(self) -> bool:
        return all(g.passed for g in self.gates) and not any(c.regression for c in self.comparisons)
