"""What building a collection's search index allocates: Python and numpy allocations at their peak
(tracemalloc, started after the imports and Chroma's first read, so it counts the build alone), what the
index holds after, and the process's peak RSS. tracemalloc slows the build about 4x.

    python bench/index_build_memory.py STORE_DIR [COLLECTION]   (default collection: latency, as
    bench/retrieval_latency.py names its stores)

To compare two versions, run it with PYTHONPATH set to each checkout."""

from __future__ import annotations

import resource
import sys
import time
import tracemalloc

from ragctl.env import apply_offline_defaults


def main(store_dir: str, collection: str = "latency") -> None:
    apply_offline_defaults()
    import bm25s  # noqa: F401  (imported before tracing: the build's allocations alone are counted)
    import llama_index.core.schema  # noqa: F401

    from ragctl.components.vector_stores import open_collection
    from ragctl.config.model import VectorStoreConfig
    from ragctl.retrieval.index.build import build

    chunks = open_collection(VectorStoreConfig(path=store_dir, collection=collection))
    chunks.get(limit=1)
    tracemalloc.start()
    started = time.perf_counter()
    index = build(chunks)
    seconds = time.perf_counter() - started
    held, peak = tracemalloc.get_traced_memory()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{len(index)} chunks: build {seconds:.1f} s (traced), allocations at peak {peak / 2**20:.0f} MB, "
        f"held after {held / 2**20:.0f} MB, peak RSS {rss:.0f} MB"
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
