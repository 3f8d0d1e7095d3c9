"""Convert the shared corpora's QA files to ragctl's QA format (JSONL: question, answers, sources, answerable, tags).

    python bench/qa_convert.py sec10q ../shared/corpora/sec10q/qa_flat.jsonl -o /tmp/sec10q-qa.jsonl
    python bench/qa_convert.py squad ../shared/corpora/squad-small/qa.jsonl -o /tmp/squad-qa.jsonl

sec10q (docugami KG-RAG, MIT): each question names its source documents (file level, no pages); tags carry the
question type (`single-doc` for the 130 Single-Doc questions, `multi-doc` for the 65 others) and the chunk
type. squad-small (SQuAD v2.0 dev, CC BY-SA 4.0): answerable questions keep their answer spans and the
article as source; unanswerable ones become `answerable: false` (the right behaviour is to decline).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def sec10q(rows: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for row in rows:
        kind = "single-doc" if row["question_type"].startswith("Single-Doc") else "multi-doc"
        yield {
            "id": row["id"],
            "question": row["question"],
            "answer": row["answer"],
            "sources": [{"file": name} for name in row["source_docs"]],
            "tags": {"type": kind, "question_type": row["question_type"], "chunk_type": row["source_chunk_type"]},
        }


def squad(rows: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for row in rows:
        item: dict[str, Any] = {"id": row["id"], "question": row["question"], "sources": [{"file": row["doc"]}]}
        if row["is_impossible"]:
            item.update(answerable=False, tags={"type": "unanswerable"})
        else:
            item.update(answers=row["answers"], tags={"type": "answerable"})
        yield item


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["sec10q", "squad"])
    parser.add_argument("source", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.source.read_text().splitlines() if line.strip()]
    items = list((sec10q if args.kind == "sec10q" else squad)(rows))
    args.output.write_text("".join(json.dumps(i) + "\n" for i in items))
    print(f"{len(items)} items -> {args.output}")


if __name__ == "__main__":
    main()
