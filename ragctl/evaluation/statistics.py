"""Is a candidate worse than its baseline, or is the difference noise? Per-question paired comparisons:
a paired bootstrap interval of the mean difference (scipy) for continuous metrics, McNemar's exact test
(statsmodels) for pass/fail ones."""

from __future__ import annotations

from dataclasses import dataclass

from ragctl.config.model import RegressionConfig


@dataclass
class Comparison:
    metric: str
    questions: int  # paired questions
    baseline: float
    candidate: float
    low: float  # interval of candidate - baseline
    high: float
    method: str  # "bootstrap" | "mcnemar"
    p_value: float | None
    regression: bool

    @property
    def delta(self) -> float:
        return self.candidate - self.baseline


def _interval(diffs: list[float], settings: RegressionConfig) -> tuple[float, float]:
    import numpy as np
    from scipy.stats import bootstrap

    data = np.asarray(diffs, dtype=float)
    if len(data) < 2 or np.all(data == data[0]):
        return float(data.mean()), float(data.mean())
    ci = bootstrap(
        (data,),
        np.mean,
        confidence_level=settings.confidence,
        n_resamples=settings.resamples,
        method="percentile",
        random_state=np.random.default_rng(settings.seed),
    ).confidence_interval
    return float(ci.low), float(ci.high)


def _mcnemar(base: list[float], cand: list[float]) -> float:
    from statsmodels.stats.contingency_tables import mcnemar

    pairs = list(zip((b >= 0.5 for b in base), (c >= 0.5 for c in cand)))
    table = [
        [sum(b and c for b, c in pairs), sum(b and not c for b, c in pairs)],
        [sum(c and not b for b, c in pairs), sum(not b and not c for b, c in pairs)],
    ]
    if table[0][1] + table[1][0] == 0:
        return 1.0
    return float(mcnemar(table, exact=True).pvalue)


def compare(
    metric: str,
    baseline: dict[str, float],
    candidate: dict[str, float],
    binary: bool,
    higher_is_better: bool,
    settings: RegressionConfig,
) -> Comparison | None:
    """Compare on the questions both have; a regression needs significance AND a drop beyond tolerance."""
    ids = sorted(set(baseline) & set(candidate))
    if not ids:
        return None
    base, cand = [baseline[i] for i in ids], [candidate[i] for i in ids]
    diffs = [c - b for b, c in zip(base, cand)]
    mean_b, mean_c = sum(base) / len(ids), sum(cand) / len(ids)
    low, high = _interval(diffs, settings)
    worse = (mean_c - mean_b) if not higher_is_better else (mean_b - mean_c)  # > 0: candidate is worse
    alpha = 1 - settings.confidence
    if binary:
        p_value: float | None = _mcnemar(base, cand)
        significant = bool(p_value is not None and p_value < alpha)
    else:
        p_value = None
        significant = high < 0 if higher_is_better else low > 0
    return Comparison(
        metric=metric,
        questions=len(ids),
        baseline=mean_b,
        candidate=mean_c,
        low=low,
        high=high,
        method="mcnemar" if binary else "bootstrap",
        p_value=p_value,
        regression=bool(significant and worse > settings.tolerance),
    )
