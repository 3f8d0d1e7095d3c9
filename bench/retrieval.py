"""Retrieval quality side by side, in one run, on a real corpus with its QA set: the plain LlamaIndex pipeline a
user writes by hand, and ragctl's retrieval settings (chunk context, section headings, dense/hybrid, title filter).

    python bench/retrieval.py sec10q ../shared/corpora/sec10q/docs ../shared/corpora/sec10q/qa_flat.jsonl
    python bench/retrieval.py squad ../shared/corpora/squad-small/corpus ../shared/corpora/squad-small/qa.jsonl
    python bench/retrieval.py financebench ../shared/corpora/financebench-dev/pdfs \
        ../shared/corpora/financebench-dev/qa.jsonl --variants context sections

Each chunking variant is ingested once with `ragctl ingest` (wall time and peak RSS recorded; `--reuse` keeps
an existing store), then every retrieval configuration answers every question in this process (embedding
model loaded once): file-level hit@1/@5, MRR, recall@5 and, where the QA set names pages (financebench), page
hit@1/@5, MRR and recall@5 (all evidence pages of a question among the top 5); retrieval latency p50/p95.
`--variants` ingests only some chunking variants (and runs only the configurations over them).
With answerable and unanswerable questions (squad), the abstention threshold
(retrieval.min_score) is calibrated on half the questions and its decline/answer rates reported on the other
half. Results: a Markdown table on stdout and bench/results/retrieval-KIND.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import measure
import qa_convert

ROOT = Path(__file__).resolve().parent.parent
TOP_K = 5
# Chunking variants, each ingested into its own store: name -> chunking settings.
CHUNKING: dict[str, dict[str, bool]] = {
    "plain": {"context": False, "sections": False},
    "context": {"context": True, "sections": False},
    "sections": {"context": True, "sections": True},
    "sections-pdfium": {"context": True, "sections": True},
    "tables": {"context": True, "sections": True, "tables": True},
}
INGESTED = {
    "plain": "no context",
    "context": "context",
    "sections": "context and sections",
    "sections-pdfium": "context and sections, pdfium",
    "tables": "context, sections and tables",
}
# Variants read with another PDF engine than the default (ingestion.pdf.engine).
ENGINE = {"sections-pdfium": "pdfium"}
# name -> (chunking variant, retrieval settings)
CONFIGS: dict[str, tuple[str, dict[str, Any]]] = {
    "ragctl dense (the spine's default)": ("plain", {"mode": "dense", "title_filter": "off"}),
    "+ chunk context": ("context", {"mode": "dense", "title_filter": "off"}),
    "+ context, hybrid": ("context", {"mode": "hybrid", "title_filter": "off"}),
    "+ context, dense, title restrict": ("context", {"mode": "dense", "title_filter": "restrict"}),
    "+ context, hybrid, title boost": ("context", {"mode": "hybrid", "title_filter": "boost"}),
    "+ context, hybrid, title restrict": ("context", {"mode": "hybrid", "title_filter": "restrict"}),
    "no context, hybrid, title restrict": ("plain", {"mode": "hybrid", "title_filter": "restrict"}),
    "+ context and sections, dense": ("sections", {"mode": "dense", "title_filter": "off"}),
    "+ context and sections, hybrid, title restrict": ("sections", {"mode": "hybrid", "title_filter": "restrict"}),
    "+ context, hybrid, title restrict, pages": (
        "context",
        {"mode": "hybrid", "title_filter": "restrict", "unit": "page"},
    ),
    "+ context and sections, hybrid, title restrict, pages": (
        "sections",
        {"mode": "hybrid", "title_filter": "restrict", "unit": "page"},
    ),
    "+ context and sections, hybrid, title restrict, part boost": (
        "sections",
        {"mode": "hybrid", "title_filter": "restrict", "part_filter": "boost"},
    ),
    "+ context and sections, hybrid, title restrict, part restrict": (
        "sections",
        {"mode": "hybrid", "title_filter": "restrict", "part_filter": "restrict"},
    ),
    "+ context and sections, hybrid, title restrict, part boost, pages": (
        "sections",
        {"mode": "hybrid", "title_filter": "restrict", "part_filter": "boost", "unit": "page"},
    ),
    "+ context, sections and tables, hybrid, title restrict": (
        "tables",
        {"mode": "hybrid", "title_filter": "restrict"},
    ),
    "+ context, sections and tables, hybrid, title restrict, pages": (
        "tables",
        {"mode": "hybrid", "title_filter": "restrict", "unit": "page"},
    ),
    "+ context, sections and tables, hybrid, title restrict, part boost": (
        "tables",
        {"mode": "hybrid", "title_filter": "restrict", "part_filter": "boost"},
    ),
    "+ context, sections and tables, hybrid, title restrict, part restrict, pages": (
        "tables",
        {"mode": "hybrid", "title_filter": "restrict", "part_filter": "restrict", "unit": "page"},
    ),
    "+ context, sections and tables, hybrid, title restrict, part boost, pages": (
        "tables",
        {"mode": "hybrid", "title_filter": "restrict", "part_filter": "boost", "unit": "page"},
    ),
    "the same, PDFs read by pdfium": ("sections-pdfium", {"mode": "hybrid", "title_filter": "restrict"}),
    "+ context and sections, dense, PDFs read by pdfium": ("sections-pdfium", {"mode": "dense", "title_filter": "off"}),
}


def ingest(docs: Path, work: Path, variant: str, reuse: bool) -> dict[str, Any]:
    store = work / variant
    if reuse and store.exists():
        return {"store": str(store), "seconds": None, "peak_rss_mb": None}
    args = [
        str(ROOT / ".venv/bin/ragctl"), "ingest", "--json", "-c", str(ROOT / "configs/default.yaml"),
        "--set", f"ingestion.paths=[{json.dumps(str(docs))}]", "--set", f"vector_store.path={store}",
        "--set", "vector_store.collection=bench",
        *[arg for key, on in CHUNKING[variant].items() for arg in ("--set", f"chunking.{key}={str(on).lower()}")],
        *(["--set", f"ingestion.pdf.engine={ENGINE[variant]}"] if variant in ENGINE else []),
        "--set", f"tracking.uri=sqlite:///{work}/mlflow.db", "--set", f"tracking.artifact_location={work}/artifacts",
    ]  # fmt: skip
    wall, peak, out = measure.run(args, cwd=work)
    summary = json.loads(out)["summary"]
    return {"store": str(store), "seconds": round(wall, 1), "peak_rss_mb": round(peak), "chunks": summary["chunks"]}


def plain_pipeline(docs: Path, work: Path, reuse: bool) -> dict[str, Any]:
    store = work / "plain-llamaindex"
    if reuse and store.exists():
        return {"store": str(store), "seconds": None, "peak_rss_mb": None}
    wall, peak, _ = measure.run([sys.executable, str(ROOT / "bench/plain_llamaindex.py"), str(docs), str(store)], work)
    return {"store": str(store), "seconds": round(wall, 1), "peak_rss_mb": round(peak)}


def score(ranked: list[dict[str, Any]], gold: list[dict[str, Any]]) -> dict[str, float]:
    from ragctl.evaluation.retrieval import scores

    by_page = any(g.get("page") is not None for g in gold)
    out = {f"file_{k}@{n}": v for n in (1, TOP_K) for k, v in scores(ranked, gold, n, by_page=False).items()}
    if by_page:
        out |= {f"page_{k}@{n}": v for n in (1, TOP_K) for k, v in scores(ranked, gold, n, by_page=True).items()}
    return out


def summarise(rows: list[dict[str, Any]], latencies: list[float]) -> dict[str, Any]:
    import numpy as np

    keys = ["page_hit_rate@1", "page_hit_rate@5", "page_recall@5", "page_mrr@5"]
    keys += ["file_hit_rate@1", "file_hit_rate@5", "file_mrr@5", "file_recall@5"]
    out = {k: round(statistics.fmean(r[k] for r in rows), 3) for k in keys if rows and k in rows[0]}
    out["latency_p50_ms"] = round(float(np.percentile(latencies, 50)) * 1000, 1)
    out["latency_p95_ms"] = round(float(np.percentile(latencies, 95)) * 1000, 1)
    return out


def run_plain(store: str, items: list[Any], embed: Any) -> tuple[list[dict[str, Any]], list[float]]:
    import chromadb
    from llama_index.core import VectorStoreIndex
    from llama_index.vector_stores.chroma import ChromaVectorStore

    collection = chromadb.PersistentClient(store).get_collection("plain")
    index = VectorStoreIndex.from_vector_store(ChromaVectorStore(chroma_collection=collection), embed_model=embed)
    retriever = index.as_retriever(similarity_top_k=TOP_K)
    rows, latencies = [], []
    for item in items:
        started = time.perf_counter()
        nodes = retriever.retrieve(item.question)
        latencies.append(time.perf_counter() - started)
        ranked = [{"file": n.node.metadata.get("file_name"), "page": n.node.metadata.get("page")} for n in nodes]
        rows.append(score(ranked, item.sources) | {"id": item.id})
    return rows, latencies


def run_ragctl(store: str, settings: dict[str, Any], items: list[Any], embed: Any) -> tuple[list, list, list]:
    from ragctl.components.vector_stores import open_collection
    from ragctl.config.model import RetrievalConfig, VectorStoreConfig
    from ragctl.retrieval import Retriever

    collection = open_collection(VectorStoreConfig(path=store, collection="bench"))
    retriever = Retriever(RetrievalConfig(top_k=TOP_K, **settings), embed, collection)
    rows, latencies, evidence = [], [], []
    for item in items:
        started = time.perf_counter()
        hits = retriever.search(item.question)
        latencies.append(time.perf_counter() - started)
        ranked = [{"file": n.node.metadata.get("file"), "page": n.node.metadata.get("page")} for n in hits.nodes]
        rows.append(score(ranked, item.sources) | {"id": item.id})
        evidence.append((hits.best_similarity or -1.0, item.answerable))
    return rows, latencies, evidence


def abstention(evidence: list[tuple[float, bool]]) -> dict[str, Any]:
    """Calibrate min_score on the even-numbered questions (ragctl.evaluation.abstention: the threshold that
    maximises the smaller of the two rates), report both rates on the odd-numbered ones."""
    from ragctl.evaluation.abstention import calibrate, rates

    found = calibrate(evidence[::2])
    assert found is not None
    declined, answered = rates(evidence[1::2], found.min_score)
    return {
        "min_score": found.min_score,
        "decline_unanswerable": round(declined, 3),
        "answer_answerable": round(answered, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["sec10q", "squad", "financebench"])
    parser.add_argument("docs", type=Path)
    parser.add_argument("qa", type=Path)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--reuse", action="store_true", help="keep stores already ingested in --work")
    parser.add_argument("--variants", nargs="+", choices=list(CHUNKING), default=list(CHUNKING))
    parser.add_argument("--skip-plain", action="store_true", help="leave the plain LlamaIndex pipeline out")
    args = parser.parse_args()
    work = (args.work or Path(f"/tmp/ragctl-bench-retrieval-{args.kind}")).resolve()
    work.mkdir(parents=True, exist_ok=True)

    from ragctl.components import create
    from ragctl.config.model import EmbeddingConfig
    from ragctl.env import apply_offline_defaults
    from ragctl.evaluation.datasets import item_from

    apply_offline_defaults()
    raw = [json.loads(line) for line in args.qa.read_text().splitlines() if line.strip()]
    converted = {"sec10q": qa_convert.sec10q, "squad": qa_convert.squad}.get(args.kind, iter)(raw)
    items = [item_from(r, f"{args.qa}:{n}") for n, r in enumerate(converted, start=1)]
    subsets = {"all": items}
    if args.kind == "sec10q":
        subsets["single-doc"] = [i for i in items if i.tags.get("type") == "single-doc"]
    elif args.kind == "squad":
        subsets["answerable"] = [i for i in items if i.answerable]
    else:
        subsets["two pages"] = [i for i in items if len(i.sources) > 1]

    stores = {v: ingest(args.docs.resolve(), work, v, args.reuse) for v in args.variants}
    plain = None if args.skip_plain else plain_pipeline(args.docs.resolve(), work, args.reuse)
    embed = create("embedding", EmbeddingConfig())
    results: dict[str, Any] = {"questions": {k: len(v) for k, v in subsets.items()}, "ingest": {}, "configs": {}}
    results["ingest"] = ({"plain LlamaIndex": plain} if plain else {}) | {
        f"ragctl, {INGESTED[v]}": stores[v] for v in stores
    }
    runs = {}
    if plain:
        runs["plain LlamaIndex (SentenceSplitter, same MiniLM, top 5)"] = (
            *run_plain(plain["store"], items, embed),
            [],
        )
    for name, (variant, settings) in CONFIGS.items():
        if variant in stores:
            runs[name] = run_ragctl(stores[variant]["store"], settings, items, embed)
    for name, (rows, latencies, evidence) in runs.items():
        by_id = {r["id"]: r for r in rows}
        entry = {s: summarise([by_id[i.id] for i in subset], latencies) for s, subset in subsets.items()}
        if evidence and any(not ok for _, ok in evidence):
            entry["abstention"] = abstention(evidence)
        results["configs"][name] = entry
        print(name, json.dumps(entry), flush=True)
    out = ROOT / f"bench/results/retrieval-{args.kind}.json"
    out.parent.mkdir(exist_ok=True)
    if args.reuse and out.exists():  # the stores were not re-ingested: keep the ingest figures they were made with
        earlier = json.loads(out.read_text())["ingest"]
        results["ingest"] = {k: earlier.get(k, v) if v["seconds"] is None else v for k, v in results["ingest"].items()}
    out.write_text(json.dumps(results, indent=2))
    print(f"\n{json.dumps(results['ingest'])}\n-> {out}")


if __name__ == "__main__":
    main()
