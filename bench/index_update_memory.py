"""The search index's update after an ingest changed one file, at a million chunks, without a million-chunk
Chroma store: the update reads only the changed file's chunks from Chroma, and the rest from the earlier
index's folder. So the earlier index is made from a real store's index, its files repeated under invented
names (as bench/retrieval_latency.py repeats real chunks) until it has --chunks rows, and saved beside a
copy of that store; then, each in a fresh process, as an ingest does it, `find.save_for` updates it with
one real file's chunks read back from the store. Reports seconds, the peak RSS (VmHWM) and the peak
anonymous memory (RssAnon, sampled every 5 ms), for this checkout and, with --compare, for another one
(PYTHONPATH), in alternating rounds.

    python bench/index_update_memory.py STORE_DIR COLLECTION [--chunks 1000000] [--compare CHECKOUT]
        [--rounds 2] [--work DIR] [--json]"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BASE, UPDATED = "bench-base", "bench-updated"


def store_config(work: Path, collection: str) -> Any:
    from ragctl.config.model import VectorStoreConfig

    return VectorStoreConfig(path=str(work / "chroma"), collection=collection)


def prepare(store_dir: Path, collection: str, chunks: int, work: Path) -> dict[str, Any]:
    """A copy of the store, and beside it the earlier index of `chunks` rows; returns what was made."""
    import numpy as np

    from ragctl.components.vector_stores import open_collection
    from ragctl.env import apply_offline_defaults
    from ragctl.retrieval.index import find
    from ragctl.retrieval.index.build import build
    from ragctl.retrieval.index.model import SearchIndex
    from ragctl.retrieval.index.update import merge

    apply_offline_defaults()
    if not (work / "chroma").exists():
        shutil.copytree(store_dir, work / "chroma", ignore=shutil.ignore_patterns("ragctl-index"))
    store = store_config(work, collection)
    real = build(open_collection(store))
    copies = max(0, -(-chunks // len(real)) - 1)
    blocks: list[tuple[str, SearchIndex]] = [(f, real) for f in real.files]
    for copy in range(copies):  # the same rows under other names: ids and files renamed, titles dropped
        suffix = f"-copy{copy:04d}".encode()
        named = SearchIndex(
            ids=np.char.add(np.asarray(real.ids), suffix),
            files=[f"copy-{copy:04d}/{f}" for f in real.files],
            starts=real.starts, titles={}, pages=real.pages, vectors=real.vectors,
            keyword=real.keyword, parts=real.parts, texts=real.texts,
        )  # fmt: skip
        blocks += [(f, named) for f in named.files]
    started = time.perf_counter()
    merge(sorted(blocks, key=lambda block: block[0]), BASE, find.folder(store, BASE))
    changed = real.files[len(real.files) // 2]  # a real file in the middle: the rows after it move
    return {"chunks": len(real) * (copies + 1), "changed": changed, "base_s": round(time.perf_counter() - started, 1)}


def child(work: Path, collection: str, changed: str) -> None:
    """One update, as an ingest makes it; prints its figures as JSON."""
    from ragctl.components.vector_stores import open_collection
    from ragctl.env import apply_offline_defaults
    from ragctl.retrieval.index import find

    apply_offline_defaults()
    peak = {"anon": 0.0}
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.005):
            peak["anon"] = max(peak["anon"], _status()["RssAnon"])

    store = store_config(work, collection)
    opened = open_collection(store)
    opened.count()
    before = _status()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    found = find.save_for(opened, store, UPDATED, base=BASE, changed={changed})
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    place = found[-2]  # (index, folder, read) before the update wrote its folder itself, (folder, read) after
    status = _status()
    print(json.dumps({
        "update_s": round(seconds, 1),
        "peak_rss_mb": round(status["VmHWM"]),
        "peak_anon_mb": round(max(peak["anon"], status["RssAnon"])),
        "anon_before_mb": round(before["RssAnon"]),
        "chunks": json.loads((Path(place) / "index.json").read_text())["chunks"],
    }))  # fmt: skip
    shutil.rmtree(place)


def _status() -> dict[str, float]:
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmHWM", "RssAnon", "RssFile"):
            found[name] = int(value.split()[0]) / 1024
    return found


def run_child(work: Path, collection: str, changed: str, checkout: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    command = [sys.executable, __file__, "--child", str(work), collection, changed]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"update under {checkout} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        child(Path(sys.argv[2]), sys.argv[3], sys.argv[4])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store", type=Path)
    parser.add_argument("collection")
    parser.add_argument("--chunks", type=int, default=1_000_000)
    parser.add_argument("--compare", type=Path, help="another checkout, run the same way (e.g. a git worktree)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--work", type=Path, help="keep the copy and the earlier index here")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="ragctl-bench-update-"))
    work.mkdir(parents=True, exist_ok=True)
    made = prepare(args.store, args.collection, args.chunks, work)
    print(f"earlier index: {made['chunks']:,} chunks, written in {made['base_s']} s", file=sys.stderr)
    checkouts = {"this checkout": ROOT, **({"compared": args.compare.resolve()} if args.compare else {})}
    rows = []
    for round_ in range(args.rounds):
        for name, checkout in list(checkouts.items())[::-1] if round_ % 2 else checkouts.items():
            row = {"round": round_ + 1, "code": name, **run_child(work, args.collection, made["changed"], checkout)}
            print(row, file=sys.stderr, flush=True)
            rows.append(row)
    if args.json:
        print(json.dumps({**made, "rows": rows}, indent=2))
        return
    print("| code | round | update (s) | peak RSS (MB) | peak anonymous (MB) |\n|---|---:|---:|---:|---:|")
    for row in rows:
        figures = f"{row['update_s']} | {row['peak_rss_mb']:,} | {row['peak_anon_mb']:,}"
        print(f"| {row['code']} | {row['round']} | {figures} |")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
