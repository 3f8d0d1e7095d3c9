"""A Markdown summary for a pull-request comment or $GITHUB_STEP_SUMMARY."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ragctl.evaluation.reports import worst
from ragctl.evaluation.reports.junit import fmt

if TYPE_CHECKING:
    from ragctl.evaluation.result import EvalResult


def _cell(text: str, limit: int = 120) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render(result: EvalResult) -> str:
    verdict = "✅ passed" if result.passed else "❌ failed"
    lines = [
        f"## ragctl evaluate: {verdict}",
        "",
        f"`{result.model_uri}` on `{result.dataset}`: {result.questions} questions"
        + (f", {len(result.invalid)} invalid items not scored" if result.invalid else ""),
        "",
        "| metric | value | threshold | |",
        "|---|---|---|---|",
    ]
    for g in result.gates:
        lines.append(f"| {g.metric} | {fmt(g.value)} | {g.condition} | {'pass' if g.passed else '**FAIL**'} |")
    if result.comparisons and result.baseline:
        lines += [
            "",
            f"### Against the baseline `{result.baseline.model_uri}`",
            "",
            "| metric | baseline | candidate | delta | interval | test | |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in result.comparisons:
            test = f"McNemar p={c.p_value:.3g}" if c.p_value is not None else "paired bootstrap"
            verdict_c = "**regression**" if c.regression else "ok"
            lines.append(
                f"| {c.metric} | {fmt(c.baseline)} | {fmt(c.candidate)} | {c.delta:+.3f} | "
                f"[{c.low:+.3f}, {c.high:+.3f}] | {test} | {verdict_c} |"
            )
    lines += ["", "### Worst questions", "", "| question | answer | expected | retrieved |", "|---|---|---|---|"]
    for r in worst(result, 5):
        retrieved = ", ".join(
            s.get("file", "") + (f" p{s['page']}" if s.get("page") is not None else "") for s in r.sources[:3]
        )
        lines.append(f"| {_cell(r.question)} | {_cell(r.answer)} | {_cell(' / '.join(r.gold))} | {_cell(retrieved)} |")
    return "\n".join(lines) + "\n"


def write(result: EvalResult, path: Path) -> None:
    path.write_text(render(result), encoding="utf-8")
