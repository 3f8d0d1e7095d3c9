"""Reranking with the chain's own LLM (retrieval.rerank.type: llm) against the default retrieval, side by side on
the same questions, over stores `bench/retrieval.py` ingested (run it first; the context store is reused):

    python bench/rerank.py squad ../shared/corpora/squad-small/qa.jsonl --every 6
    python bench/rerank.py sec10q ../shared/corpora/sec10q/qa_flat.jsonl --every 4

squad: on answerable questions, whether a retrieved chunk contains a gold answer (at rank 1, in the top 3);
over all sampled questions, how well the best rerank score separates answerable from unanswerable ones
(calibrated on half, measured on the other half, as bench/retrieval.py does for the dense similarity).
sec10q: file-level hit@1 on single-document questions. Every figure also gives seconds per question.
One LLM call per candidate makes this slow (seconds per question), hence the sampling: every Nth question.
Results: stdout and bench/results/rerank-KIND.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import qa_convert

ROOT = Path(__file__).resolve().parent.parent
TOP_K = 3  # the chain's default
CANDIDATES = 10


def words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def contains_answer(node: Any, answers: list[str]) -> bool:
    return any(words(a) in words(node.node.get_content()) for a in answers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["sec10q", "squad"])
    parser.add_argument("qa", type=Path)
    parser.add_argument("--every", type=int, default=1, help="take every Nth question")
    parser.add_argument("--work", type=Path, default=None, help="bench/retrieval.py's --work")
    args = parser.parse_args()
    work = (args.work or Path(f"/tmp/ragctl-bench-retrieval-{args.kind}")).resolve()

    from ragctl.components import create
    from ragctl.components.vector_stores import open_collection
    from ragctl.config.model import EmbeddingConfig, LLMConfig, RetrievalConfig, VectorStoreConfig
    from ragctl.env import apply_offline_defaults
    from ragctl.evaluation.abstention import calibrate, rates
    from ragctl.evaluation.datasets import item_from
    from ragctl.retrieval import Retriever

    apply_offline_defaults()
    os.environ.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{work}/mlflow.db")  # the RERANKER spans' traces
    raw = [json.loads(line) for line in args.qa.read_text().splitlines() if line.strip()]
    converted = qa_convert.sec10q(raw) if args.kind == "sec10q" else qa_convert.squad(raw)
    items = [item_from(r, f"{args.qa}:{n}") for n, r in enumerate(converted, start=1)]
    if args.kind == "sec10q":
        items = [i for i in items if i.tags.get("type") == "single-doc"]
    items = items[:: args.every]

    embed = create("embedding", EmbeddingConfig())
    llm = create("llm", LLMConfig())
    collection = open_collection(VectorStoreConfig(path=str(work / "context"), collection="bench"))
    retrievers = {
        "default (hybrid, title restrict)": Retriever(RetrievalConfig(top_k=TOP_K), embed, collection),
        f"+ rerank {CANDIDATES} with the packaged LLM": Retriever(
            RetrievalConfig(top_k=TOP_K, rerank={"type": "llm", "candidates": CANDIDATES}), embed, collection, llm
        ),
    }
    results: dict[str, Any] = {"questions": len(items), "every": args.every, "configs": {}}
    for name, retriever in retrievers.items():
        rows, evidence, seconds = [], [], []
        for item in items:
            started = time.perf_counter()
            hits = retriever.search(item.question)
            seconds.append(time.perf_counter() - started)
            gold = {s["file"] for s in item.sources}
            files = [n.node.metadata.get("file") for n in hits.nodes]
            row = {"file_hit@1": float(files[0] in gold) if files else 0.0}
            if args.kind == "squad" and item.answerable:  # short gold answers (sec10q's are paragraphs)
                row["answer_in_chunk@1"] = float(bool(hits.nodes) and contains_answer(hits.nodes[0], item.answers))
                row["answer_in_top3"] = float(any(contains_answer(n, item.answers) for n in hits.nodes))
            rows.append(row)
            top = hits.nodes[0].score if "rerank" in name and hits.nodes else hits.best_similarity
            evidence.append((float(top if top is not None else -1e9), item.answerable))
        entry: dict[str, Any] = {
            key: round(statistics.fmean(r[key] for r in rows if key in r), 3)
            for key in ("file_hit@1", "answer_in_chunk@1", "answer_in_top3")
            if any(key in r for r in rows)
        }
        entry["seconds_per_question"] = round(statistics.fmean(seconds), 2)
        if any(not ok for _, ok in evidence):
            found = calibrate(evidence[::2])
            assert found is not None
            declined, answered = rates(evidence[1::2], found.min_score)
            entry["abstention"] = {"threshold": round(found.min_score, 3), "decline": round(declined, 3),
                                   "answer": round(answered, 3)}  # fmt: skip
        results["configs"][name] = entry
        print(name, json.dumps(entry), flush=True)
    out = ROOT / f"bench/results/rerank-{args.kind}.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"-> {out}")


if __name__ == "__main__":
    main()
