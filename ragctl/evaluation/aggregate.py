"""Per-question rows -> run-level figures under user-facing names (`hit_rate@3`, `latency_p95`, ...)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from ragctl.config import metrics

# Per-question timing values (scorers.timing) and the run-level percentiles made of them.
_PERCENTILES = {"latency": "latency", "retrieval_seconds": "retrieval", "generation_seconds": "generation"}


def percentile(values: Sequence[float], q: float) -> float | None:
    import numpy as np

    return float(np.percentile(values, q)) if len(values) else None


def per_question(rows: Sequence[Any], name: str, top_k: int) -> dict[str, float]:
    """Question id -> its value of a metric; a retrieval metric without @k is taken at the chain's top_k,
    latencies are the per-question seconds."""
    base, k = metrics.split(name)
    key = name
    if metrics.is_retrieval(base) and k is None:
        key = f"{base}@{top_k}"
    elif base.startswith("latency"):
        key = "latency"
    elif base.startswith(("retrieval_p", "generation_p")):
        key = base.split("_")[0] + "_seconds"
    return {r.id: r.values[key] for r in rows if key in r.values}


def summarize(rows: Sequence[Any], top_k: int) -> dict[str, float]:
    """Means of every per-question metric, p50/p95 of the timings, and the retrieval metrics at top_k
    also under their plain names (`hit_rate` = `hit_rate@top_k`)."""
    collected: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        for name, value in row.values.items():
            collected[name].append(value)
    out: dict[str, float] = {}
    for name, values in sorted(collected.items()):
        if name in _PERCENTILES:
            for q in (50, 95):
                value = percentile(values, q)
                if value is not None:
                    out[f"{_PERCENTILES[name]}_p{q}"] = value
        else:
            out[name] = sum(values) / len(values)
    for base in [level + r for level in metrics.LEVELS for r in metrics.RETRIEVAL]:
        if f"{base}@{top_k}" in out:
            out[base] = out[f"{base}@{top_k}"]
    return out
