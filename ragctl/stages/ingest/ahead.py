"""What an ingest starts as soon as it knows it has work, before MLflow, the lock and the store are ready:
the embedding model loads on a thread and worker processes read the files the store's plan names. One
after the other these were a small corpus's start-up (here: MLflow and a new SQLite store 6.8 s, Chroma
1.4 s, the model 2.1 s, the first file's read 6 s before any embedding).

Under the lock the plan is made again; the files read ahead are used only if it names exactly the same
jobs (another ingest may have run in between), else they are dropped and read again."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from ragctl.config.model import RagctlConfig
from ragctl.stages.ingest import pipeline
from ragctl.stages.ingest.work import Job, Prepared


class Ahead:
    def __init__(self, jobs: list[Job], config: RagctlConfig) -> None:
        from ragctl.components import create

        self._config = config
        self._loader: ThreadPoolExecutor | None = None
        self._model: Future[Any] | None = None
        self._readers: pipeline.Readers | None = None
        if config.ingestion.executor == "local" and jobs:  # Ray's actors load the model and read on the cluster
            self._loader = ThreadPoolExecutor(1, thread_name_prefix="ragctl-model")
            self._model = self._loader.submit(create, "embedding", config.embedding)
            self._readers = pipeline.Readers(jobs, config.ingestion.workers, config.ingestion.timeout)

    def model(self) -> Any:
        """The embedding model (a load error is raised here, where the run needs the model)."""
        from ragctl.components import create

        return self._model.result() if self._model is not None else create("embedding", self._config.embedding)

    def stream(self, jobs: list[Job]) -> Iterator[tuple[Prepared, Callable[[], int]]]:
        """The read files of `jobs`: those read ahead when they are the same jobs, else read now."""
        if self._readers is None or self._readers.jobs != jobs:
            if self._readers is not None:
                self._readers.close()
            self._readers = pipeline.Readers(jobs, self._config.ingestion.workers, self._config.ingestion.timeout)
        return self._readers.results()

    def close(self) -> None:
        """Stop the workers however the run ended (unused, or stopped mid-way), and the model's load."""
        if self._readers is not None:
            self._readers.close()
        if self._loader is not None:
            self._loader.shutdown(wait=False, cancel_futures=True)
