"""review start: answer the questions with the chosen version, traced, and queue the traces for reviewers."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragctl.errors import DatasetError, UsageError
from ragctl.evaluation.datasets import Item
from ragctl.records import evaluations, models, reviews, runs
from ragctl.records import tags as t
from ragctl.secrets import redact
from ragctl.session import Session

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class Queued:
    trace_id: str
    id: str
    question: str
    answer: str


@dataclass
class ReviewStarted:
    run_id: str
    experiment_id: str
    queue: str
    queue_id: str
    model_name: str
    version: str
    reviewers: list[str]
    questions_from: str
    review_page: str
    items: list[Queued] = field(default_factory=list)
    already: int = 0  # questions asked that the queue held already: not answered or queued again


def questions(session: Session, file: Path | None, from_eval: str | None, sample: int | None) -> tuple[list[Item], str]:
    """The items to review and where they came from: a QA file, an evaluation run's questions, or a sample
    of the configured QA set (seeded: the same N, the same questions)."""
    from ragctl.evaluation import datasets

    _one_source(file, from_eval, sample)
    if file is not None:
        return datasets.load(str(file), field="--questions").items, str(file)
    if from_eval is not None:
        run = runs.get(session, from_eval)
        rows = evaluations.rows_of(run) if run is not None else None
        if not rows:
            raise UsageError(f"--from-eval {from_eval}: not an evaluation run with per-question rows")
        items = [Item(r.id, r.question, r.gold, r.gold_sources, r.answerable, r.tags) for r in rows]
        return items, f"evaluation run {from_eval}"
    dataset = datasets.load(session.config.evaluation.dataset)
    if sample is not None and sample < 1:
        raise UsageError("--sample must be at least 1")
    picked = random.Random(0).sample(dataset.items, min(sample or 0, len(dataset.items)))
    if len(picked) < (sample or 0):  # the queue holds what there is; the summary must not say more
        return picked, f"all {len(picked)} of {session.config.evaluation.dataset} (--sample {sample} asked for more)"
    return picked, f"{len(picked)} sampled from {session.config.evaluation.dataset}"


def _one_source(file: Path | None, from_eval: str | None, sample: int | None) -> None:
    if len([x for x in (file, from_eval, sample) if x is not None]) != 1:
        raise UsageError("say which questions: one of --questions FILE, --from-eval RUN or --sample N")


def run(
    session: Session,
    ref: str,
    reviewers: list[str],
    file: Path | None = None,
    from_eval: str | None = None,
    sample: int | None = None,
) -> ReviewStarted:
    import mlflow
    from mlflow.genai import review_queues as rq

    from ragctl.components.http import check_endpoints

    _one_source(file, from_eval, sample)
    bad = [r for r in reviewers if not EMAIL.match(r)]
    if not reviewers or bad:
        raise UsageError(
            f"--reviewer: {', '.join(bad) or 'none given'}: give each reviewer's email", "--reviewer a@example.com"
        )
    name = session.config.registry.model_name
    wanted = models.parse(ref, name)
    found = models.version(session, wanted)
    if found is None:
        what = f"alias {wanted.alias!r}" if wanted.alias else f"version {ref!r}"
        raise UsageError(f"model {name!r} has no {what}", "see `ragctl models`")
    number, uri = str(found.version), f"models:/{name}/{found.version}"
    items, origin = questions(session, file, from_eval, sample)
    queue_name = reviews.queue_name(name, number)
    # A question the version's queue holds is not asked again: reviewers would review it twice, and the
    # QA set made from their reviews would hold two verdicts for one item.
    queued_before = reviews.queued_ids(session, queue_name)
    fresh = [i for i in items if i.id not in queued_before]
    already = len(items) - len(fresh)
    if not fresh:  # the same command run again: only its reviewers join; nothing answered, no run
        return _started(session, "", reviews.open_queue(session, queue_name, reviewers), number, origin, [], already)
    items = fresh
    check_endpoints({k: v for k, v in models.chain_config(uri).items() if k in ("llm", "embedding")})
    tags = {t.MODEL_NAME: name, t.REVIEW_QUEUE: queue_name, t.REVIEW_VERSION: number, t.MODEL_URI: uri}
    with runs.stage_run(session, "review", tags) as active:
        with session.reporter.task(f"Loading {uri}", total=None):
            chain = mlflow.pyfunc.load_model(uri)
        model_id = models.logged_model_id(session, uri)
        if model_id:
            mlflow.set_active_model(model_id=model_id)  # the traces link to the version's LoggedModel
        try:
            queued = _answer(session, chain, items, tags)
        finally:
            mlflow.clear_active_model()
        mlflow.flush_trace_async_logging()  # the queue and the reviewers' answers need the traces stored
        queue = reviews.open_queue(session, queue_name, reviewers)
        rq.add_items_to_review_queue(queue.queue_id, item_ids=[q.trace_id for q in queued])
        by_id = {i.id: i for i in items}
        mlflow.log_dict(
            {
                "queue": queue_name,
                "items": [
                    {
                        "trace_id": q.trace_id,
                        "id": q.id,
                        "question": q.question,
                        "answers": by_id[q.id].answers,
                        "sources": by_id[q.id].sources,
                        "answerable": by_id[q.id].answerable,
                    }
                    for q in queued
                ],
            },
            reviews.ITEMS_ARTIFACT,
        )
        mlflow.log_params({"reviewers": ",".join(reviewers), "questions_from": origin[:500], "items": len(queued)})
        return _started(session, active.info.run_id, queue, number, origin, queued, already)


def _started(
    session: Session, run_id: str, queue: Any, number: str, origin: str, queued: list[Queued], already: int
) -> ReviewStarted:
    name = session.config.registry.model_name
    page = review_page(session)
    users = list(queue.users)
    return ReviewStarted(
        run_id, session.experiment_id, queue.name, queue.queue_id, name, number, users, origin, page, queued, already
    )


def _answer(session: Session, chain: Any, items: list[Item], tags: dict[str, str]) -> list[Queued]:
    """One traced answer per item, each trace tagged with the queue, the version and the item."""
    import mlflow
    import pandas as pd

    from ragctl.evaluation.harness import refusals

    refused = refusals(chain, items)
    if refused:  # before any answer is queued: a review half made is worse than none
        lines = "\n  ".join(f"{item.where or item.id}: {reason}" for item, reason in refused[:5])
        raise DatasetError(f"the chain refuses {len(refused)} of the questions\n  {lines}", "drop or shorten them")
    queued = []
    with session.reporter.task(f"Version {tags[t.REVIEW_VERSION]} answering", total=len(items)) as advance:
        for item in items:
            (answer,) = chain.predict(pd.DataFrame({"question": [item.question]}))
            trace_id = mlflow.get_last_active_trace_id()
            if trace_id is None:
                raise UsageError("the chain wrote no trace", "tracing must be on (MLFLOW_TRACING_ENABLED)")
            for key, value in {**tags, t.REVIEW_ITEM: item.id}.items():
                session.mlflow.set_trace_tag(trace_id, key, value)
            queued.append(Queued(trace_id, item.id, item.question, str(answer.get("answer", ""))))
            advance(1, item.question[:40])
    return queued


def review_page(session: Session) -> str:
    """Where reviewers work: MLflow's Review page of the experiment."""
    uri = redact(session.config.tracking.uri)
    page = f"#/experiments/{session.experiment_id}/review-queue"
    if uri.startswith(("http://", "https://")):
        return f"{uri.rstrip('/')}/{page}"
    return f"mlflow ui --backend-store-uri {uri}, then {page}"
