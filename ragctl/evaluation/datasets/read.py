"""QA-set sources as records, each with where it came from (file:line, or dataset#row)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from ragctl.errors import DatasetError


def read_text(path: Path, field: str) -> str:
    """The file as text. UTF-8 with or without the byte-order mark Excel's "CSV UTF-8" and Notepad write
    (a mark left in would rename the first column or break the first line's JSON)."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise DatasetError(
            f"{field}: {path}:{line}: not UTF-8 text",
            'save it as UTF-8 (Excel: "CSV UTF-8"; iconv -f cp1252 -t utf-8)',
        ) from None


def records_jsonl(path: Path, field: str) -> list[tuple[str, Any]]:
    records = []
    for number, line in enumerate(read_text(path, field).splitlines(), start=1):
        if line.strip():
            where = f"{path}:{number}"
            try:
                records.append((where, json.loads(line)))
            except json.JSONDecodeError as exc:
                records.append((where, ValueError(f"not JSON ({exc.msg} at column {exc.colno})")))
    return records


def records_csv(path: Path, field: str) -> list[tuple[str, Any]]:
    """CSV columns as in JSONL; `answers`, `sources` and `tags` cells hold JSON (`answers` may also be a
    plain string). Commas separate the columns, or semicolons or tabs when the header has no comma (what
    a spreadsheet writes where the comma is the decimal mark)."""
    text = read_text(path, field)
    header = text.split("\n", 1)[0]
    delimiter = next((d for d in ",;\t" if d in header), ",")
    records: list[tuple[str, Any]] = []
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    if reader.fieldnames is not None:  # a spreadsheet's "Question " is the question column
        reader.fieldnames = [name.strip().lower() for name in reader.fieldnames]
    if reader.fieldnames is not None and "question" not in reader.fieldnames:
        raise DatasetError(
            f"{path}:1: no 'question' column (the header is {header.strip()!r})",
            "the first row names the columns: question, answer or answers, sources, tags, id",
        )
    for row in reader:
        where = f"{path}:{reader.line_num}"
        record: dict[str, Any] = {k: v for k, v in row.items() if k and v not in (None, "")}
        try:
            for column in ("sources", "tags", "answers"):
                if column in record:
                    cell = record[column].strip()
                    if column != "answers" or cell.startswith("["):
                        record[column] = json.loads(cell)
        except json.JSONDecodeError as exc:
            records.append((where, ValueError(f"column '{column}' is not JSON ({exc.msg})")))
            continue
        records.append((where, record))
    return records


def records_mlflow(name: str, field: str) -> list[tuple[str, Any]]:
    from mlflow.genai.datasets import get_dataset

    try:
        found = get_dataset(name=name)
    except Exception:
        raise DatasetError(
            f"{field}: no file and no MLflow evaluation dataset named {name!r}",
            "give a .jsonl/.csv path, or create the dataset with mlflow.genai.datasets.create_dataset",
        ) from None
    records = []
    for number, row in enumerate(found.to_df().to_dict(orient="records"), start=1):
        inputs, expectations = row.get("inputs") or {}, row.get("expectations") or {}
        record = {**expectations, **inputs, "tags": row.get("tags") or {}}
        if "expected_response" in expectations and "answer" not in record:
            record["answer"] = expectations["expected_response"]
        records.append((f"{name}#{number}", record))
    return records
