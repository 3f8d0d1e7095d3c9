"""Load on `mlflow models serve` of the champion: CLIENTS concurrent clients, each asking QUESTIONS questions
of the sample QA set in turn, on loopback only, bounded in count and in time (every request times out, the
whole run has a deadline). The project is built first in a temporary folder: `ragctl run --promote
champion` on a copy of sample_docs/ with configs/default.yaml.

Reports errors, latency p50/p95/max and throughput; results go to bench/results/serve_load.json.
Usage: python bench/serve_load.py [--clients 8] [--questions 10] [--deadline 1800]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests import servers  # noqa: E402  (the servers the tests start, started the same way)

BIN = Path(sys.executable).parent
MODEL = "models:/ragctl-demo-chain@champion"


def build(project: Path) -> None:
    shutil.copytree(ROOT / "sample_docs", project / "sample_docs")
    shutil.copytree(ROOT / "configs", project / "configs")
    fast = ["--set", "evaluation.limit=4", "--set", "evaluation.thresholds={}"]
    subprocess.run([str(BIN / "ragctl"), "run", "--promote", "champion", *fast], cwd=project, check=True)


def ask(port: int, question: str) -> float:
    body = json.dumps({"dataframe_records": [{"question": question}]}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", body, {"Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
        (prediction,) = json.loads(response.read())["predictions"]
    if not isinstance(prediction.get("answer"), str):
        raise ValueError(f"no answer: {prediction}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--questions", type=int, default=10, help="per client")
    parser.add_argument("--deadline", type=float, default=1800.0, help="seconds for the whole load")
    opts = parser.parse_args()
    questions = [json.loads(line)["question"] for line in (ROOT / "sample_docs" / "qa.jsonl").read_text().splitlines()]
    with tempfile.TemporaryDirectory(prefix="ragctl-serve-load-") as folder:
        project = Path(folder)
        build(project)
        env = {
            "MLFLOW_TRACKING_URI": f"sqlite:///{project}/.ragctl/mlflow.db",
            "RAGCTL_CHROMA_PATH": str(project / ".ragctl" / "chroma"),
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        serve = [str(BIN / "mlflow"), "models", "serve", "-m", MODEL, "--env-manager", "local"]
        with servers.serve(serve, "/ping", env=env, cwd="/") as port:
            ask(port, questions[0])  # warm: the first answer pays for the caches
            deadline = time.monotonic() + opts.deadline
            latencies: list[float] = []
            errors: list[str] = []

            def client(index: int) -> None:
                for n in range(opts.questions):
                    if time.monotonic() > deadline:
                        errors.append("deadline")
                        return
                    try:
                        latencies.append(ask(port, questions[(index * opts.questions + n) % len(questions)]))
                    except Exception as exc:  # every failure counts; the load goes on
                        errors.append(f"{type(exc).__name__}: {exc}")

            started = time.perf_counter()
            with ThreadPoolExecutor(opts.clients) as pool:
                list(pool.map(client, range(opts.clients)))
            wall = time.perf_counter() - started
    ordered = sorted(latencies)
    result = {
        "clients": opts.clients,
        "questions_per_client": opts.questions,
        "requests": len(latencies) + len(errors),
        "errors": len(errors),
        "first_errors": errors[:5],
        "latency_p50": statistics.median(ordered) if ordered else None,
        "latency_p95": ordered[int(0.95 * (len(ordered) - 1))] if ordered else None,
        "latency_max": ordered[-1] if ordered else None,
        "throughput_per_s": len(latencies) / wall if wall else None,
        "wall_s": wall,
        "when": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "machine": f"{os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.machine()}",
    }
    out = ROOT / "bench" / "results" / "serve_load.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
