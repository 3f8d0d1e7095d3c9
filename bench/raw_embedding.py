"""The embedding floor: embed exactly the texts ingest embedded for a ragctl collection's chunks (with their
title when chunking.context is on), nothing else, same model and settings as ingest. Prints: chunks, load
seconds, embed seconds.
Usage: python bench/raw_embedding.py CHROMA_DIR COLLECTION"""

from __future__ import annotations

import sys
import time

from ragctl.env import apply_offline_defaults


def main(chroma_dir: str, collection: str) -> None:
    apply_offline_defaults()
    import chromadb

    from ragctl.components import create
    from ragctl.config.model import EmbeddingConfig
    from ragctl.retrieval.corpus import embedded_text

    got = chromadb.PersistentClient(chroma_dir).get_collection(collection).get(include=["documents", "metadatas"])
    texts = [embedded_text(d or "", dict(m or {})) for d, m in zip(got["documents"] or [], got["metadatas"] or [])]
    started = time.perf_counter()
    model = create("embedding", EmbeddingConfig())
    loaded = time.perf_counter()
    model.embed_many(texts)
    print(f"{len(texts)} {loaded - started:.2f} {time.perf_counter() - loaded:.2f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
