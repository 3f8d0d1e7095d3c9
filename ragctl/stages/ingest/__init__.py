"""ingest: documents -> clean -> chunk -> embed -> Chroma, incrementally, crash-safe, one writer at a time.

Read in this order: plan.py (what changed, from the manifest; each file's key) -> ahead.py (reading and
embedding, started before MLflow and the lock, and going on while the run writes) -> pipeline.py (worker
processes read and chunk: work.prepare of a work.Job) -> work.embed -> write.py (files in groups: upsert,
drop stale chunks) -> records/manifest.py (the record of each file) -> result.py (what is reported) -> log.py
(the MLflow run). store.py opens the collection with its manifest; lock.py keeps a second ingest out.
"""

from __future__ import annotations

import time
from typing import Any

from ragctl.documents import discover
from ragctl.records import tags as t
from ragctl.records.manifest import Entry, Manifest
from ragctl.session import Session
from ragctl.stages.ingest.ahead import Ahead
from ragctl.stages.ingest.plan import Plan, Todo, make_plan
from ragctl.stages.ingest.result import FileReport, IngestResult, summarize, unchanged
from ragctl.stages.ingest.store import Store, open_store, peek_store
from ragctl.stages.ingest.work import Job, Keys, Prepared, job


def run(session: Session, dry_run: bool = False, rebuild: bool = False, wait: float = 0.0) -> IngestResult:
    from ragctl.components.http import check_endpoints
    from ragctl.stages.ingest.lock import collection_lock

    started = time.perf_counter()
    config, keys = session.config, Keys.of(session.config)
    files = discover(config.ingestion)
    if dry_run:
        return _dry_run(session, files, keys, rebuild, started)
    # Nothing to do is decided from the manifest and the files' hashes alone: no MLflow, no model, no run.
    peeked = None if rebuild else peek_store(lambda: session.chroma, session.store, config, keys)
    if peeked is not None and peeked.collection is not None:
        plan = make_plan(files, peeked.manifest, peeked.collection, keys)
        if _nothing_to_do(session, peeked, plan):
            return _up_to_date(session, peeked, plan, started)
    else:  # no store yet, or --rebuild: every file is to be read
        plan = make_plan(files, Manifest(None, session.store.collection), None, keys)
    ahead = Ahead(_jobs(plan, config), config)  # the model loads and the first files are read meanwhile
    try:
        _ = session.experiment_id  # an unreachable tracking server stops the run before the store is touched
        check_endpoints({"embedding": config.embedding.model_dump()})  # and so does an embedding endpoint
        with collection_lock(session.store, session.chroma, wait) as renew:
            store = open_store(session.chroma, session.store, config, keys, rebuild)
            plan = make_plan(files, store.manifest, store.collection, keys)
            if not rebuild and _nothing_to_do(session, store, plan):  # another ingest did it while this one waited
                return _up_to_date(session, store, plan, started)
            return _run(session, store, plan, keys, renew, started, ahead)
    finally:
        ahead.close()


def _nothing_to_do(session: Session, store: Store, plan: Plan) -> bool:
    """Every file as the manifest has it, the last ingest run ended, and the search index is of this content
    (and, for an embedded store, on disk)."""
    from ragctl.stages.ingest.search_index import is_current

    idle = plan.idle() and not store.manifest.meta.get("run_open")
    return idle and is_current(session, store.collection, store.manifest.digest())


def _up_to_date(session: Session, store: Store, plan: Plan, started: float) -> IngestResult:
    """Every file is in the collection as it is on disk: reported, and recorded nowhere (as `make` or
    `dvc repro` with nothing to do); the collection's record stays the ingest run that last changed it."""
    reports = unchanged(plan)
    result = IngestResult(None, None, session.store.collection, files=sorted(reports, key=lambda r: r.file))
    result.up_to_date, result.last_run_id = True, store.manifest.meta.get("run_id")
    result.chunks_total = store.collection.count()
    result.manifest_digest = store.manifest.digest()
    result.seconds = time.perf_counter() - started
    result.summary = summarize(result.files, result.chunks_total, result.seconds)
    return result


def _tags(session: Session) -> dict[str, str]:
    from ragctl.components.vector_stores import describe

    return {t.COLLECTION: session.store.collection, t.STORE: describe(session.store)}


def _run(
    session: Session, store: Store, plan: Plan, keys: Keys, renew: Any, started: float, ahead: Ahead
) -> IngestResult:
    from ragctl.records import runs
    from ragctl.stages.ingest import search_index
    from ragctl.stages.ingest.log import log_run

    reaped = runs.reap(session, "ingest", _tags(session), held=True)
    for run_id in reaped:
        session.reporter.note(f"marked MLflow run {run_id} KILLED: its ingest process ended mid-run")
    with runs.stage_run(session, "ingest", _tags(session)) as active:
        # The run that last changed the collection, open until it ends: a run that never ended (killed,
        # or its tracking server gone) keeps the next ingest off the fast path, so that one reaps it.
        store.manifest.set_meta(run_id=active.info.run_id, run_open=True)
        base = search_index.base(session, store.collection)
        search_index.clear(store.collection)
        reports = _delete(store, plan)
        reports += unchanged(plan)
        reports += _ingest(session, store, plan, keys, renew, ahead)
        digest = store.manifest.digest()
        changed = {r.file for r in reports if r.status != "unchanged"} | set(plan.orphans)
        index_seconds, index_files = search_index.rebuild(
            session, store.collection, digest, active.info.run_id, base, changed
        )
        result = IngestResult(
            active.info.run_id,
            active.info.experiment_id,
            session.store.collection,
            files=sorted(reports, key=lambda r: r.file),
            chunks_total=store.collection.count(),
            manifest_digest=digest,
            reaped_runs=reaped,
            index_seconds=index_seconds,
            index_files_read=index_files,
        )
        result.seconds = time.perf_counter() - started
        result.summary = summarize(result.files, result.chunks_total, result.seconds)
        log_run(result, session.config)
        store.manifest.set_meta(run_open=False)
    return result


def _delete(store: Store, plan: Plan) -> list[FileReport]:
    from ragctl.stages.ingest.write import drop_many

    gone = {entry.file: None for entry in plan.deleted} | {orphan: None for orphan in plan.orphans}
    drop_many(store.collection, gone)  # chunks first: a crash before the records go leaves them to redo
    store.manifest.remove_many([entry.file for entry in plan.deleted])
    return [
        FileReport(entry.file, "deleted", entry.outcome, "", entry.sha256, entry.pages, entry.chunks)
        for entry in plan.deleted
    ]


def _jobs(plan: Plan, config: Any) -> list[Job]:
    return [job(i.source.path, i.source.name, i.sha256, i.key, config, i.source.refused) for i in plan.todo()]


def _ingest(session: Session, store: Store, plan: Plan, keys: Keys, renew: Any, ahead: Ahead) -> list[FileReport]:
    from ragctl.stages.ingest.write import Written, grouped, write_group

    config = session.config
    todo = plan.todo()
    if not todo:
        return []
    by_name = {item.source.name: item for item in todo}
    jobs = _jobs(plan, config)
    ingestion = config.ingestion
    stream: Any
    if ingestion.executor == "ray":  # read, chunk and embed on the cluster; written here, file by file
        from ragctl.stages.ingest.on_ray import prepared_files as on_ray

        stream = on_ray(jobs, ingestion.ray, config.embedding, ingestion.timeout)
    else:  # read by worker processes, embedded by a thread while the last file is written
        stream = ahead.stream(jobs)
    max_batch = store.client.get_max_batch_size()
    reports: list[FileReport] = []
    pages = chunks = 0
    began = time.perf_counter()
    with session.reporter.task("Ingesting", total=len(todo)) as advance:
        for group in grouped(stream):
            written = [Written(p, _entry(by_name[p.file], keys.reader, p)) for p in group]
            before = {w.entry.file: store.manifest.entries.get(w.entry.file) for w in written}
            write_group(store.collection, store.manifest, written, max_batch)
            renew()
            for prepared in group:
                item, old = by_name[prepared.file], before[prepared.file]
                if prepared.failed:
                    session.reporter.note(f"{prepared.file}: {prepared.outcome}: {prepared.reason}")
                reports.append(
                    FileReport(
                        prepared.file,
                        "failed" if prepared.failed else item.status,
                        prepared.outcome,
                        prepared.reason,
                        item.sha256,
                        prepared.pages,
                        len(prepared.chunks),
                        replaced=old.chunks if old is not None and old.state == "ok" else 0,
                    )
                )
                pages += prepared.pages
                chunks += len(prepared.chunks)
                rate = chunks / max(time.perf_counter() - began, 1e-9)
                advance(1, prepared.file, pages=pages, chunks=chunks, **{"chunks/s": f"{rate:.1f}"})
    return reports


def _entry(item: Todo, reader: str, prepared: Prepared) -> Entry:
    return Entry(
        file=prepared.file,
        sha256=item.sha256,
        size=item.source.path.stat().st_size,
        reader=reader,
        key=item.key,
        state="pending",
        outcome=prepared.outcome,
        reason=prepared.reason,
        pages=prepared.pages,
        chunk_ids=[c.id for c in prepared.chunks],
    )


def _dry_run(session: Session, files: list[Any], keys: Keys, rebuild: bool, started: float) -> IngestResult:
    config = session.config
    store = None if rebuild else peek_store(lambda: session.chroma, session.store, config, keys)
    manifest = store.manifest if store else Manifest(None, session.store.collection)
    plan = make_plan(files, manifest, store.collection if store else None, keys)
    reports = [FileReport(i.source.name, i.status, "", "", i.sha256) for i in plan.todo()]
    reports += unchanged(plan)
    reports += [FileReport(e.file, "deleted", e.outcome, "", e.sha256, e.pages, e.chunks) for e in plan.deleted]
    total = store.collection.count() if store and store.collection is not None else 0
    result = IngestResult(None, None, session.store.collection, True, sorted(reports, key=lambda r: r.file))
    result.chunks_total = total
    result.seconds = time.perf_counter() - started
    result.summary = summarize(result.files, total, result.seconds)
    return result
