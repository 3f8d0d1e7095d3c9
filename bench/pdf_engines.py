"""PDF text extraction, pypdf (ragctl's parser) against pypdfium2, side by side in one process on the same
files: pages per second, files and pages that fail, pages without text, and how far the two texts agree.

pypdf runs through ragctl's own reader (documents/pdf.py: its limits, page by page); pdfium through
pypdfium2's text pages. Usage:
    python bench/pdf_engines.py DIR [DIR ...]
Writes bench/results/pdf_engines.json.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def with_pypdf(path: Path) -> tuple[list[str], int]:
    from ragctl.config.model import IngestionConfig
    from ragctl.documents.pdf import read

    document = read(path, path.name, IngestionConfig())
    return [p.text for p in document.pages], document.pages_failed


def with_pdfium(path: Path) -> tuple[list[str], int]:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(str(path))
    texts, failed = [], 0
    try:
        for index in range(len(pdf)):
            try:
                page = pdf[index]
                texts.append(page.get_textpage().get_text_range())
            except Exception:
                failed += 1
    finally:
        pdf.close()
    return texts, failed


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def agreement(a: list[str], b: list[str]) -> float | None:
    """Jaccard overlap of the two engines' words over the whole file (None when either has none)."""
    left, right = _words(" ".join(a)), _words(" ".join(b))
    return len(left & right) / len(left | right) if left and right else None


def run(files: list[Path]) -> dict[str, Any]:
    engines = {"pypdf": with_pypdf, "pdfium": with_pdfium}
    zero = {"seconds": 0.0, "pages": 0, "files_failed": 0, "pages_failed": 0, "pages_blank": 0}
    totals = {name: dict(zero) for name in engines}
    overlaps = []
    for path in files:
        texts = {}
        for name, extract in engines.items():
            began = time.perf_counter()
            try:
                pages, failed = extract(path)
            except Exception:  # encrypted without a password, corrupt: the file fails
                totals[name]["files_failed"] += 1
                totals[name]["seconds"] += time.perf_counter() - began
                continue
            totals[name]["seconds"] += time.perf_counter() - began
            totals[name]["pages"] += len(pages)
            totals[name]["pages_failed"] += failed
            totals[name]["pages_blank"] += sum(len(t.strip()) < 3 for t in pages)
            texts[name] = pages
        if len(texts) == 2 and (overlap := agreement(texts["pypdf"], texts["pdfium"])) is not None:
            overlaps.append(overlap)
    for values in totals.values():
        values["pages_per_second"] = round(values["pages"] / values["seconds"], 1) if values["seconds"] else 0.0
        values["seconds"] = round(values["seconds"], 2)
    overlaps.sort()
    return {
        "files": len(files),
        "engines": totals,
        "word_overlap_median": overlaps[len(overlaps) // 2] if overlaps else None,
        "word_overlap_min": overlaps[0] if overlaps else None,
    }


def main() -> None:
    import logging

    logging.disable(logging.WARNING)
    results = {}
    for folder in sys.argv[1:]:
        files = sorted(Path(folder).rglob("*.pdf"))
        results[folder] = run(files)
        found = results[folder]
        print(f"{folder}: {found['files']} PDFs, word overlap median {found['word_overlap_median']}")
        for name, values in found["engines"].items():
            print(f"  {name}: {values}")
    out = ROOT / "bench" / "results" / "pdf_engines.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
