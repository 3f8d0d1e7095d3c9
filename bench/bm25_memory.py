"""The BM25 score matrix's build, a block of vocabulary ids at a time (the default) against every token
at once, side by side in one run: seconds, allocations at their peak (tracemalloc) and the matrix's own
size, and a check that both give the same matrix.

    python bench/bm25_memory.py [--chunks 1000000] [--store STORE_DIR --collection NAME]

With --store, the token ids are those of the collection's real chunks, repeated until there are --chunks
documents (as bench/retrieval_latency.py repeats chunks to 1,000,000); without it, ~90 tokens a document
drawn from a Zipf law over 300,000 ids, about what sec10q's chunks have."""

from __future__ import annotations

import argparse
import time
import tracemalloc
from typing import Any

from ragctl.env import apply_offline_defaults


def _real(store: str, collection: str, chunks: int) -> tuple[Any, Any, int]:
    import numpy as np

    from ragctl.components.vector_stores import open_collection
    from ragctl.config.model import VectorStoreConfig
    from ragctl.retrieval import corpus
    from ragctl.retrieval.keyword import tokenize

    source = open_collection(VectorStoreConfig(path=store, collection=collection))
    texts = [text for page in corpus.pages(source) for text in page.texts]
    tokens, starts, vocabulary = tokenize(texts)
    copies = -(-chunks // len(texts))
    lengths = np.tile(np.diff(starts), copies)[:chunks]
    tokens = np.tile(tokens, copies)[: int(lengths.sum())]
    return tokens, np.concatenate([[0], np.cumsum(lengths)]), len(vocabulary)


def _zipf(chunks: int, per: int = 90, vocabulary: int = 300_000) -> tuple[Any, Any, int]:
    import numpy as np

    tokens = (np.random.default_rng(0).zipf(1.3, chunks * per) % vocabulary).astype(np.int32)
    return tokens, np.arange(0, chunks * per + 1, per, dtype=np.int64), vocabulary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=1_000_000)
    parser.add_argument("--store")
    parser.add_argument("--collection", default="ragctl")
    args = parser.parse_args()
    apply_offline_defaults()
    import numpy as np

    from ragctl.retrieval.bm25 import BLOCK, score_matrix

    tokens, starts, vocabulary = _real(args.store, args.collection, args.chunks) if args.store else _zipf(args.chunks)
    source = f"real chunks of {args.store}" if args.store else "Zipf token ids"
    print(f"{len(starts) - 1:,} documents, {len(tokens):,} tokens, {vocabulary:,} ids ({source})")
    found = {}
    for name, block in (("every token at once", len(tokens) + 1), (f"blocks of {BLOCK:,} tokens", BLOCK)):
        tracemalloc.start()
        started = time.perf_counter()
        matrix = score_matrix(tokens, starts, vocabulary, block=block)
        seconds = time.perf_counter() - started
        held, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"{name:>28}: {seconds:5.1f} s (traced), peak {peak / 2**20:6.0f} MB, matrix {held / 2**20:.0f} MB")
        found[name] = matrix
        del matrix
    first, second = found.values()
    same = all(np.array_equal(first[key], second[key]) for key in ("data", "indices", "indptr"))
    print(f"same matrix: {same}")


if __name__ == "__main__":
    main()
