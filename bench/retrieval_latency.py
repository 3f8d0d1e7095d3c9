"""Retrieval latency at scale: one query (embed + dense + BM25 + fusion, no rerank, no LLM) against 50,000 chunks
in the embedded Chroma, p50/p95 and where the time goes.

    python bench/retrieval_latency.py SOURCE_CHROMA_DIR COLLECTION QA.jsonl [--chunks 50000]

The 50,000 chunks are the source collection's real chunks (e.g. bench/retrieval.py's sec10q store, 4,400
chunks) repeated under other file names until the count is reached, each copy's vectors moved by a little
noise (then re-normalised) so the HNSW graph holds 50,000 distinct points. Embedding 50,000 chunks would take
~20 minutes here and measure the embedding, not the search. The questions are the QA set's (file names only).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np


def build(source: Any, target_dir: Path, chunks: int) -> Any:
    from ragctl.components.vector_stores import open_collection
    from ragctl.config.model import VectorStoreConfig

    config = VectorStoreConfig(path=str(target_dir), collection="latency")
    target = open_collection(config, create=True)
    if target.count() >= chunks:
        return target
    got = source.get(include=["documents", "metadatas", "embeddings"])
    vectors = np.asarray(got["embeddings"], dtype=np.float32)
    rng = np.random.default_rng(0)
    copy = 0
    while target.count() < chunks:
        take = min(len(got["ids"]), chunks - target.count())
        moved = vectors[:take] + rng.normal(0, 0.02, size=vectors[:take].shape).astype(np.float32) * (copy > 0)
        moved /= np.linalg.norm(moved, axis=1, keepdims=True)
        metadatas = [dict(m, file=f"copy{copy}/{m['file']}") for m in got["metadatas"][:take]]
        for start in range(0, take, 4000):
            end = min(take, start + 4000)
            target.add(
                ids=[f"{i}-{copy}" for i in got["ids"][start:end]],
                embeddings=moved[start:end].tolist(),
                documents=got["documents"][start:end],
                metadatas=metadatas[start:end],
            )
        copy += 1
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source_dir")
    parser.add_argument("collection")
    parser.add_argument("qa", type=Path)
    parser.add_argument("--chunks", type=int, default=50_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/ragctl-bench-latency"))
    args = parser.parse_args()

    from ragctl.components import create
    from ragctl.components.vector_stores import open_collection
    from ragctl.config.model import EmbeddingConfig, RetrievalConfig, VectorStoreConfig
    from ragctl.env import apply_offline_defaults
    from ragctl.retrieval import Retriever

    apply_offline_defaults()
    source = open_collection(VectorStoreConfig(path=args.source_dir, collection=args.collection))
    collection = build(source, args.work / f"chroma-{args.chunks}", args.chunks)
    questions = [json.loads(line)["question"] for line in args.qa.read_text().splitlines() if line.strip()]
    embed = create("embedding", EmbeddingConfig())
    results: dict[str, Any] = {"chunks": collection.count(), "questions": len(questions)}
    for mode, title_filter in (("dense", "off"), ("hybrid", "off"), ("hybrid", "restrict")):
        started = time.perf_counter()
        retriever = Retriever(RetrievalConfig(top_k=5, mode=mode, title_filter=title_filter), embed, collection)
        load = time.perf_counter() - started
        for question in questions[:20]:  # warm up
            retriever.search(question)
        totals, embeds = [], []
        for question in questions:
            started = time.perf_counter()
            embed.get_query_embedding(question)
            embeds.append(time.perf_counter() - started)
            started = time.perf_counter()
            retriever.search(question)
            totals.append(time.perf_counter() - started)
        ms = np.array(totals) * 1000
        results[f"{mode}, title_filter {title_filter}"] = {
            "load_s": round(load, 2),
            "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p95_ms": round(float(np.percentile(ms, 95)), 1),
            "embed_p50_ms": round(statistics.median(embeds) * 1000, 1),
        }
        print(mode, title_filter, json.dumps(results[f"{mode}, title_filter {title_filter}"]), flush=True)
    out = Path(__file__).parent / "results" / "retrieval-latency.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
