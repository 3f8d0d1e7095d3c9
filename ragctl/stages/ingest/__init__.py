"""ingest: documents -> clean -> chunk -> embed -> Chroma, incrementally, crash-safe, one writer at a time.

Read in this order: plan.py (what changed, from the manifest) -> pipeline.py (worker processes read and
chunk: work.prepare) -> work.embed -> write.py (upsert, drop stale chunks) -> manifest.py (the record of
each file) -> log.py (the MLflow run). store.py opens the collection with its manifest; lock.py keeps
a second ingest out.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

from ragctl.config.model import RagctlConfig
from ragctl.documents import discover
from ragctl.stages import StageContext
from ragctl.stages.ingest.manifest import Entry
from ragctl.stages.ingest.plan import Plan, make_plan
from ragctl.stages.ingest.store import Store, open_store, peek_store
from ragctl.stages.ingest.work import Prepared, embed, ingest_key, reader_digest

STATUSES = ("added", "changed", "deleted", "unchanged", "failed")


@dataclass
class FileReport:
    file: str
    status: str  # added | changed | unchanged | deleted | failed
    outcome: str = (
        "ok"  # ok | partial | empty | encrypted | wrong-password | corrupt | unsupported | too-large | timeout
    )
    reason: str = ""
    sha256: str = ""
    pages: int = 0
    chunks: int = 0


@dataclass
class IngestResult:
    run_id: str | None  # None for a dry run
    experiment_id: str | None
    collection: str
    dry_run: bool = False
    files: list[FileReport] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    chunks_total: int = 0
    manifest_digest: str = ""
    seconds: float = 0.0
    reaped_runs: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[FileReport]:
        return [f for f in self.files if f.status == "failed"]

    @property
    def attention(self) -> list[FileReport]:
        """Files a person should look at: failed, or ingested only in part."""
        return [f for f in self.files if f.status == "failed" or f.outcome == "partial"]


def run(
    config: RagctlConfig, ctx: StageContext, dry_run: bool = False, rebuild: bool = False, wait: float = 0.0
) -> IngestResult:
    from ragctl import tracking
    from ragctl.components.vector_stores import chroma_client
    from ragctl.stages.ingest.lock import collection_lock

    started = time.perf_counter()
    files = discover(config.ingestion)
    if dry_run:
        return _dry_run(config, files, rebuild, started)
    tracking.setup(config)  # an unreachable tracking server stops the run before the store is touched
    client = chroma_client(config.vector_store)
    with collection_lock(config.vector_store, client, wait) as renew:
        store = open_store(client, config, rebuild)
        plan = make_plan(files, store.manifest, store.collection, config)
        return _run(config, ctx, store, plan, renew, started)


def _tags(config: RagctlConfig) -> dict[str, str]:
    from ragctl.components.vector_stores import describe

    return {"ragctl.collection": config.vector_store.collection, "ragctl.store": describe(config.vector_store)}


def _run(config: RagctlConfig, ctx: StageContext, store: Store, plan: Plan, renew: Any, started: float) -> IngestResult:
    from ragctl import tracking
    from ragctl.stages.ingest.log import log_run

    reaped = tracking.reap_stale_runs(config, "ingest", _tags(config))
    for run_id in reaped:
        ctx.reporter.note(f"marked MLflow run {run_id} KILLED: its ingest process ended mid-run")
    with tracking.stage_run(config, "ingest", _tags(config)) as active:
        reports = _delete(store, plan)
        reports += [
            FileReport(e.file, "unchanged", e.outcome, e.reason, e.sha256, e.pages, e.chunks) for e in plan.unchanged
        ]
        reports += _ingest(config, ctx, store, plan, renew)
        result = IngestResult(
            active.info.run_id,
            active.info.experiment_id,
            config.vector_store.collection,
            files=sorted(reports, key=lambda r: r.file),
            chunks_total=store.collection.count(),
            manifest_digest=store.manifest.digest(),
            reaped_runs=reaped,
        )
        result.seconds = time.perf_counter() - started
        result.summary = summarize(result.files, result.chunks_total, result.seconds)
        log_run(result, config)
    return result


def _delete(store: Store, plan: Plan) -> list[FileReport]:
    from ragctl.stages.ingest.write import drop_chunks

    reports = []
    for entry in plan.deleted:
        drop_chunks(store.collection, entry.file)
        store.manifest.remove(entry.file)
        reports.append(FileReport(entry.file, "deleted", entry.outcome, "", entry.sha256, entry.pages, entry.chunks))
    for orphan in plan.orphans:
        drop_chunks(store.collection, orphan)
    return reports


def _ingest(config: RagctlConfig, ctx: StageContext, store: Store, plan: Plan, renew: Any) -> list[FileReport]:
    from ragctl.components import create
    from ragctl.stages.ingest.pipeline import prepared_files
    from ragctl.stages.ingest.write import drop_chunks, write_chunks

    todo = plan.todo()
    if not todo:
        return []
    by_name = {source.name: (source, digest, status) for source, digest, status in todo}
    model = create("embedding", config.embedding)
    max_batch = store.client.get_max_batch_size()
    reports: list[FileReport] = []
    pages = chunks = 0
    began = time.perf_counter()
    cores = os.cpu_count() or 1
    with ctx.reporter.task("Ingesting", total=len(todo)) as advance:
        for prepared, parsing in prepared_files([(s, d) for s, d, _ in todo], config):
            if hasattr(model, "use_threads"):  # leave the cores that parse workers use to them
                model.use_threads(max(1, cores - parsing) if parsing else 0)
            source, digest, status = by_name[prepared.file]
            key = ingest_key(digest, config)
            entry = _entry(source, digest, key, config, prepared)
            store.manifest.put(entry)  # pending: a crash from here on makes the next run redo this file
            if prepared.failed:
                drop_chunks(store.collection, prepared.file)
                ctx.reporter.note(f"{prepared.file}: {prepared.outcome}: {prepared.reason}")
            else:
                write_chunks(store.collection, embed(prepared, model), key, max_batch)
            entry.state = "failed" if prepared.failed else "ok"
            store.manifest.put(entry)
            renew()
            reports.append(
                FileReport(
                    prepared.file,
                    "failed" if prepared.failed else status,
                    prepared.outcome,
                    prepared.reason,
                    digest,
                    prepared.pages,
                    len(prepared.chunks),
                )
            )
            pages += prepared.pages
            chunks += len(prepared.chunks)
            rate = chunks / max(time.perf_counter() - began, 1e-9)
            advance(1, prepared.file, pages=pages, chunks=chunks, **{"chunks/s": f"{rate:.1f}"})
    return reports


def _entry(source: Any, digest: str, key: str, config: RagctlConfig, prepared: Prepared) -> Entry:
    return Entry(
        file=prepared.file,
        sha256=digest,
        size=source.path.stat().st_size,
        reader=reader_digest(config),
        key=key,
        state="pending",
        outcome=prepared.outcome,
        reason=prepared.reason,
        pages=prepared.pages,
        chunk_ids=[c.id for c in prepared.chunks],
    )


def summarize(files: list[FileReport], chunks_total: int, seconds: float) -> dict[str, Any]:
    ingested = [f for f in files if f.status in ("added", "changed")]
    return {
        "files": {status: sum(1 for f in files if f.status == status) for status in STATUSES},
        "chunks": {
            "added": sum(f.chunks for f in ingested),
            "deleted": sum(f.chunks for f in files if f.status == "deleted"),
            "total": chunks_total,
        },
        "pages": sum(f.pages for f in ingested),
        "seconds": round(seconds, 3),
    }


def _dry_run(config: RagctlConfig, files: list[Any], rebuild: bool, started: float) -> IngestResult:
    from ragctl.stages.ingest.manifest import Manifest

    store = None if rebuild else peek_store(config)
    manifest = store.manifest if store else Manifest(None, config.vector_store.collection)
    plan = make_plan(files, manifest, store.collection if store else None, config)
    reports = [FileReport(s.name, "added", "", "", d) for s, d in plan.added + plan.retry]
    reports += [FileReport(s.name, "changed", "", "", d) for s, d in plan.changed]
    reports += [
        FileReport(e.file, "unchanged", e.outcome, e.reason, e.sha256, e.pages, e.chunks) for e in plan.unchanged
    ]
    reports += [FileReport(e.file, "deleted", e.outcome, "", e.sha256, e.pages, e.chunks) for e in plan.deleted]
    total = store.collection.count() if store and store.collection is not None else 0
    result = IngestResult(None, None, config.vector_store.collection, True, sorted(reports, key=lambda r: r.file))
    result.chunks_total = total
    result.seconds = time.perf_counter() - started
    result.summary = summarize(result.files, total, result.seconds)
    return result
