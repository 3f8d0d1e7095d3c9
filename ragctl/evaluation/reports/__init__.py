"""What a person (or a CI system) reads after an evaluation: JSON, JUnit XML, Markdown and an HTML page."""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragctl.outputs import check_writable

if TYPE_CHECKING:
    from ragctl.evaluation.harness import Row
    from ragctl.evaluation.result import EvalResult, Outputs

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


def asked(outputs: Outputs) -> dict[str, Path]:
    """The report files asked for, by kind."""
    paths = {"junit": outputs.junit, "report": outputs.report, "summary": outputs.summary}
    return {kind: Path(path) for kind, path in paths.items() if path}


def check(outputs: Outputs) -> None:
    """Refuse, before any scoring, a report path that cannot be written (a directory, a file in the way)."""
    for option, path in (("--junit", outputs.junit), ("--report", outputs.report), ("--summary", outputs.summary)):
        if path is not None:
            check_writable(option, path)


def write_all(result: EvalResult, outputs: Outputs, folder: Path) -> dict[str, Path]:
    """Write the asked-for reports into `folder` (this run's own), then put a copy at each asked-for path
    (atomically: a reader never sees half a file; two runs given one path each log their own)."""
    import shutil

    from ragctl.evaluation.reports import html, junit, markdown

    written = {}
    for kind, path, writer in (
        ("junit", outputs.junit, junit.write),
        ("summary", outputs.summary, markdown.write),
        ("report", outputs.report, html.write),
    ):
        if path:
            own = folder / Path(path).name
            writer(result, own)
            target = Path(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
            shutil.copyfile(own, partial)
            os.replace(partial, target)
            written[kind] = own
    return written
