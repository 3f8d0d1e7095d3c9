"""Ingest on Ray against the local executor, side by side in one run, on a real corpus (default:
../shared/corpora/sec10q/docs), and where the time goes, for a projection to bigger clusters.

    python bench/ingest_ray.py [--corpus DIR] [--workers 1 2]

Rows: `ragctl ingest` cold with ingestion.executor local; then on a Ray cluster started here on loopback
(`ray start --head` holding the embedding actor's CPU, plus N worker nodes of one CPU each that read and
chunk), for each N. Whole-process wall time (cluster start excluded) and the peak RSS of the command's
process tree (for local, its worker processes included; Ray's workers belong to the cluster). Then the
per-file costs measured in this process, one at a time: reading and chunking (`prepare`), embedding with
the packaged model, and writing the vectors to Chroma (what the driver does), from which bench/README.md
projects throughput at 10 and 100 nodes.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import run

BIN = Path(sys.executable).parent
CONFIG = (
    "ingestion: {{paths: [docs], executor: {executor}, ray: {{address: '{address}'}}}}\n"
    "vector_store: {{path: state/chroma, collection: bench}}\n"
    'tracking: {{uri: "sqlite:///state/mlflow.db", artifact_location: state/artifacts}}\n'
)


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ingest(corpus: Path, executor: str, address: str = "auto") -> dict:
    with tempfile.TemporaryDirectory(prefix="ragctl-bench-ray-") as folder:
        work = Path(folder)
        shutil.copytree(corpus, work / "docs")
        (work / "ragctl.yaml").write_text(CONFIG.format(executor=executor, address=address))
        wall, rss, out = run([str(BIN / "ragctl"), "ingest", "-c", "ragctl.yaml", "--json"], work)
        summary = json.loads(out)["summary"]
        return {"wall_s": round(wall, 1), "rss_mb": round(rss), "chunks": summary["chunks"]["added"]}


def on_cluster(corpus: Path, workers: int) -> dict:
    address = f"127.0.0.1:{_port()}"
    ray = str(BIN / "ray")
    common = ["--num-cpus=1", "--disable-usage-stats"]
    try:
        head = [ray, "start", "--head", f"--port={address.split(':')[1]}", "--include-dashboard=false"]
        subprocess.run([*head, *common], check=True, capture_output=True)
        for _ in range(workers):
            subprocess.run([ray, "start", f"--address={address}", *common], check=True, capture_output=True)
        return ingest(corpus, "ray", address)
    finally:
        subprocess.run([ray, "stop", "--force"], capture_output=True)


def costs(corpus: Path) -> dict:
    """Per-file and per-chunk costs, one at a time in this process."""
    from ragctl.components import create
    from ragctl.components.vector_stores import open_collection
    from ragctl.config.model import RagctlConfig, VectorStoreConfig
    from ragctl.env import apply_offline_defaults
    from ragctl.stages.ingest.work import embed, job, prepare

    apply_offline_defaults()
    config = RagctlConfig()
    files = sorted(p for p in corpus.iterdir() if p.suffix == ".pdf")
    parse = embedding = writing = 0.0
    chunks = 0
    model = create("embedding", config.embedding)
    with tempfile.TemporaryDirectory() as folder:
        collection = open_collection(VectorStoreConfig(path=folder, collection="costs"), create=True)
        for path in files:
            started = time.perf_counter()
            prepared = prepare(job(path, path.name, "x", "k", config))
            parse += time.perf_counter() - started
            started = time.perf_counter()
            embed(prepared, model)
            embedding += time.perf_counter() - started
            started = time.perf_counter()
            for start in range(0, len(prepared.chunks), 5000):
                part = prepared.chunks[start : start + 5000]
                collection.upsert(
                    ids=[c.id for c in part],
                    embeddings=prepared.embeddings[start : start + 5000],
                    documents=[c.text for c in part],
                    metadatas=[c.metadata for c in part],
                )
            writing += time.perf_counter() - started
            chunks += len(prepared.chunks)
    return {
        "files": len(files),
        "chunks": chunks,
        "parse_s_per_file": round(parse / len(files), 2),
        "embed_ms_per_chunk": round(1000 * embedding / chunks, 2),
        "write_ms_per_chunk": round(1000 * writing / chunks, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("../shared/corpora/sec10q/docs"))
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    corpus = args.corpus.resolve()
    results = {"local": ingest(corpus, "local")}
    print("local", results["local"], file=sys.stderr, flush=True)
    for workers in args.workers:
        results[f"ray, {workers} worker node(s)"] = on_cluster(corpus, workers)
        print(workers, results[f"ray, {workers} worker node(s)"], file=sys.stderr, flush=True)
    results["costs"] = costs(corpus)
    out = Path(__file__).parent / "results" / "ingest-ray.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print("| executor | wall (s) | command's peak RSS (MB) | chunks | vs local |\n|---|---:|---:|---:|---:|")
    base = results["local"]["wall_s"]
    for name, row in results.items():
        if name != "costs":
            print(f"| {name} | {row['wall_s']} | {row['rss_mb']} | {row['chunks']} | {row['wall_s'] / base:.2f} |")
    print(json.dumps(results["costs"]))


if __name__ == "__main__":
    main()
