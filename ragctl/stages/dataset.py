"""dataset generate: synthetic QA pairs from the configured collection with the configured LLM, written as a
QA set (JSONL) and, optionally, as an MLflow GenAI evaluation dataset. One MLflow run; each LLM call is a
trace under it, so a rejected pair can be looked at. The checks live in ragctl.evaluation.generate."""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragctl.errors import DataError, UsageError
from ragctl.evaluation import datasets, generate
from ragctl.records import tags as t
from ragctl.session import Session

STAGE = "dataset"
FETCH = 16  # chunks read from the store at a time


@dataclass
class GenerateResult:
    run_id: str
    experiment_id: str
    output: str
    requested: int
    items: list[dict[str, Any]]
    attempts: int
    rejected: dict[str, int]
    collection: str
    collection_digest: str
    mlflow_dataset: str | None = None
    seconds: float = 0.0
    files: int = field(default=0)


def _chunks(collection: Any, ids: list[str]) -> list[generate.Chunk]:
    got = collection.get(ids=ids, include=["documents", "metadatas"])
    found = {
        i: generate.Chunk(i, str(m.get("file") or ""), m.get("page"), d or "")
        for i, d, m in zip(got["ids"], got["documents"] or [], got["metadatas"] or [])
    }
    return [found[i] for i in ids if i in found]


def _candidates(session: Session) -> tuple[Any, list[tuple[str, dict[str, Any]]], str]:
    """The collection, its chunks as (id, {file}) from the manifest (not a scan of every chunk), and the
    collection's content digest."""
    from ragctl.components.vector_stores import open_collection
    from ragctl.records import manifest

    client = session.chroma_reading()
    collection = open_collection(session.store, client=client)
    found = manifest.read(client, session.store)
    records = [
        (chunk_id, {"file": e.file}) for e in found.entries.values() if e.state == "ok" for chunk_id in e.chunk_ids
    ]
    if not records:
        raise DataError(f"collection '{session.store.collection}' has no ingested chunks", "run `ragctl ingest` first")
    return collection, records, found.digest()


def run(
    session: Session,
    n: int,
    seed: int,
    output: Path,
    mlflow_dataset: str | None = None,
    force: bool = False,
) -> GenerateResult:
    import mlflow

    from ragctl import tracing
    from ragctl.components import create
    from ragctl.components.http import check_endpoints
    from ragctl.outputs import check_writable
    from ragctl.records import runs

    config = session.config
    check_writable("--output", output)  # before the LLM's minutes of generating
    if output.exists() and not force:  # it may be a hand-written or hand-curated set
        raise UsageError(f"--output {output} exists", "pass --force to replace it, or give another --output")
    check_endpoints({"llm": config.llm.model_dump()})
    settings = config.evaluation.generation
    started = time.monotonic()
    collection, records, digest = _candidates(session)
    order = generate.draw_order(records, seed)[: n * settings.attempts_per_question]
    with session.reporter.task(f"Loading {config.llm.type} {config.llm.model}", total=None):
        llm = create("llm", config.llm.model_copy(update={"max_tokens": settings.max_tokens, "stop": generate.STOP}))
    tags = {t.COLLECTION: session.store.collection, t.COLLECTION_DIGEST: digest}
    items: list[dict[str, Any]] = []
    rejected: Counter[str] = Counter()
    seen: set[str] = set()
    attempts = 0
    with runs.stage_run(session, STAGE, tags) as active:
        mlflow.log_params({"generate.n": n, "generate.seed": seed, "generate.output": str(output)})
        with session.reporter.task("Generating questions", total=n) as advance:
            for start in range(0, len(order), FETCH):
                for chunk in _chunks(collection, order[start : start + FETCH]):
                    if len(items) == n:
                        break
                    if len(chunk.text) < settings.min_chunk_chars:
                        rejected["chunk too short"] += 1
                        continue
                    attempts += 1
                    with tracing.span("generate_qa", "CHAIN", {"file": chunk.file, "page": chunk.page}) as span:
                        question = generate.clean(llm.complete(generate.question_prompt(settings, chunk)).text)
                        answer = ""
                        if question.endswith("?"):
                            answer = generate.clean(
                                llm.complete(generate.answer_prompt(settings, chunk, question)).text
                            )
                        reason = generate.rejection(question, answer, chunk, settings, seen)
                        span.set_outputs({"question": question, "answer": answer, "rejected": reason})
                    if reason:
                        rejected[reason] += 1
                        continue
                    seen.add(generate.question_key(question))
                    items.append(generate.item(chunk, question, answer, config.llm.model))
                    advance(1, label=chunk.file)
                if len(items) == n:
                    break
        metrics: dict[str, float] = {"generate.items": len(items), "generate.chunks_tried": attempts}
        metrics |= {f"generate.rejected.{re.sub('[^a-z0-9]+', '_', k)}": v for k, v in rejected.items()}
        mlflow.log_metrics(metrics)
        if not items:
            raise DataError(
                f"no usable question from {attempts} chunks: {dict(rejected)}",
                "try a larger LLM (llm.model / llm.type) or evaluation.generation.prompt",
            )
        datasets.write_jsonl(output, items)
        mlflow.log_artifact(str(output), "dataset")
        if mlflow_dataset:
            datasets.to_mlflow(mlflow_dataset, active.info.experiment_id, items)
    return GenerateResult(
        run_id=active.info.run_id,
        experiment_id=active.info.experiment_id,
        output=str(output),
        requested=n,
        items=items,
        attempts=attempts,
        rejected=dict(rejected),
        collection=session.store.collection,
        collection_digest=digest,
        mlflow_dataset=mlflow_dataset,
        seconds=round(time.monotonic() - started, 2),
        files=len({i["sources"][0]["file"] for i in items}),
    )
