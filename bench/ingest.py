"""Ingest side by side, in one run, on a real corpus (default: ../shared/corpora/sec10q/docs):
(a) raw embedding of exactly ragctl's chunks, (b) a plain LlamaIndex IngestionPipeline + ChromaVectorStore
with the same splitter and model, (c) `ragctl ingest` cold, (d) again with nothing changed, (e) after one
file changed. Then, with --scale, a corpus of N one-page PDFs cut from the real filings, for memory and
linearity. Whole-process wall time and peak RSS of the process tree (workers included).
With --small N, the first N files alone with each PDF engine (the small-corpus goal).
Usage: python bench/ingest.py [--corpus DIR] [--scale 250,1000] [--pdfium] [--small 5 [--only-small]]
       [--only-pdfium] [--work DIR]"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import run

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CONFIG = (
    "ingestion: {paths: [docs]}\nvector_store: {path: state/chroma, collection: bench}\n"
    'tracking: {uri: "sqlite:///state/mlflow.db", artifact_location: state/artifacts}\n'
)


def ragctl(work: Path) -> tuple[float, float, dict]:
    wall, rss, out = run([str(BIN / "ragctl"), "ingest", "-c", "ragctl.yaml", "--json"], work)
    return wall, rss, json.loads(out)


def side_by_side(corpus: Path, work: Path) -> list[dict]:
    shutil.copytree(corpus, work / "docs")
    (work / "ragctl.yaml").write_text(CONFIG)
    rows = []
    wall, rss, cold = ragctl(work)
    chunks = cold["summary"]["chunks"]["added"]
    rows.append({"step": "(c) ragctl ingest, cold", "wall_s": wall, "rss_mb": rss, "chunks": chunks})
    _wall_a, rss_a, out = run([sys.executable, str(ROOT / "bench" / "raw_embedding.py"), "state/chroma", "bench"], work)
    n, _load_s, embed_s = out.split()
    rows.append(
        {"step": "(a) raw embedding of those chunks", "wall_s": float(embed_s), "rss_mb": rss_a, "chunks": int(n)}
    )
    wall_b, rss_b, out = run([sys.executable, str(ROOT / "bench" / "plain_llamaindex.py"), "docs", "plain"], work)
    rows.append(
        {"step": "(b) plain LlamaIndex pipeline", "wall_s": wall_b, "rss_mb": rss_b, "chunks": int(out.split()[0])}
    )
    wall, rss, _again = ragctl(work)
    rows.append({"step": "(d) ragctl ingest, nothing changed", "wall_s": wall, "rss_mb": rss, "chunks": 0})
    first = sorted((work / "docs").iterdir())[0]
    with first.open("ab") as fh:
        fh.write(b"\n% touched by bench\n")  # a new sha256, the same text
    wall, rss, changed = ragctl(work)
    files = changed["summary"]["files"]
    rows.append(
        {
            "step": f"(e) ragctl ingest, one file changed ({files['changed']} changed, {files['unchanged']} unchanged)",
            "wall_s": wall,
            "rss_mb": rss,
            "chunks": changed["summary"]["chunks"]["added"],
        }
    )
    rows[0]["failed"] = cold["summary"]["files"]["failed"]
    return rows


def with_pdfium(corpus: Path, work: Path) -> list[dict]:
    """(c) and (a) again with `ingestion.pdf.engine: pdfium`, in a store of its own."""
    shutil.copytree(corpus, work / "docs")
    (work / "ragctl.yaml").write_text(CONFIG.replace("paths: [docs]", "paths: [docs], pdf: {engine: pdfium}"))
    wall, rss, cold = ragctl(work)
    rows = [
        {
            "step": "(c') ragctl ingest, cold, pdf engine pdfium",
            "wall_s": wall,
            "rss_mb": rss,
            "chunks": cold["summary"]["chunks"]["added"],
            "failed": cold["summary"]["files"]["failed"],
        }
    ]
    _wall, rss_a, out = run([sys.executable, str(ROOT / "bench" / "raw_embedding.py"), "state/chroma", "bench"], work)
    n, _load_s, embed_s = out.split()
    rows.append(
        {"step": "(a') raw embedding of those chunks", "wall_s": float(embed_s), "rss_mb": rss_a, "chunks": int(n)}
    )
    return rows


def small(corpus: Path, work: Path, count: int) -> list[dict]:
    """The first `count` files alone, cold with each PDF engine, against the raw embedding of what each
    embedded: a small corpus, where start-up and the first file's parse are not hidden by the rest."""
    rows = []
    for engine in ("pypdf", "pdfium"):
        folder = work / f"small-{engine}"
        (folder / "docs").mkdir(parents=True)
        for pdf in sorted(corpus.glob("*.pdf"))[:count]:
            shutil.copy(pdf, folder / "docs")
        (folder / "ragctl.yaml").write_text(
            CONFIG.replace("paths: [docs]", f"paths: [docs], pdf: {{engine: {engine}}}")
        )
        wall, rss, cold = ragctl(folder)
        _wall, rss_a, out = run(
            [sys.executable, str(ROOT / "bench" / "raw_embedding.py"), "state/chroma", "bench"], folder
        )
        n, _load_s, embed_s = out.split()
        chunks = cold["summary"]["chunks"]["added"]
        rows.append({"step": f"(s) {count} files, cold, {engine}", "wall_s": wall, "rss_mb": rss, "chunks": chunks})
        rows.append(
            {"step": "(s_a) raw embedding of those chunks", "wall_s": float(embed_s), "rss_mb": rss_a, "chunks": int(n)}
        )
    return rows


def one_page_pdfs(corpus: Path, target: Path, count: int) -> int:
    """`count` one-page PDFs cut from the corpus's real pages, round robin; returns the pages used."""
    from pypdf import PdfReader, PdfWriter, overwrite_configuration

    overwrite_configuration(array_maximum_element_count=1_000_000)
    target.mkdir(parents=True)
    readers = [PdfReader(p) for p in sorted(corpus.glob("*.pdf"))]
    pages = [(r, i) for r in readers for i in range(len(r.pages))]
    for n in range(count):
        reader, index = pages[n % len(pages)]
        writer = PdfWriter()
        writer.add_page(reader.pages[index])
        writer.write(target / f"page-{n:05d}.pdf")
    return count


def scale(corpus: Path, work: Path, sizes: list[int]) -> list[dict]:
    rows = []
    for size in sizes:
        folder = work / f"scale-{size}"
        one_page_pdfs(corpus, folder / "docs", size)
        (folder / "ragctl.yaml").write_text(CONFIG)
        wall, rss, report = ragctl(folder)
        chunks = report["summary"]["chunks"]["added"]
        rows.append(
            {"pdfs": size, "chunks": chunks, "wall_s": wall, "rss_mb": rss, "ms_per_chunk": 1000 * wall / chunks}
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpora" / "sec10q" / "docs")
    parser.add_argument("--scale", default="", help="comma-separated corpus sizes in one-page PDFs, e.g. 250,1000")
    parser.add_argument("--pdfium", action="store_true", help="also (c) and (a) with ingestion.pdf.engine pdfium")
    parser.add_argument("--small", type=int, default=0, help="also the first N files alone, with each PDF engine")
    parser.add_argument("--only-small", action="store_true", help="the --small rows alone")
    parser.add_argument("--only-pdfium", action="store_true", help="(c') and (a') alone")
    parser.add_argument("--work", type=Path, help="keep the stores in this folder (default: a temporary one)")
    opts = parser.parse_args()
    if not opts.corpus.is_dir():
        raise SystemExit(f"corpus not found: {opts.corpus} (pass --corpus DIR)")
    results: dict = {"corpus": str(opts.corpus)}
    with tempfile.TemporaryDirectory() as scratch:
        tmp = str(opts.work.resolve()) if opts.work else scratch
        if opts.only_pdfium:
            results["pdfium"] = rows = with_pdfium(opts.corpus, Path(tmp) / "pdfium")
            results["ratios"] = {"c'/a'": rows[0]["wall_s"] / rows[1]["wall_s"]}
            print(json.dumps(results, indent=2))
            return
        if opts.small:
            results["small"] = rows = small(opts.corpus, Path(tmp), opts.small)
            results["small_ratios"] = {r["step"]: r["wall_s"] / n["wall_s"] for r, n in zip(rows[::2], rows[1::2])}
        if opts.only_small:
            print(json.dumps(results, indent=2))
            return
        results["side_by_side"] = rows = side_by_side(opts.corpus, Path(tmp) / "side")
        cold, raw, plain, unchanged = rows[0]["wall_s"], rows[1]["wall_s"], rows[2]["wall_s"], rows[3]["wall_s"]
        results["ratios"] = {"c/a": cold / raw, "c/b": cold / plain, "d/c": unchanged / cold}
        if opts.pdfium:
            extra = with_pdfium(opts.corpus, Path(tmp) / "pdfium")
            rows += extra
            results["ratios"]["c'/a'"] = extra[0]["wall_s"] / extra[1]["wall_s"]
            results["ratios"]["c'/c"] = extra[0]["wall_s"] / cold
        if opts.scale:
            results["scale"] = scale(opts.corpus, Path(tmp), [int(s) for s in opts.scale.split(",")])
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "ingest.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
