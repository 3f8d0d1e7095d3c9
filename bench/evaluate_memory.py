"""Peak RSS of `ragctl evaluate` on the same chain with N and 10*N questions (default 30 and 300), side by
side in one run: memory must not grow with the number of questions.

Builds a throwaway project from sample_docs/ (or --corpus DIR with --qa FILE), ingests and assembles once,
makes the QA sets by cycling through the QA file with distinct ids, and measures the peak RSS of the evaluate
process tree (bench/measure.py). A QA file in the Docugami format (`source_docs`: file names) is converted.

    .venv/bin/python bench/evaluate_memory.py [--small 30] [--large 300]
    .venv/bin/python bench/evaluate_memory.py --corpus ../shared/corpora/sec10q/docs \
        --qa ../shared/corpora/sec10q/qa_flat.jsonl --small 30 --large 130 --set retrieval.top_k=5
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


def _item(record: dict) -> dict:
    """A QA record as ragctl reads it; Docugami's `source_docs` (file names) become `sources`."""
    if "sources" not in record and "source_docs" in record:
        sources = [{"file": f} for f in record["source_docs"]]
        record = {"question": record["question"], "answer": record["answer"], "sources": sources}
    return record


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=30)
    parser.add_argument("--large", type=int, default=300)
    parser.add_argument("--corpus", type=Path, default=ROOT / "sample_docs")
    parser.add_argument("--qa", type=Path, default=ROOT / "sample_docs" / "qa.jsonl")
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="config override, repeatable")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ragctl-bench-eval-"))
    shutil.copytree(args.corpus, work / "sample_docs")
    base = [_item(json.loads(line)) for line in args.qa.read_text().splitlines() if line.strip()]
    for n in (args.small, args.large):
        items = [{**base[i % len(base)], "id": f"q{i}"} for i in range(n)]
        (work / f"qa{n}.jsonl").write_text("\n".join(json.dumps(i) for i in items) + "\n")
    ragctl = str(BIN / "ragctl")
    sets = [arg for o in args.overrides for arg in ("--set", o)]
    subprocess.run([ragctl, "ingest", *sets], cwd=work, check=True, capture_output=True)
    subprocess.run([ragctl, "assemble", *sets], cwd=work, check=True, capture_output=True)
    rows = []
    for n in (args.small, args.large):
        dataset = f"evaluation.dataset=qa{n}.jsonl"
        no_gates = "evaluation.thresholds={}"
        wall, rss, _out = run([ragctl, "evaluate", "--json", "--set", dataset, "--set", no_gates, *sets], work)
        rows.append((n, wall, rss))
    (n1, _, r1), (n2, _, r2) = rows
    print("| questions | wall s | peak RSS MB |\n|---|---|---|")
    for n, wall, rss in rows:
        print(f"| {n} | {wall:.0f} | {rss:.0f} |")
    print(f"\nRSS growth: {(r2 - r1) / (n2 - n1):+.2f} MB per question ({r2 / r1:.2f}x for {n2 / n1:.0f}x questions)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
