"""Retrieval at scale, side by side in one run: the chain that builds its search structures when it loads
(what every chain did before the saved search index, and what one still does when the index is stale)
against the chain that memory-maps the index ingest saved, at 50,000 and 1,000,000 chunks.

    python bench/retrieval_latency.py SOURCE_CHROMA_DIR COLLECTION QA.jsonl [--chunks 50000 1000000]
        [--saved-only 1000000]   (from that size on, the saved index alone: building at load takes minutes there)

Per size and path, in a fresh process each: time from process start to the first retrieval (imports, the
embedding model, Chroma's own index, the search index; the first two and Chroma's part also apart), the
anonymous memory the retriever adds beyond
what Chroma already holds after a first query (RssAnon; the mapped files' pages are reported apart, as
RssFile: the kernel can drop them), and per query (embed + search, no rerank, no LLM) p50/p95 for dense,
hybrid, and hybrid with the title filter (the default). Every question's top 5 ids are compared between
the paths. The saved index is also loaded through a Chroma server, with Chroma's load beside the rest (the
chain's order), and as the chain itself (rag.RagEngine, the LLM included).

The chunks are the source collection's real chunks (e.g. bench/retrieval.py's sec10q store, 4,400 chunks)
repeated until the count is reached, each copy's vectors moved by a little noise (then re-normalised) so
the HNSW graph holds distinct points. Copies get invented file names and no title, so a question that
names a document names the original (as in a real collection of many companies' filings); embedding a
million chunks would take days here and measure the embedding, not the search. The questions are the QA
set's (file names only).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import numpy as np

MODES = {
    "dense": {"mode": "dense", "title_filter": "off"},
    "hybrid": {"mode": "hybrid", "title_filter": "off"},
    "hybrid, title restrict (the default)": {},
}
PATHS = (
    "built at load",
    "saved index",
    "saved index, Chroma server",
    "saved index, Chroma's load beside the rest",
    "the chain itself (RagEngine, the LLM too)",
)
SERVER = PATHS[2]
# The chain's order (rag.py): Chroma's load of its vectors begun on a thread, the embedding model and the
# search index loaded meanwhile. The other paths load in sequence, so that each part's time shows apart.
BESIDE = PATHS[3]
# What `ragctl query`, evaluate and `mlflow models serve` load: rag.RagEngine with the default chain, its
# imports and the packaged LLM included; its parts are not timed apart.
CHAIN = PATHS[4]


def _name(n: int) -> str:
    """An invented word for copy n (letters only, so the title matcher sees it as a name)."""
    letters = ""
    while True:
        n, r = divmod(n, 26)
        letters = chr(ord("a") + r) + letters
        if n == 0:
            return "zq" + letters


def build(source: Any, target_dir: Path, chunks: int) -> Any:
    from ragctl.components.vector_stores import open_collection
    from ragctl.config.model import VectorStoreConfig

    config = VectorStoreConfig(path=str(target_dir), collection="latency")
    target = open_collection(config, create=True)
    if target.count() >= chunks:
        return target
    got: dict[str, list[Any]] = {"ids": [], "documents": [], "metadatas": [], "embeddings": []}
    for offset in range(0, source.count(), 5000):
        part = source.get(include=["documents", "metadatas", "embeddings"], limit=5000, offset=offset)
        for key in got:
            got[key] += list(part[key])
    vectors = np.asarray(got["embeddings"], dtype=np.float32)
    files = sorted({m["file"] for m in got["metadatas"]})
    rng = np.random.default_rng(0)
    copy = target.count() // len(got["ids"])
    started = time.perf_counter()
    while target.count() < chunks:
        take = min(len(got["ids"]), chunks - target.count())
        moved = vectors[:take] + rng.normal(0, 0.02, size=vectors[:take].shape).astype(np.float32) * (copy > 0)
        moved /= np.linalg.norm(moved, axis=1, keepdims=True)
        if copy:
            renamed = {f: f"{_name(copy)}_{_name(i)}.pdf" for i, f in enumerate(files)}
            metadatas = [dict(m, file=renamed[m["file"]], title="") for m in got["metadatas"][:take]]
        else:
            metadatas = got["metadatas"][:take]
        for start in range(0, take, 5000):
            end = min(take, start + 5000)
            target.add(
                ids=[f"{i}-{copy}" for i in got["ids"][start:end]],
                embeddings=moved[start:end],
                documents=got["documents"][start:end],
                metadatas=metadatas[start:end],
            )
        copy += 1
        print(f"  {target.count():,} chunks ({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
    return target


def index(store_dir: str) -> dict[str, Any]:
    """In a fresh process, as ingest does it: the store's search index built from every chunk (unless one
    is saved already), then updated after one file changed; the seconds each took and the peak RSS."""
    import resource

    from ragctl.components.vector_stores import open_collection
    from ragctl.config.model import VectorStoreConfig
    from ragctl.env import apply_offline_defaults
    from ragctl.retrieval.index import find, marker

    apply_offline_defaults()
    store = VectorStoreConfig(path=store_dir, collection="latency")
    collection = open_collection(store)
    digest = f"bench-{collection.count()}"
    started = time.perf_counter()
    built = None
    if not find.usable(find.folder(store, digest), digest, collection.count()):
        find.save_for(collection, store, digest)
        marker.mark(collection, digest)
        built = round(time.perf_counter() - started, 1)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "index_build_s": built,
        "index_build_peak_mb": round(peak) if built else None,
        "index_update_s": one_file_changed(collection, store, digest),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def one_file_changed(collection: Any, store: Any, digest: str) -> float:
    """Seconds to update the saved index after an ingest rewrote one file: the earlier index plus that
    file's chunks read back (retrieval/index/update.py). The file's chunks are left as they are (an ingest
    would have rewritten them the same): deleting and adding them again changes Chroma's HNSW graph, which
    hnswlib builds on several threads, so later probes' approximate top 5 would differ by that alone."""
    import shutil

    from ragctl.retrieval.index import find

    first = str(collection.get(limit=1, include=["metadatas"])["metadatas"][0]["file"])
    started = time.perf_counter()
    place, read = find.save_for(collection, store, f"{digest}-updated", base=digest, changed={first})
    seconds = time.perf_counter() - started
    assert read == 1
    shutil.rmtree(place)  # the content is as before: the index at `digest` stays the one the probes load
    return round(seconds, 1)


def _status() -> dict[str, float]:
    """RssAnon and RssFile of this process, MB."""
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("RssAnon", "RssFile")):
            name, value = line.split(":")
            found[name] = int(value.split()[0]) / 1024
    return found


def probe(store_dir: str, qa: Path, path: str, spawned: float) -> dict[str, Any]:
    """In a fresh process: load as a chain does, then measure every mode on every question."""
    from ragctl.components import create
    from ragctl.components.vector_stores import open_collection
    from ragctl.config.model import EmbeddingConfig, RetrievalConfig, VectorStoreConfig
    from ragctl.env import apply_offline_defaults
    from ragctl.retrieval import Retriever
    from ragctl.retrieval.index import find

    apply_offline_defaults()
    if path == SERVER:
        host, port = os.environ["RAGCTL_BENCH_CHROMA"].rsplit(":", 1)
        store = VectorStoreConfig(mode="http", host=host, port=int(port), collection="latency")
    else:
        store = VectorStoreConfig(path=store_dir, collection="latency")
    questions = [json.loads(line)["question"] for line in qa.read_text().splitlines() if line.strip()]
    if path == CHAIN:
        result = _load_chain(store, questions[0], spawned)
        embed, collection = result.pop("embed"), result.pop("collection")
        retriever = result.pop("retriever")
    elif path == BESIDE:
        result = _load_beside(store, questions[0], spawned)
        embed, collection = result.pop("embed"), result.pop("collection")
        retriever = result.pop("retriever")
    else:
        embed = create("embedding", EmbeddingConfig())
        started_s = time.time() - spawned
        opened = time.perf_counter()
        collection = open_collection(store)
        collection.query(query_embeddings=[embed.get_query_embedding("warm up")], n_results=5)  # Chroma's index
        chroma_s = time.perf_counter() - opened
        before = _status()
        started = time.perf_counter()
        retriever = Retriever(RetrievalConfig(top_k=5), embed, collection, store=None if path == PATHS[0] else store)
        retriever.search(questions[0])
        result = {
            "first_retrieval_s": round(time.time() - spawned, 2),
            "started_s": round(started_s, 2),  # imports and the embedding model
            "chroma_s": round(chroma_s, 2),  # opening the collection and Chroma's first query
            "index_load_s": round(time.perf_counter() - started, 2),
            "index_source": retriever.index_source,
        }
        after = _status()
        result["anon_mb"] = round(after["RssAnon"] - before["RssAnon"], 1)
        result["file_mb"] = round(after["RssFile"] - before["RssFile"], 1)
    loaded = find.Found(retriever._index, retriever.index_source)  # type: ignore[arg-type]
    find.for_collection = lambda collection, store: loaded  # type: ignore[assignment]  # one load for all modes
    find.on_disk = lambda collection, store: None if loaded.source == "built" else loaded  # type: ignore[assignment]
    alone = []
    for question in questions:  # the question's embedding alone: the floor under every mode
        began = time.perf_counter()
        embed.get_query_embedding(question)
        alone.append(time.perf_counter() - began)
    result["embedding"] = {
        "p50_ms": round(float(np.percentile(alone, 50)) * 1000, 1),
        "p95_ms": round(float(np.percentile(alone, 95)) * 1000, 1),
    }
    for mode, settings in MODES.items():
        retriever = Retriever(RetrievalConfig(top_k=5, **settings), embed, collection, store=store)
        for question in questions[:20]:  # warm up
            retriever.search(question)
        totals, top = [], []
        for question in questions:
            began = time.perf_counter()
            hits = retriever.search(question)
            totals.append(time.perf_counter() - began)
            top.append([n.node.id_ for n in hits.nodes])
        ms = np.array(totals) * 1000
        result[mode] = {
            "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p95_ms": round(float(np.percentile(ms, 95)), 1),
            "top5": top,
        }
    result["rss_peak_mb"] = round(max(_status().values()), 1)
    return result


def _load_chain(store: Any, question: str, spawned: float) -> dict[str, Any]:
    """Load as `ragctl query` does: the default chain's RagEngine (the embedding model, the LLM, Chroma and
    the search index, in rag.py's order), top 5 as the other paths."""
    from ragctl.config.model import RagctlConfig

    chain = RagctlConfig().chain_config()
    chain["vector_store"] = store.model_dump()
    chain["retrieval"]["top_k"] = 5
    started_s = time.time() - spawned
    began = time.perf_counter()
    from ragctl.rag import RagEngine

    engine = RagEngine(chain)
    loaded_s = time.perf_counter() - began
    engine.retriever.search(question)
    return {
        "first_retrieval_s": round(time.time() - spawned, 2),
        "started_s": round(started_s, 2),  # the interpreter and ragctl's config
        "chroma_s": None,  # inside the engine's load, on its thread
        "index_load_s": round(loaded_s, 2),  # the whole engine: llama-index, both models, Chroma, the index
        "index_source": engine.retriever.index_source,
        "anon_mb": None,  # the LLM's memory is in it: see the "saved index" path for the retriever's own
        "file_mb": None,
        "embed": engine.retriever._embed,
        "collection": engine.retriever._collection,
        "retriever": engine.retriever,
    }


def _load_beside(store: Any, question: str, spawned: float) -> dict[str, Any]:
    """Load as the chain does: Chroma's vectors on a thread while the embedding model and the index load.
    Chroma's part is the thread's own duration; what the chain waits for it, after the rest, is apart."""
    from ragctl.components import create, vector_stores
    from ragctl.config.model import EmbeddingConfig, RetrievalConfig
    from ragctl.retrieval import Retriever

    collection = vector_stores.open_collection(store)
    timed: dict[str, float] = {}

    def load(collection: Any) -> None:
        began = time.perf_counter()
        loader(collection)
        timed["chroma_s"] = time.perf_counter() - began

    loader, vector_stores._load_vectors = vector_stores._load_vectors, load  # type: ignore[assignment]
    try:
        loading = vector_stores.start_loading(collection)
    finally:
        vector_stores._load_vectors = loader  # type: ignore[assignment]
    embed = create("embedding", EmbeddingConfig())
    started_s = time.time() - spawned
    began = time.perf_counter()
    retriever = Retriever(RetrievalConfig(top_k=5), embed, collection, store=store)
    index_load_s = time.perf_counter() - began
    began = time.perf_counter()
    loading.result()
    waited_s = time.perf_counter() - began
    retriever.search(question)
    return {
        "first_retrieval_s": round(time.time() - spawned, 2),
        "started_s": round(started_s, 2),  # imports, opening the collection and the embedding model
        "chroma_s": round(timed["chroma_s"], 2),  # Chroma's load, on its thread
        "index_load_s": round(index_load_s, 2),
        "waited_s": round(waited_s, 2),  # for Chroma's load, after the rest had loaded
        "index_source": retriever.index_source,
        "anon_mb": None,  # Chroma's memory grows meanwhile: see the "saved index" path, loaded in sequence
        "file_mb": None,
        "embed": embed,
        "collection": collection,
        "retriever": retriever,
    }


@contextmanager
def served(store_dir: Path, chunks: int) -> Iterator[dict[str, Any]]:
    """`chroma run` on the store's folder, its collection loaded by one query, and the saved index where a
    chain of a server collection looks for it (the local cache, by digest: here a link to the folder beside
    the store). Yields the seconds the server took to start and to answer that first query."""
    import chromadb

    from ragctl.retrieval.index import find

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests import servers  # the servers the tests start, started the same way

    digest = f"bench-{chunks}"
    cached = find.cache_root() / digest
    cached.parent.mkdir(parents=True, exist_ok=True)
    if cached.is_symlink() or cached.exists():
        cached.unlink()
    cached.symlink_to(store_dir.resolve() / "ragctl-index" / "latency" / digest)
    began = time.perf_counter()
    chroma_run = [str(Path(sys.executable).parent / "chroma"), "run", "--path", str(store_dir)]
    chroma = servers.Server(chroma_run, "/api/v2/heartbeat")
    chroma.start()
    try:
        up = time.perf_counter() - began
        began = time.perf_counter()  # the first read loads the collection's segments, HNSW index included
        collection = chromadb.HttpClient(host="127.0.0.1", port=chroma.port).get_collection("latency")
        vector: Any = collection.get(limit=1, include=["embeddings"])["embeddings"][0]  # type: ignore[index]
        collection.query(query_embeddings=[vector], n_results=5)
        yield {
            "server_start_s": round(up, 1),
            "server_first_query_s": round(time.perf_counter() - began, 1),  # a read and a query
            "env": {"RAGCTL_BENCH_CHROMA": f"127.0.0.1:{chroma.port}"},
        }
    finally:
        chroma.stop()
        cached.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source_dir")
    parser.add_argument("collection")
    parser.add_argument("qa", type=Path)
    parser.add_argument("--chunks", type=int, nargs="+", default=[50_000, 1_000_000])
    parser.add_argument("--work", type=Path, default=Path("/tmp/ragctl-bench-latency"))
    parser.add_argument(
        "--saved-only", type=int, default=None, metavar="N", help="from N chunks on, probe the saved index alone"
    )
    parser.add_argument("--probe", nargs=3, metavar=("STORE", "PATH", "SPAWNED"), help=argparse.SUPPRESS)
    parser.add_argument("--index", metavar="STORE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.index:
        print(json.dumps(index(args.index)))
        return
    if args.probe:
        print(json.dumps(probe(args.probe[0], args.qa, args.probe[1], float(args.probe[2]))))
        return

    from ragctl.components.vector_stores import open_collection
    from ragctl.config.model import VectorStoreConfig
    from ragctl.env import apply_offline_defaults

    apply_offline_defaults()
    source = open_collection(VectorStoreConfig(path=args.source_dir, collection=args.collection))
    results: dict[str, Any] = {}
    for chunks in args.chunks:
        store_dir = args.work / f"chroma-{chunks}"
        collection = build(source, store_dir, chunks)
        row: dict[str, Any] = {"chunks": collection.count()}
        del collection
        command = [sys.executable, __file__, args.source_dir, args.collection, str(args.qa), "--index", str(store_dir)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(done.stderr[-3000:])
        row.update(json.loads(done.stdout.strip().splitlines()[-1]))
        print(chunks, "index", json.dumps(row), file=sys.stderr, flush=True)
        paths = PATHS[1:] if args.saved_only is not None and chunks >= args.saved_only else PATHS
        for path in paths:
            held: AbstractContextManager[dict[str, Any]] = (
                served(store_dir, row["chunks"]) if path == SERVER else nullcontext({})
            )
            with held as server:
                row.update({k: v for k, v in server.items() if k != "env"})
                spawned = time.time()
                command = [sys.executable, __file__, args.source_dir, args.collection, str(args.qa), "--probe"]
                done = subprocess.run(
                    [*command, str(store_dir), path, repr(spawned)],
                    capture_output=True,
                    text=True,
                    env={**os.environ, "TOKENIZERS_PARALLELISM": "false", **server.get("env", {})},
                )
            if done.returncode:
                raise SystemExit(done.stderr[-3000:])
            row[path] = json.loads(done.stdout.strip().splitlines()[-1])
            shown = {k: v for k, v in row[path].items() if not isinstance(v, dict)}
            print(chunks, path, json.dumps(shown), file=sys.stderr, flush=True)
        for mode in MODES:
            for name, (a, b) in {
                "same top 5": PATHS[:2],
                "same top 5 through the server": PATHS[1:3],
                "same top 5 loaded beside": (PATHS[1], BESIDE),
                "same top 5 through the chain": (PATHS[1], CHAIN),
            }.items():
                if a in row and b in row:
                    pairs = zip(row[a][mode]["top5"], row[b][mode]["top5"])
                    row[f"{name}, {mode}"] = statistics.fmean(x == y for x, y in pairs)
        results[str(chunks)] = row
    out = Path(__file__).parent / "results" / "retrieval-latency.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(table(results))


def table(results: dict[str, Any]) -> str:
    lines = [
        "| chunks | chain | first retrieval (s) | of which: start / Chroma / index load (s) | "
        "memory added, anon / mapped (MB) | "
        + " | ".join(f"{m} p50 / p95 (ms)" for m in MODES)
        + " | the question's embedding alone p50 / p95 (ms) |",
        "|" + "---|" * (6 + len(MODES)),
    ]
    for row in results.values():
        for path in (p for p in PATHS if p in row):
            got = row[path]
            lines.append(
                f"| {row['chunks']:,} | {path} | {got['first_retrieval_s']} | "
                f"{got['started_s']} / {got['chroma_s'] if got['chroma_s'] is not None else '-'} / "
                f"{got['index_load_s']}"
                + (f" (waited {got['waited_s']})" if "waited_s" in got else "")
                + " | "
                + (f"{got['anon_mb']:,.0f} / {got['file_mb']:,.0f} | " if got["anon_mb"] is not None else "- | ")
                + " | ".join(f"{got[m]['p50_ms']} / {got[m]['p95_ms']}" for m in (*MODES, "embedding"))
                + " |"
            )
    lines.append("")
    for row in results.values():
        same = ", ".join(f"{m} {row[f'same top 5, {m}']:.3f}" for m in MODES if f"same top 5, {m}" in row) or "-"
        served = (
            ", ".join(f"{m} {row[k]:.3f}" for m in MODES if (k := f"same top 5 through the server, {m}") in row) or "-"
        )
        built = (
            f"index built in {row['index_build_s']} s (peak RSS {row['index_build_peak_mb']} MB)"
            if row["index_build_s"] is not None
            else "index saved by an earlier run"
        )
        beside = ", ".join(f"{m} {row[k]:.3f}" for m in MODES if (k := f"same top 5 loaded beside, {m}") in row) or "-"
        chain = (
            ", ".join(f"{m} {row[k]:.3f}" for m in MODES if (k := f"same top 5 through the chain, {m}") in row) or "-"
        )
        lines.append(
            f"- {row['chunks']:,} chunks: {built}, updated after one file changed in "
            f"{row['index_update_s']} s (peak RSS of both {row['peak_mb']} MB); same top 5 built and saved: "
            f"{same}; saved and through the server: {served}; saved, loaded in sequence and beside: {beside}; "
            f"saved, loaded in sequence and through the chain: {chain}; "
            f"the server started in "
            f"{row.get('server_start_s', '-')} s and answered its first query in "
            f"{row.get('server_first_query_s', '-')} s"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
