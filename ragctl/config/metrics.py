"""Metric names and thresholds: what a threshold or a report may refer to, how a threshold is written
(`">= 0.8"`), and how a name maps to an MLflow metric key. The config validates against this vocabulary.

A retrieval metric is `<level><name>@k`: `hit_rate@5` matches gold sources as the dataset states them (file,
and page when given); `file_hit_rate@5` matches by file only. Without `@k` it means "at the chain's top_k".
MLflow keys may not contain `@`, so `hit_rate@5` is logged as `hit_rate_at_5`.
"""

from __future__ import annotations

import operator
import re

RETRIEVAL = ("hit_rate", "mrr", "recall", "precision", "ndcg")
LEVELS = ("", "file_")
# Per-question answer metrics; `declined` is scored only on `answerable: false` items; `citation_hit`: the
# file (and page, where the gold source names one) the answer cites is a gold source.
ANSWER = ("exact_match", "token_f1", "rouge_l", "semantic_similarity", "declined", "citation_hit")
# Whole-run figures computed from per-question timings and token counts.
LATENCY = ("latency_p50", "latency_p95", "retrieval_p50", "retrieval_p95", "generation_p50", "generation_p95")
TOKENS = ("tokens_in", "tokens_out")
# The best dense similarity a question's retrieval found: the evidence `retrieval.min_score` abstains on.
EVIDENCE = ("retrieval_similarity",)
JUDGE = ("groundedness", "relevance", "correctness")
# Higher is better for all but these.
LOWER_IS_BETTER = set(LATENCY) | set(TOKENS)
# Pass/fail per question: compared with McNemar's test; the rest with a paired bootstrap.
BINARY = {"hit_rate", "file_hit_rate", "exact_match", "declined", "citation_hit", *JUDGE}

_NAME = re.compile(r"^(?P<base>[a-z_0-9]+?)(?:@(?P<k>[1-9][0-9]*))?$")


def known_bases() -> list[str]:
    return [level + r for level in LEVELS for r in RETRIEVAL] + [*ANSWER, *LATENCY, *TOKENS, *JUDGE, *EVIDENCE]


def split(name: str) -> tuple[str, int | None]:
    """`hit_rate@5` -> ("hit_rate", 5); raises ValueError on a name no metric has."""
    match = _NAME.match(name)
    if not match or match["base"] not in known_bases():
        raise ValueError(f"unknown metric {name!r}; known: {', '.join(known_bases())} (retrieval ones take @k)")
    if match["k"] and not is_retrieval(match["base"]):
        raise ValueError(f"{name!r}: only retrieval metrics take @k")
    return match["base"], int(match["k"]) if match["k"] else None


def is_retrieval(base: str) -> bool:
    return base.removeprefix("file_") in RETRIEVAL


def higher_is_better(name: str) -> bool:
    return split(name)[0] not in LOWER_IS_BETTER


def is_binary(name: str) -> bool:
    return split(name)[0] in BINARY


def mlflow_key(name: str) -> str:
    return name.replace("@", "_at_")


OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt, "==": operator.eq}
_BOUND = re.compile(r"^\s*(>=|<=|>|<|==)\s*([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*$")


def parse_threshold(name: str, spec: str | float) -> tuple[str, float]:
    """A threshold -> (comparison, bound). A bare number means ">=" for a higher-is-better metric, else "<="."""
    split(name)  # raises ValueError naming the known metrics
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        return (">=" if higher_is_better(name) else "<="), float(spec)
    match = _BOUND.match(str(spec))
    if not match:
        raise ValueError(f'{name}: {spec!r} is not a comparison; write e.g. ">= 0.8" or "<= 10"')
    return match[1], float(match[2])
