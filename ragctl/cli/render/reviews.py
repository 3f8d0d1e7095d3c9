"""What `ragctl review` shows: the queue made, and a queue's progress and agreement."""

from __future__ import annotations

from typing import Any

from ragctl.cli.render.console import out, table


def started(result: Any) -> None:
    if not result.items:
        out.print(
            f"Nothing new to queue: all {result.already} questions are in '{result.queue}' already.",
            highlight=False,
            markup=False,
        )
    rows = [[q.id, q.question, q.answer] for q in result.items]
    if rows:
        more = f" ({result.already} asked were queued before: not again)" if result.already else ""
        table(
            f"Review queue '{result.queue}': {len(rows)} answers of version {result.version}{more}",
            ["id", "question", "answer"],
            rows,
        )
    out.print(
        f"Reviewers: {', '.join(result.reviewers)}  ·  questions: {result.questions_from}",
        highlight=False,
        markup=False,
    )
    out.print(f"Reviewers work in MLflow's Review page: {result.review_page}", highlight=False, markup=False)


def _kappa(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def status(result: Any) -> None:
    table(
        f"Review queue '{result.queue}': {result.complete} of {result.items} items reviewed, "
        f"{result.approved} approved by the experts' majority",
        ["reviewer", "done", "to do", "said correct"],
        [[p.reviewer, p.done, p.to_do, p.approved] for p in result.progress],
    )
    if result.reviewers:
        table(
            "Agreement between reviewers (is the answer correct)",
            ["reviewers", "items", "agree", "kappa", "method"],
            [[" / ".join(a.raters), a.items, f"{a.observed:.0%}", _kappa(a.kappa), a.method] for a in result.reviewers],
        )
    rows = []
    for s in result.scorers:
        a = s.agreement
        agree = f"{a.observed:.0%}" if a else "-"
        rows.append([s.scorer, s.threshold, s.against, s.items, agree, _kappa(a.kappa if a else None)])
    columns = ["scorer", "passes at", "experts' question", "items", "agree", "kappa"]
    table("Automatic verdicts against the experts", columns, rows)
    if result.judge:
        out.print(f"Judge: {result.judge}", highlight=False, markup=False)
