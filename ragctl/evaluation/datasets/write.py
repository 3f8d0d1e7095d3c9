"""A QA set saved: as a JSONL file, or merged into an MLflow GenAI evaluation dataset."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_jsonl(path: Path, items: list[dict[str, Any]]) -> None:
    """Write a QA set whole or not at all: a crash never leaves half a set behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    os.replace(partial, path)


def to_mlflow(name: str, experiment_id: str, items: list[dict[str, Any]]) -> None:
    """Merge QA items into an MLflow GenAI evaluation dataset (created if new; MLflow deduplicates by inputs)."""
    from mlflow.genai.datasets import create_dataset, get_dataset

    records = [
        {
            "inputs": {"question": i["question"]},
            "expectations": {
                "expected_response": i["answer"] if "answer" in i else i["answers"][0],
                **({"answers": i["answers"]} if "answers" in i else {}),
                "sources": i["sources"],
            },
            "tags": i["tags"],
        }
        for i in items
    ]
    try:
        found = get_dataset(name=name)
    except Exception:  # not there yet
        found = create_dataset(name=name, experiment_id=experiment_id)
    found.merge_records(records)
