"""Stock MLflow's floor under a bookkeeping command, for two or more MLflow installs side by side.

Each interpreter gets a fresh SQLite store (migrated once, untimed); then, alternating between them, the
whole-process wall time of `import mlflow` and of one registry query through `MlflowClient`.
Usage: python bench/mlflow_versions.py PYTHON [PYTHON ...] [--runs 7]
  e.g. python bench/mlflow_versions.py .venv/bin/python /tmp/v318/bin/python
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path


def version(python: str) -> str:
    code = "import importlib.metadata as m; print(m.version('mlflow'))"
    return subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("pythons", nargs="+")
    parser.add_argument("--runs", type=int, default=7)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        steps = {}
        for python in opts.pythons:
            store = f"sqlite:///{Path(tmp) / (version(python) + '.db')}"
            query = f"import mlflow; mlflow.MlflowClient('{store}').search_registered_models()"
            subprocess.run([python, "-c", query], check=True, capture_output=True)  # the schema, made once
            steps[python] = {"import mlflow": "import mlflow", "MlflowClient, one registry query": query}
        walls: dict[tuple[str, str], list[float]] = {}
        for _ in range(opts.runs):
            for python, named in steps.items():
                for name, code in named.items():
                    began = time.perf_counter()
                    subprocess.run([python, "-c", code], check=True, capture_output=True)
                    walls.setdefault((python, name), []).append(time.perf_counter() - began)
    print("| MLflow | step | median wall (s) | min (s) |\n|---|---|---:|---:|")
    for (python, name), values in walls.items():
        print(f"| {version(python)} | {name} | {statistics.median(values):.2f} | {min(values):.2f} |")


if __name__ == "__main__":
    main()
