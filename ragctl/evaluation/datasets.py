"""QA sets: JSONL or CSV files, or an MLflow GenAI evaluation dataset by name.

An item: `question`; `answer` or `answers`; `sources` ([{file, page?}], files and pages, never chunk ids);
optional `answerable: false` (the right behaviour is to decline) and `tags` ({str: str}). Errors name the
file and line. `id` defaults to a hash of the question, so per-question results join across runs.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ragctl.digests import digest
from ragctl.errors import DatasetError

MAX_LISTED = 10


@dataclass
class Item:
    id: str
    question: str
    answers: list[str]
    sources: list[dict[str, Any]]
    answerable: bool = True
    tags: dict[str, str] = field(default_factory=dict)
    where: str = ""  # file:line, for messages
    invalid: str = ""  # why it cannot be scored (e.g. its source file is not in the collection)

    def expectations(self) -> dict[str, Any]:
        return {"answers": self.answers, "sources": self.sources, "answerable": self.answerable}


def _digest(items: list[Item]) -> str:
    return digest([asdict(i) | {"where": "", "invalid": ""} for i in items])


@dataclass
class Dataset:
    name: str
    source: str
    items: list[Item]
    # The digest of the whole QA set when a limit took its first items: an evaluation of the whole set holds
    # a row for each of them.
    whole_digest: str | None = None

    @property
    def digest(self) -> str:
        return _digest(self.items)

    @property
    def valid(self) -> list[Item]:
        return [i for i in self.items if not i.invalid]


PLACEHOLDER = "Replace me:"  # how the questions of the QA-set template (templates/qa.jsonl) begin


def item_from(raw: dict[str, Any], where: str) -> Item:
    """Validate one record; ValueError says which field is wrong."""
    question = raw.get("question")
    if not isinstance(question, str) or not question.strip():
        raise ValueError("'question' must be a non-empty string")
    if question.startswith(PLACEHOLDER):  # scored, it would fail the gate for a reason no one could see
        raise ValueError(
            "still the placeholder `ragctl init` wrote: replace it with a question your documents answer "
            "(or make some with `ragctl dataset generate`)"
        )
    answerable = raw.get("answerable", True)
    if isinstance(answerable, str):
        answerable = answerable.strip().lower() not in ("false", "0", "no")
    answers = raw.get("answers")
    if answers in (None, "", []):
        answers = [raw["answer"]] if raw.get("answer") not in (None, "") else []
    if isinstance(answers, str):
        answers = [answers]
    if not isinstance(answers, list) or not all(isinstance(a, (str, int, float)) for a in answers):
        raise ValueError("'answers' must be a list of strings")
    if answerable and not answers:
        raise ValueError("needs 'answer' (string) or 'answers' (list), or 'answerable': false")
    sources = raw.get("sources") or []
    if not isinstance(sources, list) or not all(
        isinstance(s, dict) and isinstance(s.get("file"), str) for s in sources
    ):
        raise ValueError('\'sources\' must be a list of {"file": ..., "page": ...}')
    for s in sources:
        if s.get("page") is not None and not isinstance(s["page"], int):
            raise ValueError(f"'sources': page of {s['file']} must be an integer")
    tags = raw.get("tags") or {}
    if isinstance(tags, list):
        tags = {str(t): "true" for t in tags}
    if not isinstance(tags, dict):
        raise ValueError("'tags' must be an object of name: value (or a list of names)")
    item_id = str(raw.get("id") or hashlib.sha256(question.encode()).hexdigest()[:16])
    return Item(
        id=item_id,
        question=question,
        answers=[str(a) for a in answers],
        sources=[{"file": s["file"], **({"page": s["page"]} if s.get("page") is not None else {})} for s in sources],
        answerable=bool(answerable),
        tags={str(k): str(v) for k, v in tags.items()},
        where=where,
    )


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


def _records_jsonl(path: Path, field: str) -> list[tuple[str, Any]]:
    records = []
    for number, line in enumerate(read_text(path, field).splitlines(), start=1):
        if line.strip():
            where = f"{path}:{number}"
            try:
                records.append((where, json.loads(line)))
            except json.JSONDecodeError as exc:
                records.append((where, ValueError(f"not JSON ({exc.msg} at column {exc.colno})")))
    return records


def _records_csv(path: Path, field: str) -> list[tuple[str, Any]]:
    """CSV columns as in JSONL; `answers`, `sources` and `tags` cells hold JSON (`answers` may also be a
    plain string). Commas separate the columns, or semicolons or tabs when the header has no comma (what
    a spreadsheet writes where the comma is the decimal mark)."""
    import io

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


def _records_mlflow(name: str, field: str) -> list[tuple[str, Any]]:
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


def load(spec: str, limit: int | None = None, field: str = "evaluation.dataset") -> Dataset:
    """The QA set at `spec` (a .jsonl/.csv file or an MLflow evaluation dataset's name); `field` is the
    setting or flag it came from, named in every error."""
    path = Path(spec)
    if path.suffix.lower() in (".jsonl", ".json", ".csv") or path.exists():
        if path.is_dir():
            raise DatasetError(
                f"{field}: {spec} is a folder, not a QA set",
                "give a .jsonl or .csv file of questions, or an MLflow evaluation dataset's name",
            )
        if not path.is_file():
            raise DatasetError(f"{field}: file not found: {spec}")
        records = _records_csv(path, field) if path.suffix.lower() == ".csv" else _records_jsonl(path, field)
    else:
        records = _records_mlflow(spec, field)
    items, problems = [], []
    seen: dict[str, str] = {}
    for where, record in records:
        try:
            if isinstance(record, Exception):
                raise record
            if not isinstance(record, dict):
                raise ValueError("each record must be an object")
            item = item_from(record, where)
            if item.id in seen:
                raise ValueError(f"duplicate id {item.id!r} (first at {seen[item.id]})")
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            continue
        seen[item.id] = where
        items.append(item)
    if problems:
        more = f"\n  ... and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
        raise DatasetError(
            f"invalid QA set ({len(problems)} bad records)\n  " + "\n  ".join(problems[:MAX_LISTED]) + more,
            'each record: {"question": ..., "answer" or "answers": ..., "sources": [{"file": ..., "page": ...}]}',
        )
    if not items:
        raise DatasetError(f"{spec}: the QA set is empty")
    name = path.stem if path.suffix else spec
    if limit and limit < len(items):
        return Dataset(name=name, source=spec, items=items[:limit], whole_digest=_digest(items))
    return Dataset(name=name, source=spec, items=items)


def mark_missing_sources(dataset: Dataset, files: set[str]) -> None:
    """Items whose gold files are not in the collection cannot be scored: mark them invalid (not 0)."""

    def present(file: str) -> bool:
        return file in files or any(f.endswith("/" + file) for f in files)

    for item in dataset.items:
        missing = [s["file"] for s in item.sources if not present(s["file"])]
        if missing and len(missing) == len(item.sources):
            item.invalid = f"not in the collection: {', '.join(sorted(set(missing)))}"


def write_jsonl(path: Path, items: list[dict[str, Any]]) -> None:
    """Write a QA set whole or not at all: a crash never leaves half a set behind."""
    import json
    import os

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
