"""Read and chunk files in worker processes while the caller embeds and writes: a bounded window of
files in flight (memory stays flat whatever the corpus size), and a per-file time limit that stops the
worker of a hostile file without stopping the run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Any

from ragctl.stages.ingest.work import Job, Prepared, prepare


def default_workers() -> int:
    return max(1, (os.cpu_count() or 2) // 2)


def prepared_files(jobs: list[Job], workers: int | None, timeout: float) -> Iterator[tuple[Prepared, int]]:
    """Yield (Prepared, workers still busy) per job, in completion order (`workers` None: half the cores)."""
    import multiprocessing

    import pebble

    if not jobs:
        return
    workers = min(workers or default_workers(), len(jobs))
    queue = iter(jobs)
    pending: dict[Future[Any], Job] = {}
    # spawn: the parent holds threads (onnxruntime, chromadb) that a forked child must not inherit.
    context = multiprocessing.get_context("spawn")
    with pebble.ProcessPool(max_workers=workers, context=context, initializer=_warm_up) as pool:

        def top_up() -> None:
            while len(pending) < workers * 2:
                item = next(queue, None)
                if item is None:
                    return
                pending[pool.schedule(prepare, args=(item,), timeout=timeout)] = item

        top_up()
        while pending:
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            finished = [(pending.pop(f), f) for f in done]
            top_up()  # keep the workers busy while the caller embeds
            for item, future in finished:
                yield _result(item, future, timeout), min(workers, len(pending))


def _warm_up() -> None:
    """Import the readers and the splitter before the first file, so its time limit measures reading."""
    import llama_index.core.node_parser  # noqa: F401
    import pypdf  # noqa: F401


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
