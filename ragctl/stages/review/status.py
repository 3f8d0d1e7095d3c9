"""review status: what is done per reviewer, how far reviewers agree, and how far each automatic verdict
agrees with them. Logged as a run (stage `review-status`), so the figures of a queue plot over rounds."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

from ragctl.config.metrics import OPS, parse_threshold
from ragctl.evaluation import agreement
from ragctl.evaluation.answers import exact_match, rouge_l, token_f1
from ragctl.records import reviews, runs
from ragctl.records import tags as t
from ragctl.session import Session

ANSWER_SCORERS = {"token_f1": token_f1, "exact_match": exact_match, "rouge_l": rouge_l}
DEFAULT_THRESHOLD = 0.5  # for a scorer the config sets no threshold for: said so in the result


@dataclass
class Progress:
    reviewer: str
    done: int
    to_do: int
    approved: int  # answers judged correct ("yes")


@dataclass
class ScorerAgreement:
    scorer: str
    threshold: str  # e.g. ">= 0.5"; "(default)" when the config sets none
    items: int  # items with an expert verdict and gold to score against
    agreement: agreement.Agreement | None


@dataclass
class ReviewStatus:
    run_id: str
    experiment_id: str
    queue: str
    items: int
    complete: int  # items with at least one reviewer's verdict
    approved: int  # items whose experts' majority says correct
    progress: list[Progress] = field(default_factory=list)
    reviewers: list[agreement.Agreement] = field(default_factory=list)  # pairwise Cohen, then Fleiss
    scorers: list[ScorerAgreement] = field(default_factory=list)
    judge: str = ""  # why the judge's agreement is not there, or what it could not judge


def run(session: Session, queue_name: str | None = None) -> ReviewStatus:
    import mlflow

    queue = reviews.find_queue(session, queue_name)
    found = reviews.items(session, queue)
    reviewers = list(dict.fromkeys([*queue.users, *(r for i in found for r in i.answers)]))
    progress = []
    for reviewer in reviewers:
        mine = [i.answers[reviewer] for i in found if reviewer in i.answers and i.answers[reviewer].correct]
        approved = sum(a.correct == "yes" for a in mine)
        progress.append(Progress(reviewer, len(mine), len(found) - len(mine), approved))
    verdicts = {i.trace_id: reviews.majority(i) for i in found}
    status = ReviewStatus(
        "",
        session.experiment_id,
        queue.name,
        len(found),
        sum(any(a.correct for a in i.answers.values()) for i in found),
        sum(v is True for v in verdicts.values()),
        progress,
        _between_reviewers(found, reviewers),
        _scorers(session, found, verdicts),
    )
    judged, status.judge = _judge(session, found, verdicts)
    if judged is not None:
        status.scorers.append(judged)
    tags = {t.REVIEW_QUEUE: queue.name}
    with runs.stage_run(session, "review-status", tags) as active:
        metrics: dict[str, float] = {"items": status.items, "complete": status.complete, "approved": status.approved}
        for p in progress:
            metrics[f"done.{_key(p.reviewer)}"] = p.done
        for a in status.reviewers:
            if a.kappa is not None:
                metrics[f"kappa.{a.method}.{'.'.join(_key(r) for r in a.raters)}"[:250]] = a.kappa
        for s in status.scorers:
            if s.agreement and s.agreement.kappa is not None:
                metrics[f"agreement.{_key(s.scorer)}.kappa"] = s.agreement.kappa
            if s.agreement:
                metrics[f"agreement.{_key(s.scorer)}.observed"] = s.agreement.observed
        mlflow.log_metrics(metrics)
        status.run_id = active.info.run_id
    return status


def _key(reviewer: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in reviewer)


def _between_reviewers(found: list[reviews.Reviewed], reviewers: list[str]) -> list[agreement.Agreement]:
    labelled: dict[str, dict[str, str]] = {r: {} for r in reviewers}
    for item in found:
        for reviewer, answer in item.answers.items():
            if answer.correct and reviewer in labelled:
                labelled[reviewer][item.trace_id] = answer.correct
    out = []
    for a, b in combinations(reviewers, 2):
        shared = [k for k in labelled[a] if k in labelled[b]]
        if shared:
            out.append(agreement.cohen([labelled[a][k] for k in shared], [labelled[b][k] for k in shared], (a, b)))
    if len(reviewers) >= 3:
        everyone = [k for k in labelled[reviewers[0]] if all(k in labelled[r] for r in reviewers)]
        if everyone:
            out.append(agreement.fleiss([[labelled[r][k] for r in reviewers] for k in everyone], reviewers))
    return out


def _scorers(
    session: Session, found: list[reviews.Reviewed], verdicts: dict[str, bool | None]
) -> list[ScorerAgreement]:
    """Each judge-free answer scorer, pass or fail at its threshold, against the experts' verdict."""
    thresholds = session.config.evaluation.thresholds
    out = []
    for name, score in ANSWER_SCORERS.items():
        configured = thresholds.get(name)
        op, value = parse_threshold(name, configured) if configured is not None else (">=", DEFAULT_THRESHOLD)
        shown = f"{op} {value}" + ("" if configured is not None else " (default)")
        auto, experts = [], []
        for item in found:
            gold = item.item.get("answers") or []
            if verdicts[item.trace_id] is None or not gold:
                continue
            passed = OPS[op](score(item.answer, gold), value)
            auto.append("pass" if passed else "fail")
            experts.append("pass" if verdicts[item.trace_id] else "fail")
        result = agreement.cohen(auto, experts, (name, "experts")) if auto else None
        out.append(ScorerAgreement(name, shown, len(auto), result))
    return out


def _judge(
    session: Session, found: list[reviews.Reviewed], verdicts: dict[str, bool | None]
) -> tuple[ScorerAgreement | None, str]:
    """The configured judge's correctness verdict on each item with an expert verdict and a gold answer,
    against the experts' majority."""
    from ragctl.components.http import check_endpoints
    from ragctl.env import patched
    from ragctl.evaluation.scorers import judge_of, judge_settings

    judge = session.config.evaluation.judge
    if judge is None:
        return None, "no judge configured (evaluation.judge)"
    if "correctness" not in judge.metrics:
        return None, "the judge does not score correctness (add it to evaluation.judge.metrics)"
    check_endpoints({"evaluation": session.config.evaluation.model_dump()})
    scorer = judge_of(judge, "correctness")
    auto, experts, unmeasured = [], [], 0
    with patched(judge_settings(judge)):
        for item in found:
            gold = item.item.get("answers") or []
            if verdicts[item.trace_id] is None or not gold:
                continue
            try:
                said = scorer(
                    inputs={"question": item.question},
                    outputs=item.answer,
                    expectations={"expected_response": gold[0]},
                )
            except Exception:  # MLflow raises when it cannot parse the judge's reply: not judged, not lost
                said = None
            value = str(getattr(said, "value", "") or "").strip().lower()
            if value not in ("yes", "no"):
                unmeasured += 1
                continue
            auto.append("pass" if value == "yes" else "fail")
            experts.append("pass" if verdicts[item.trace_id] else "fail")
    result = agreement.cohen(auto, experts, ("judge", "experts")) if auto else None
    note = f"{unmeasured} items without a yes/no verdict from the judge" if unmeasured else ""
    return ScorerAgreement(f"judge ({judge.model}) correctness", "yes", len(auto), result), note
