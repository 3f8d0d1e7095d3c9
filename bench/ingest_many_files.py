"""Ingest of many small files, side by side in one run: a corpus of N one-page files cut from a real corpus
(default ../shared/corpora/sec10q/docs), as PDFs and as the pages' text, ingested cold by this checkout and
by another one (--compare DIR: a checkout of an earlier commit, run with PYTHONPATH on it), against the raw
embedding of the same chunks. Whole-process wall time and peak RSS of the process tree.
Usage: python bench/ingest_many_files.py [--corpus DIR] [--files 1000] [--compare CHECKOUT] [--kinds txt,pdf]"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import CONFIG, one_page_pdfs
from measure import run

ROOT = Path(__file__).resolve().parent.parent


def one_page_texts(corpus: Path, target: Path, count: int) -> None:
    """`count` text files, each one real page's text (pypdf), round robin over the corpus's pages."""
    from pypdf import PdfReader, overwrite_configuration

    overwrite_configuration(array_maximum_element_count=2_000_000)
    texts = [
        text
        for pdf in sorted(corpus.glob("*.pdf"))
        for page in PdfReader(pdf).pages
        if len(text := page.extract_text() or "") >= 200
    ]
    target.mkdir(parents=True)
    for n in range(count):
        (target / f"page-{n:05d}.txt").write_text(texts[n % len(texts)])


def ingest(folder: Path, checkout: Path) -> tuple[float, float, dict]:
    env = {"PYTHONPATH": str(checkout)}
    wall, rss, out = run([sys.executable, "-m", "ragctl", "ingest", "-c", "ragctl.yaml", "--json"], folder, env)
    return wall, rss, json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpora" / "sec10q" / "docs")
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--compare", type=Path, help="a checkout of another commit, ingested the same way first")
    parser.add_argument("--kinds", default="txt,pdf")
    opts = parser.parse_args()
    checkouts = ([("compared", opts.compare.resolve())] if opts.compare else []) + [("this checkout", ROOT)]
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for kind in opts.kinds.split(","):
            source = Path(scratch) / f"docs-{kind}"
            make = one_page_texts if kind == "txt" else one_page_pdfs
            make(opts.corpus, source, opts.files)
            for label, checkout in checkouts:
                folder = Path(scratch) / f"{kind}-{label.replace(' ', '-')}"
                shutil.copytree(source, folder / "docs")
                (folder / "ragctl.yaml").write_text(CONFIG)
                wall, rss, report = ingest(folder, checkout)
                rows.append(
                    {
                        "files": f"{opts.files} one-page {kind}",
                        "code": f"{label} ({checkout.name})",
                        "wall_s": round(wall, 1),
                        "rss_mb": round(rss),
                        "chunks": report["summary"]["chunks"]["added"],
                        "failed": report["summary"]["files"]["failed"],
                    }
                )
            _wall, _rss, out = run(
                [sys.executable, str(ROOT / "bench" / "raw_embedding.py"), "state/chroma", "bench"], folder
            )
            _chunks, _load, embed_s = out.split()
            for row in rows[-len(checkouts) :]:
                row["raw_embedding_s"] = float(embed_s)
                row["ingest_over_raw"] = round(row["wall_s"] / float(embed_s), 2)
            print(json.dumps(rows[-len(checkouts) :], indent=2), flush=True)
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "ingest_many_files.json").write_text(json.dumps(rows, indent=2))
    print("| files | code | wall (s) | peak RSS (MB) | chunks | raw embedding (s) | ingest / raw |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['files']} | {r['code']} | {r['wall_s']} | {r['rss_mb']} | {r['chunks']} | "
            f"{r['raw_embedding_s']} | {r['ingest_over_raw']} |"
        )


if __name__ == "__main__":
    main()
