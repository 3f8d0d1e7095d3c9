"""Read and chunk files in worker processes while the caller embeds and writes: a bounded window of
files in flight (memory stays flat whatever the corpus size), and a per-file time limit that stops the
worker of a hostile file without stopping the run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Any

from ragctl.config.model import RagctlConfig
from ragctl.documents import SourceFile
from ragctl.stages.ingest.work import Prepared, prepare


def default_workers() -> int:
    return max(1, (os.cpu_count() or 2) // 2)


def prepared_files(todo: list[tuple[SourceFile, str]], config: RagctlConfig) -> Iterator[tuple[Prepared, int]]:
    """Yield (Prepared, workers still busy) per (file, sha256), in completion order."""
    import multiprocessing

    import pebble

    if not todo:
        return
    workers = min(config.ingestion.workers or default_workers(), len(todo))
    timeout = config.ingestion.timeout
    queue = iter(todo)
    pending: dict[Future[Any], SourceFile] = {}
    # spawn: the parent holds threads (onnxruntime, chromadb) that a forked child must not inherit.
    context = multiprocessing.get_context("spawn")
    with pebble.ProcessPool(max_workers=workers, context=context, initializer=_warm_up) as pool:

        def top_up() -> None:
            while len(pending) < workers * 2:
                item = next(queue, None)
                if item is None:
                    return
                source, digest = item
                future = pool.schedule(prepare, args=(source.path, source.name, digest, config), timeout=timeout)
                pending[future] = source

        top_up()
        while pending:
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            finished = [(pending.pop(f), f) for f in done]
            top_up()  # keep the workers busy while the caller embeds
            for source, future in finished:
                yield _result(source, future, timeout), min(workers, len(pending))


def _warm_up() -> None:
    """Import the readers and the splitter before the first file, so its time limit measures reading."""
    import llama_index.core.node_parser  # noqa: F401
    import pypdf  # noqa: F401


def _result(source: SourceFile, future: Future[Any], timeout: float) -> Prepared:
    import pebble

    try:
        return future.result()
    except TimeoutError:
        return Prepared(source.name, "timeout", f"reading took longer than ingestion.timeout ({timeout:g} s)")
    except pebble.ProcessExpired as exc:
        return Prepared(source.name, "corrupt", f"the reader process died on this file (exit code {exc.exitcode})")
    except Exception as exc:  # a reader bug must not stop the run; the file is reported
        return Prepared(source.name, "corrupt", f"reader error: {type(exc).__name__}: {exc}")
