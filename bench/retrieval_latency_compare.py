"""Query latency of two checkouts on the same saved index, alternating: a change's effect at 1,000,000
chunks is a few milliseconds, within the spread between runs on a shared 2-core machine, so each round
probes this checkout and the other one (PYTHONPATH, e.g. a git worktree of the commit before) back to
back, in the order ABBA..., the embedded store and then through `chroma run`, each probe in a fresh process
as bench/retrieval_latency.py makes it.

    python bench/retrieval_latency_compare.py STORE_DIR SOURCE_CHROMA_DIR COLLECTION QA.jsonl --compare CHECKOUT
        [--rounds 2] [--json]

STORE_DIR is a store bench/retrieval_latency.py built (e.g. /tmp/ragctl-bench-latency/chroma-1000000),
its index saved by that script's run."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import retrieval_latency as latency  # beside this script, on sys.path when it runs

ROOT = Path(__file__).resolve().parent.parent


def probe(store: Path, source: list[str], path: str, code: Path) -> dict[str, Any]:
    with latency.served(store, _chunks(store)) if path == latency.SERVER else nullcontext({}) as server:
        env = {**os.environ, "TOKENIZERS_PARALLELISM": "false", "PYTHONPATH": str(code), **server.get("env", {})}
        command = [sys.executable, latency.__file__, *source, "--probe", str(store), path, repr(time.time())]
        done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def _chunks(store: Path) -> int:
    (folder,) = (store / "ragctl-index" / "latency").glob("bench-*")
    return int(folder.name.removeprefix("bench-"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("source_dir")
    parser.add_argument("collection")
    parser.add_argument("qa")
    parser.add_argument("--compare", type=Path, required=True, help="another checkout (e.g. a git worktree)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    codes = {"this checkout": ROOT, "compared": args.compare.resolve()}
    rows = []
    for round_ in range(1, args.rounds + 1):
        order = list(codes) if round_ % 2 else list(reversed(codes))
        for name in order:
            for path in latency.PATHS[1:]:
                source = [args.source_dir, args.collection, args.qa]
                got = probe(args.store, source, path, codes[name])
                row = {"round": round_, "code": name, "path": path, "first_retrieval_s": got["first_retrieval_s"]}
                row |= {m: [got[m]["p50_ms"], got[m]["p95_ms"]] for m in (*latency.MODES, "embedding")}
                rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"| chain | code | round | first retrieval (s) | {' | '.join(latency.MODES)} | embedding alone |")
    print("|---|---|---:|---:|" + "---:|" * (len(latency.MODES) + 1))
    for path in latency.PATHS[1:]:
        for row in sorted((r for r in rows if r["path"] == path), key=lambda r: (r["code"], r["round"])):
            cells = " | ".join(f"{p50} / {p95}" for p50, p95 in (row[m] for m in (*latency.MODES, "embedding")))
            print(f"| {path} | {row['code']} | {row['round']} | {row['first_retrieval_s']} | {cells} |")


if __name__ == "__main__":
    main()
