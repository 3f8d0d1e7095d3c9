"""What a person (or a CI system) reads after an evaluation: JSON, JUnit XML, Markdown and an HTML page."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ragctl.evaluation.harness import Row
    from ragctl.stages.evaluate import EvalResult, Outputs

WORST = 10


def badness(row: Row) -> float:
    """Lower is worse: the answer's token F1 (or whether it declined) plus whether retrieval found a source."""
    answer = row.values.get("token_f1", row.values.get("declined", 0.0))
    hit = max((v for k, v in row.values.items() if k.startswith("hit_rate@")), default=0.0)
    return answer + hit


def worst(result: EvalResult, n: int = WORST) -> list[Row]:
    return sorted(result.rows, key=badness)[:n]


def as_dict(result: EvalResult) -> dict[str, Any]:
    return {
        "run_id": result.run_id,
        "model_uri": result.model_uri,
        "dataset": result.dataset,
        "questions": result.questions,
        "passed": result.passed,
        "metrics": result.metrics,
        "gates": [
            {"metric": g.metric, "condition": g.condition, "value": g.value, "passed": g.passed} for g in result.gates
        ],
        "baseline": (
            {"model_uri": result.baseline.model_uri, "run_id": result.baseline.run_id, "reused": result.baseline.reused}
            if result.baseline
            else None
        ),
        "comparisons": [asdict(c) | {"delta": c.delta} for c in result.comparisons],
        "invalid": result.invalid,
        "unmeasured": result.unmeasured,
        "worst": [asdict(r) for r in worst(result)],
        "abstention": asdict(result.abstention) if result.abstention else None,
        "files": result.files,
    }


def write_all(result: EvalResult, outputs: Outputs) -> dict[str, Path]:
    from ragctl.evaluation.reports import html, junit, markdown

    written = {}
    for kind, path, writer in (
        ("junit", outputs.junit, junit.write),
        ("summary", outputs.summary, markdown.write),
        ("report", outputs.report, html.write),
    ):
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            writer(result, Path(path))
            written[kind] = Path(path)
    return written
