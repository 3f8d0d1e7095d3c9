"""What an ingest starts as soon as it knows it has work, before MLflow, the lock and the store are ready:
the embedding model loads, worker processes read the files the store's plan names, and a thread embeds
each file as it is read. One after the other these were a small corpus's start-up (here: MLflow and a new
SQLite store 6.8 s, Chroma 1.4 s, the model 2.1 s, the first file's read 6 s before any embedding); and
once the run is under way the same thread embeds the next file while the caller writes the last one.

Under the lock the plan is made again; the files read and embedded ahead are used only if it names
exactly the same jobs (another ingest may have run in between), else they are dropped and done again."""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Iterator
from typing import Any

from ragctl.config.model import RagctlConfig
from ragctl.stages.ingest import pipeline
from ragctl.stages.ingest.work import Job, Prepared, embed

WAITING = 2  # embedded files held for the writer: the embedder stays a file ahead, memory stays flat


class Ahead:
    def __init__(self, jobs: list[Job], config: RagctlConfig) -> None:
        self._config = config
        self._embedder: _Embedder | None = None
        if config.ingestion.executor == "local" and jobs:  # Ray's actors load the model and read on the cluster
            self._embedder = _Embedder(jobs, config)

    def stream(self, jobs: list[Job]) -> Iterator[Prepared]:
        """The read and embedded files of `jobs`, in the order they were read: those done ahead when they
        are the same jobs, else done now. An error of the model or of the embedding is raised here."""
        if self._embedder is None or self._embedder.jobs != jobs:
            if self._embedder is not None:
                self._embedder.close()
            self._embedder = _Embedder(jobs, self._config)
        return self._embedder.results()

    def close(self) -> None:
        """Stop the workers and the embedder however the run ended (unused, or stopped mid-way)."""
        if self._embedder is not None:
            self._embedder.close()


class _Stopped(Exception):
    """Raised inside the embedder's thread between batches once close() is called."""


class _Embedder:
    """A thread that loads the model, then embeds each file the readers give and hands it on through a
    bounded queue; an error is handed on the same way and raised in the caller's thread."""

    def __init__(self, jobs: list[Job], config: RagctlConfig) -> None:
        self.jobs = jobs
        self._config = config
        self._readers = pipeline.Readers(jobs, config.ingestion.workers, config.ingestion.timeout)
        self._out: queue.Queue[tuple[str, Any]] = queue.Queue(WAITING)
        self._stop = threading.Event()
        self._caller_waits = False
        self._cores = os.cpu_count() or 1
        self._thread = threading.Thread(target=self._work, name="ragctl-embed", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        from ragctl.components import create

        try:
            model = create("embedding", self._config.embedding)
            for prepared in self._readers.results(self._stop.is_set):
                self._put("file", prepared if prepared.failed else embed(prepared, model, self._threads))
            self._put("done", None)
        except _Stopped:
            pass
        except BaseException as exc:  # handed to the caller's thread, which raises it
            if not self._stop.is_set():
                self._put_error(exc)
        finally:
            self._readers.close()  # only this thread touches the workers once they are started

    def _threads(self) -> int:
        """Asked before every batch: all cores while the caller waits for this thread and no worker
        reads; else those left (a 2-thread session sharing a core runs at half speed:
        embeddings.use_threads)."""
        if self._stop.is_set():
            raise _Stopped
        others = self._readers.busy() + (0 if self._caller_waits else 1)
        return max(1, self._cores - others) if others else 0

    def _put(self, kind: str, value: Any) -> None:
        while not self._stop.is_set():
            try:
                self._out.put((kind, value), timeout=0.2)
                return
            except queue.Full:
                continue
        raise _Stopped

    def _put_error(self, exc: BaseException) -> None:
        with contextlib.suppress(_Stopped):
            self._put("error", exc)

    def results(self) -> Iterator[Prepared]:
        while True:
            kind, value = self._next()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value

    def _next(self) -> tuple[str, Any]:
        self._caller_waits = True  # until now the caller held a core: starting MLflow, writing the last file
        try:
            while True:
                try:
                    return self._out.get(timeout=1)
                except queue.Empty:
                    if not self._thread.is_alive() and self._out.empty():
                        raise RuntimeError("the embedding thread ended without its files") from None
        finally:
            self._caller_waits = False

    def close(self) -> None:
        self._stop.set()  # the thread sees it within 0.2 s, or before its next batch, and stops the workers
        self._thread.join()
