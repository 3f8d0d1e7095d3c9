"""ingestion.executor: ray. The per-file work of pipeline.py on a Ray cluster: each file is read and chunked
by a Ray task running the same `work.prepare` the local worker processes run, then embedded by a pool of
actors that each load the model once (`work.embed`, as the local path calls it); this process writes the
chunks and keeps the manifest, file by file, exactly as a local ingest does. So a local run and a Ray run
can follow each other on one collection, and a driver killed mid-run leaves what a local kill leaves.

Ray core tasks rather than a Ray Data pipeline: a file needs its own time limit (a hostile PDF can spin for
ever; Ray Data has no per-row timeout) and its own outcome when its worker dies after Ray's retries. The
file's bytes travel with its task (the object store), so workers need no shared file system; they do need
ragctl installed, the same version (checked before the first file)."""

from __future__ import annotations

import contextlib
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from ragctl.config.model import EmbeddingConfig, RayConfig
from ragctl.errors import ConfigError, ServiceError
from ragctl.stages.ingest.work import Job, Prepared, embed, prepare


def prepare_bytes(job: Job, data: bytes) -> Prepared:
    """`prepare` on a copy of the file written where this worker runs (same base name, so same reader)."""
    if job.refused:
        return prepare(job)
    with tempfile.TemporaryDirectory(prefix="ragctl-ray-") as folder:
        path = Path(folder) / job.path.name
        path.write_bytes(data)
        return prepare(replace(job, path=path))


class Embedder:
    """One copy of the embedding model, kept for every file this actor embeds."""

    def __init__(self, config: EmbeddingConfig) -> None:
        from ragctl.components import create
        from ragctl.env import apply_offline_defaults

        apply_offline_defaults()
        self._model = create("embedding", config)

    def embed(self, prepared: Prepared) -> Prepared:
        return embed(prepared, self._model)


def _version() -> str:
    import ragctl

    return ragctl.__version__


def connect(config: RayConfig) -> Any:
    """Ray, connected to the configured cluster (disconnect with `ray.shutdown()`)."""
    import ray

    try:
        if not ray.is_initialized():
            local = config.address == "local"
            ray.init(
                address=None if local else config.address,
                log_to_driver=False,
                include_dashboard=False,
                configure_logging=False,
            )
    except ConnectionError as exc:
        raise ServiceError(
            f"cannot reach the Ray cluster at '{config.address}': {exc}",
            "start one (`ray start --head`), set ingestion.ray.address, or use address: local",
        ) from None
    import ragctl

    theirs = ray.get(ray.remote(num_cpus=0)(_version).remote())
    if theirs != ragctl.__version__:
        raise ConfigError(
            f"the Ray workers run ragctl {theirs}, this process {ragctl.__version__}",
            "install the same ragctl on every node of the cluster",
        )
    return ray


def prepared_files(
    jobs: list[Job], config: RayConfig, embedding: EmbeddingConfig, timeout: float
) -> Iterator[Prepared]:
    """Yield each job's embedded Prepared, in completion order."""
    if not jobs:
        return
    import ray as imported

    ours = not imported.is_initialized()
    # Ray's driver prints the cluster's events ("a worker died ...") to stdout from a thread of its own,
    # whatever log_to_driver says: they go to stderr, so stdout stays the command's (`--json`).
    with contextlib.redirect_stdout(sys.stderr):
        ray = connect(config)
        try:
            yield from _run(ray, jobs, config, embedding, timeout)
        finally:
            if ours:  # the actors go with this driver's job
                ray.shutdown()


def _run(ray: Any, jobs: list[Job], config: RayConfig, embedding: EmbeddingConfig, timeout: float) -> Any:
    from ray.util import ActorPool

    reader = ray.remote(num_cpus=1, max_retries=config.retries)(prepare_bytes)
    # An embedder killed mid-file is restarted (it reloads the model) and the file's call retried.
    actor = ray.remote(num_cpus=config.embed_cpus, max_restarts=config.retries, max_task_retries=config.retries)(
        Embedder
    )
    pool = ActorPool([actor.remote(embedding) for _ in range(config.embed_actors)])
    # As many files read at once as the cluster has CPUs beside the embedders: a task starts when it is
    # submitted, so its time limit counts reading, not queueing.
    cpus = int(ray.cluster_resources().get("CPU", 1) - config.embed_actors * config.embed_cpus)
    window = max(1, cpus)
    queue = iter(jobs)
    reading: dict[Any, tuple[Job, float]] = {}
    embedding_files = 0
    try:
        while True:
            while len(reading) < window and (item := next(queue, None)) is not None:
                data = b"" if item.refused else item.path.read_bytes()
                reading[reader.remote(item, data)] = (item, time.monotonic())
            if not reading and not embedding_files:
                return
            if reading:
                ready, _ = ray.wait(list(reading), num_returns=1, timeout=0.2)
                for ref in ready:
                    item, _started = reading.pop(ref)
                    prepared = _result(ray, item, ref)
                    if prepared.failed:
                        yield prepared
                    else:
                        pool.submit(lambda a, p: a.embed.remote(p), prepared)
                        embedding_files += 1
                now = time.monotonic()
                for ref, (item, started) in list(reading.items()):
                    if now - started > timeout:
                        ray.cancel(ref, force=True)
                        del reading[ref]
                        reason = f"reading took longer than ingestion.timeout ({timeout:g} s)"
                        yield Prepared(item.name, "timeout", reason)
            while embedding_files:
                try:
                    done = pool.get_next_unordered(timeout=0 if reading else None)
                except TimeoutError:
                    break
                embedding_files -= 1
                yield done
    finally:
        for ref in reading:
            ray.cancel(ref, force=True)


def _result(ray: Any, item: Job, ref: Any) -> Prepared:
    from ray.exceptions import RayTaskError, WorkerCrashedError

    try:
        return ray.get(ref)  # type: ignore[no-any-return]
    except WorkerCrashedError:
        return Prepared(item.name, "corrupt", "the reader process died on this file (after Ray's retries)")
    except RayTaskError as exc:  # a reader bug must not stop the run; the file is reported
        cause = exc.cause if exc.cause is not None else exc
        return Prepared(item.name, "corrupt", f"reader error: {type(cause).__name__}: {cause}")
