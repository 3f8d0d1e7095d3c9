"""Time each stage of the demo and `ragctl --help`: whole-process wall time and peak RSS, median of N runs.

Each run starts from an empty state folder, so ingest and the first model load pay their full cost.
Results go to bench/results/latest.json and into the table in bench/README.md (between the markers).
Usage: python bench/run.py [--runs 3] [--help-runs 10] [--llm]
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
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RAGCTL = str(Path(sys.executable).parent / "ragctl")
MEASURE = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter(); code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
    "wall = time.perf_counter() - t\n"
    "print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, code)\n"
)
STEPS = [
    ("ingest", ["ingest"]),
    ("ingest (re-run, unchanged)", ["ingest"]),
    ("assemble", ["assemble"]),
    ("evaluate (29 questions)", ["evaluate"]),
    ("register", ["register"]),
    ("promote", ["promote", "--version", "latest"]),
    ("query (loads the chain)", ["query", "Who was Guy's rival?"]),
    ("history", ["history"]),
    ("models", ["models"]),
    ("status", ["status"]),
]
# What a bookkeeping command cannot go below with stock MLflow on the SQLite store, measured in the same run.
STORE = "sqlite:///.ragctl/mlflow.db"
FLOORS = [
    ("floor: python -c 'import mlflow'", [sys.executable, "-c", "import mlflow"]),
    (
        "floor: stock MlflowClient, one registry query",
        [sys.executable, "-c", f"import mlflow; mlflow.MlflowClient('{STORE}').search_registered_models()"],
    ),
]
COMPLETION = ["env", "_RAGCTL_COMPLETE=complete_bash", "COMP_WORDS=ragctl pro", "COMP_CWORD=1", RAGCTL]


def measure(args: list[str], cwd: Path) -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", MEASURE, *args], cwd=cwd, capture_output=True, text=True, check=True)
    wall, rss, code = out.stdout.split()
    if code != "0":
        raise SystemExit(f"{' '.join(args)} exited {code}")
    return float(wall), float(rss)


def lifecycle_run(workdir: Path) -> dict[str, tuple[float, float]]:
    state = workdir / ".ragctl"
    shutil.rmtree(state, ignore_errors=True)
    found = {name: measure([RAGCTL, *args], workdir) for name, args in STEPS}
    found.update({name: measure(command, workdir) for name, command in FLOORS})
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--help-runs", type=int, default=10)
    parser.add_argument("--llm", action="store_true", help="then bench/llm_settings.py on the last run's prompts")
    opts = parser.parse_args()
    samples: dict[str, list[tuple[float, float]]] = {"ragctl --help": []}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        shutil.copytree(ROOT / "sample_docs", workdir / "sample_docs")
        shutil.copytree(ROOT / "configs", workdir / "configs")
        for _ in range(opts.help_runs):
            samples["ragctl --help"].append(measure([RAGCTL, "--help"], workdir))
            samples.setdefault("shell completion (<TAB> after 'ragctl pro')", []).append(measure(COMPLETION, workdir))
        for i in range(opts.runs):
            print(f"lifecycle run {i + 1}/{opts.runs}", file=sys.stderr)
            for name, value in lifecycle_run(workdir).items():
                samples.setdefault(name, []).append(value)
        if opts.llm:  # the local LLM's settings, on the prompts the last run's evaluation sent
            store = f"sqlite:///{workdir}/.ragctl/mlflow.db"
            subprocess.run([sys.executable, str(ROOT / "bench" / "llm_settings.py"), "--store", store], check=True)
    rows = [
        {
            "step": name,
            "runs": len(vals),
            "wall_s": statistics.median(v[0] for v in vals),
            "peak_rss_mb": statistics.median(v[1] for v in vals),
        }
        for name, vals in samples.items()
    ]
    meta = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "latest.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    table = "| step | median wall (s) | median peak RSS (MB) | runs |\n|---|---:|---:|---:|\n" + "".join(
        f"| {r['step']} | {r['wall_s']:.2f} | {r['peak_rss_mb']:.0f} | {r['runs']} |\n" for r in rows
    )
    table += f"\n{meta['date']}, {meta['cpus']} CPUs, Python {meta['python']}, {meta['machine']}, idle machine.\n"
    readme = ROOT / "bench" / "README.md"
    text = readme.read_text()
    start, end = "<!-- results:start -->\n", "<!-- results:end -->"
    head, _, rest = text.partition(start)
    _, _, tail = rest.partition(end)
    readme.write_text(head + start + table + end + tail)
    print(table)


if __name__ == "__main__":
    main()
