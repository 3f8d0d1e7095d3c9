"""Peak RSS of `ragctl evaluate` on the same chain with N and 10*N questions (default 30 and 300), side by
side in one run: memory must not grow with the number of questions.

Builds a throwaway project from sample_docs/ (ingest + assemble once), makes the QA sets by cycling through
sample_docs/qa.jsonl with distinct ids, and measures the peak RSS of the evaluate process tree (bench/measure.py).

    .venv/bin/python bench/evaluate_memory.py [--small 30] [--large 300]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import run

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=30)
    parser.add_argument("--large", type=int, default=300)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ragctl-bench-eval-"))
    shutil.copytree(ROOT / "sample_docs", work / "sample_docs")
    base = [json.loads(line) for line in (ROOT / "sample_docs" / "qa.jsonl").read_text().splitlines() if line]
    for n in (args.small, args.large):
        items = [{**base[i % len(base)], "id": f"q{i}"} for i in range(n)]
        (work / f"qa{n}.jsonl").write_text("\n".join(json.dumps(i) for i in items) + "\n")
    ragctl = str(BIN / "ragctl")
    subprocess.run([ragctl, "ingest"], cwd=work, check=True, capture_output=True)
    subprocess.run([ragctl, "assemble"], cwd=work, check=True, capture_output=True)
    rows = []
    for n in (args.small, args.large):
        dataset = f"evaluation.dataset=qa{n}.jsonl"
        no_gates = "evaluation.thresholds={}"
        wall, rss, _out = run([ragctl, "evaluate", "--json", "--set", dataset, "--set", no_gates], work)
        rows.append((n, wall, rss))
    (n1, _, r1), (n2, _, r2) = rows
    print("| questions | wall s | peak RSS MB |\n|---|---|---|")
    for n, wall, rss in rows:
        print(f"| {n} | {wall:.0f} | {rss:.0f} |")
    print(f"\nRSS growth: {(r2 - r1) / (n2 - n1):+.2f} MB per question ({r2 / r1:.2f}x for {n2 / n1:.0f}x questions)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
