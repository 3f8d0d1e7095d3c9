"""Read and chunk files in worker processes while the caller embeds and writes: a bounded window of
files in flight (memory stays flat whatever the corpus size), and a per-file time limit that stops the
worker of a hostile file without stopping the run."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Any

from ragctl.config.model import ChunkingConfig, EmbeddingConfig
from ragctl.stages.ingest.work import Job, Prepared, prepare


def default_workers() -> int:
    return max(1, (os.cpu_count() or 2) // 2)


class Readers:
    """The worker processes that read and chunk `jobs`, started when made (an ingest starts them before
    MLflow, the lock and the model are ready: ahead.py). results() yields each job's Prepared, in
    completion order; busy() is how many workers are reading at the moment it is called, so the embedder
    can take the cores they leave (a fast reader, PDFium's, is idle most of the time)."""

    def __init__(self, jobs: list[Job], workers: int | None, timeout: float) -> None:
        import multiprocessing

        import pebble

        self.jobs = jobs
        self._workers = max(1, min(workers or default_workers(), len(jobs)))
        self._timeout = timeout
        self._queue = iter(jobs)
        self._pending: dict[Future[Any], Job] = {}
        self._pool: Any = None
        if jobs:
            # spawn: the parent holds threads (onnxruntime, chromadb) that a forked child must not inherit.
            context = multiprocessing.get_context("spawn")
            settings = (jobs[0].chunking, jobs[0].embedding)  # one run's jobs share them
            self._pool = pebble.ProcessPool(
                max_workers=self._workers, context=context, initializer=_warm_up, initargs=settings
            )
            self._top_up()

    def busy(self) -> int:
        return min(self._workers, sum(not future.done() for future in self._pending))

    def _top_up(self) -> None:
        """Keep two files per worker scheduled, so the workers read while the caller embeds."""
        while len(self._pending) < self._workers * 2:
            item = next(self._queue, None)
            if item is None:
                return
            self._pending[self._pool.schedule(prepare, args=(item,), timeout=self._timeout)] = item

    def results(self, stopped: Callable[[], bool] = lambda: False) -> Iterator[Prepared]:
        """Ends early, its workers stopped, once `stopped()` is true (asked at least every 0.2 s)."""
        try:
            while self._pending and not stopped():
                done, _ = wait(list(self._pending), timeout=0.2, return_when=FIRST_COMPLETED)
                finished = [(self._pending.pop(f), f) for f in done]
                self._top_up()
                for item, future in finished:
                    yield _result(item, future, self._timeout)
        finally:
            self.close()

    def close(self) -> None:
        """Stop the workers: at once when files are still being read (the run stopped), else when idle."""
        if self._pool is None:
            return
        if self._pending:
            self._pool.stop()
        else:
            self._pool.close()
        self._pool.join()
        self._pool = None


def _warm_up(chunking: ChunkingConfig, embedding: EmbeddingConfig) -> None:
    """Import the readers, build the splitter and load its sentence tokenizer (nltk's import, ~2.5 s, on
    first use) before the first file, so the file's time limit measures reading, not start-up."""
    import contextlib
    import io

    import pypdf  # noqa: F401
    from llama_index.core.node_parser.text.utils import split_by_sentence_tokenizer

    from ragctl.stages.ingest.work import _splitter

    # Only a head start: whatever fails here fails again in the file's own job, and is reported there.
    with contextlib.suppress(Exception), contextlib.redirect_stdout(io.StringIO()):
        _splitter(chunking, embedding)
        split_by_sentence_tokenizer()("Chunks are cut at sentences. Splitting one loads the tokenizer.")


def _result(item: Job, future: Future[Any], timeout: float) -> Prepared:
    import pebble

    try:
        return future.result()
    except TimeoutError:
        return Prepared(item.name, "timeout", f"reading took longer than ingestion.timeout ({timeout:g} s)")
    except pebble.ProcessExpired as exc:
        return Prepared(item.name, "corrupt", f"the reader process died on this file (exit code {exc.exitcode})")
    except Exception as exc:  # a reader bug must not stop the run; the file is reported
        return Prepared(item.name, "corrupt", f"reader error: {type(exc).__name__}: {exc}")
