"""review status: what is done per reviewer, how far reviewers agree, and how far each automatic verdict
agrees with them. Logged as a run (stage `review-status`), so the figures of a queue plot over rounds."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from ragctl.config.metrics import OPS, is_binary, parse_threshold
from ragctl.evaluation import agreement, retrieval
from ragctl.evaluation.answers import exact_match, rouge_l, semantic_similarity, token_f1
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
    against: str = "correct"  # the experts' question it is compared with: "correct" or "sources support"


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
        _scorers(found, session.config.evaluation.thresholds, _embedding(session)),
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


def _embedding(session: Session) -> Any | None:
    """The embedding model behind semantic similarity, when the evaluation scores it."""
    if not session.config.evaluation.semantic_similarity:
        return None
    from ragctl.components import create

    return create("embedding", session.config.embedding)


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
    found: list[reviews.Reviewed], thresholds: Mapping[str, str | float], embed: Any | None
) -> list[ScorerAgreement]:
    """Each judge-free scorer, pass or fail on each item, against the experts' majority: the answer scorers
    against "is the answer correct", the retrieval ones against "do the cited sources support it". A
    per-item threshold is the configured one where there is one (a threshold on the mean, read per item),
    else `DEFAULT_THRESHOLD`; a pass/fail scorer passes at 1."""
    answer_scorers: dict[str, Callable[[str, Sequence[str]], float]] = dict(ANSWER_SCORERS)
    if embed is not None:
        answer_scorers["semantic_similarity"] = lambda text, gold: semantic_similarity(text, gold, embed)
    out = []
    for name, score in answer_scorers.items():
        op, value, shown = _threshold(name, thresholds)
        pairs = []
        for item in found:
            gold, verdict = item.item.get("answers") or [], reviews.majority(item)
            if verdict is not None and gold:
                pairs.append((OPS[op](score(item.answer, gold), value), verdict))
        out.append(_agreement(name, shown, "correct", pairs))
    for name in ("hit_rate", "file_hit_rate", "mrr", "citation_hit"):
        op, value, shown = _threshold(name, thresholds)
        pairs = []
        for item in found:
            gold, verdict = item.item.get("sources") or [], reviews.majority(item, "supported")
            measured = _retrieval(name, item, gold)
            if verdict is not None and gold and measured is not None:
                pairs.append((OPS[op](measured, value), verdict))
        out.append(_agreement(name, shown, "sources support", pairs))
    return out


def _threshold(name: str, thresholds: Mapping[str, str | float]) -> tuple[str, float, str]:
    if is_binary(name):
        return ">=", 1.0, "= 1"
    configured = thresholds.get(name)
    if configured is None:
        return ">=", DEFAULT_THRESHOLD, f">= {DEFAULT_THRESHOLD} (default)"
    op, value = parse_threshold(name, configured)
    return op, value, f"{op} {value}"


def _retrieval(name: str, item: reviews.Reviewed, gold: list[dict[str, Any]]) -> float | None:
    """The item's value of a retrieval scorer over every source the answer showed (the chain's top_k)."""
    if name == "citation_hit":
        if item.citation is None:
            return None
        return float(any(retrieval.matches(item.citation, g, by_page=True) for g in gold))
    by_page = not name.startswith("file_")
    return retrieval.scores(item.sources, gold, max(len(item.sources), 1), by_page)[name.removeprefix("file_")]


def _agreement(name: str, shown: str, question: str, pairs: list[tuple[bool, bool]]) -> ScorerAgreement:
    auto = ["pass" if passed else "fail" for passed, _ in pairs]
    experts = ["pass" if verdict else "fail" for _, verdict in pairs]
    result = agreement.cohen(auto, experts, (name, "experts")) if pairs else None
    return ScorerAgreement(name, shown, len(pairs), result, question)


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
    return ScorerAgreement(f"judge ({judge.model}) correctness", "yes", len(auto), result, "correct"), note
