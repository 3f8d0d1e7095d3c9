"""Rebuild sample_docs/ from the SQuAD v2.0 dev articles 'Normans' and 'Computational complexity theory'.

Kept for provenance; the outputs are committed, so nothing runs this at build or test time.
Needs reportlab (a dev-only tool): `pip install reportlab`, then
`python scripts/build_sample_docs.py SQUAD_DIR` where SQUAD_DIR holds corpus/*.txt and qa.jsonl.

Layout: two PDFs of several pages and one text file. QA selection rule (no cherry-picking): for every
third paragraph, the first answerable question; gold page = the PDF page on which the answer occurs.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
OUT = Path(__file__).resolve().parent.parent / "sample_docs"

# (output name, source article, paragraph range, title)
DOCS = [
    ("normans.pdf", "Normans.txt", range(0, 27), "The Normans"),
    ("normans_crusades_and_arts.txt", "Normans.txt", range(27, 39), "The Normans: Cyprus, the Crusades and the arts"),
    ("complexity_theory.pdf", "Computational_complexity_theory.txt", range(0, 48), "Computational complexity theory"),
]


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def write_pdf(path: Path, title: str, paragraphs: list[str]) -> None:
    pdfmetrics.registerFont(TTFont("DejaVuSerif", FONT))
    body = ParagraphStyle("body", fontName="DejaVuSerif", fontSize=11, leading=15, spaceAfter=8)
    head = ParagraphStyle("head", parent=body, fontSize=18, leading=24, spaceAfter=14)

    def footer(canvas, doc) -> None:
        canvas.setFont("DejaVuSerif", 9)
        canvas.drawCentredString(A4[0] / 2, 1.2 * cm, f"{title} - page {doc.page}")

    story = [Paragraph(title, head), Spacer(1, 6)]
    story += [Paragraph(p.replace("&", "&amp;").replace("<", "&lt;"), body) for p in paragraphs]
    doc = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        title=title,
        author="Wikipedia contributors (via SQuAD 2.0)",
        leftMargin=2.5 * cm,
        rightMargin=2.5 * cm,
        topMargin=2 * cm,
        bottomMargin=2 * cm,
    )
    doc.build(story, onFirstPage=footer, onLaterPages=footer)


def page_of(path: Path, paragraph: str, answer: str) -> int:
    """1-based page of `answer` inside `paragraph`, found in the text pypdf extracts."""
    pages = [squash(p.extract_text() or "") for p in PdfReader(path).pages]
    full, starts = "", []
    for text in pages:
        starts.append(len(full))
        full += text + " "
    para_at = full.find(squash(paragraph)[:80])
    if para_at < 0:
        raise SystemExit(f"paragraph not found in {path.name}: {paragraph[:60]!r}")
    ans_at = full.find(squash(answer), para_at)
    return max(i for i, s in enumerate(starts) if s <= ans_at) + 1


def main(squad: Path) -> None:
    qa = [json.loads(line) for line in (squad / "qa.jsonl").read_text().splitlines()]
    rows = []
    for name, source, span, title in DOCS:
        paragraphs = (squad / "corpus" / source).read_text().split("\n\n")
        chosen = [paragraphs[i] for i in span]
        path = OUT / name
        if name.endswith(".pdf"):
            write_pdf(path, title, chosen)
        else:
            path.write_text(title + "\n\n" + "\n\n".join(chosen) + "\n")
        for i in span:
            if i % 3:
                continue
            first = next(
                (q for q in qa if q["doc"] == source and q["paragraph_index"] == i and not q["is_impossible"]), None
            )
            if first is None:
                continue
            answers = list(dict.fromkeys(first["answers"]))
            src = {"file": name}
            if name.endswith(".pdf"):
                src["page"] = page_of(path, paragraphs[i], answers[0])
            rows.append(
                {
                    "id": first["id"],
                    "question": first["question"],
                    "answer": answers[0],
                    "answers": answers,
                    "sources": [src],
                }
            )
    with (OUT / "qa.jsonl").open("w") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} questions")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
