"""A QA set whole: every record read and checked, every bad one listed with its line."""

from __future__ import annotations

from pathlib import Path

from ragctl.errors import DatasetError
from ragctl.evaluation.datasets.items import Dataset, digest_of, item_from
from ragctl.evaluation.datasets.read import records_csv, records_jsonl, records_mlflow

MAX_LISTED = 10


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
        records = records_csv(path, field) if path.suffix.lower() == ".csv" else records_jsonl(path, field)
    else:
        records = records_mlflow(spec, field)
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
        return Dataset(name=name, source=spec, items=items[:limit], whole_digest=digest_of(items))
    return Dataset(name=name, source=spec, items=items)


def mark_missing_sources(dataset: Dataset, files: set[str]) -> None:
    """Items whose gold files are not in the collection cannot be scored: mark them invalid (not 0)."""

    def present(file: str) -> bool:
        return file in files or any(f.endswith("/" + file) for f in files)

    for item in dataset.items:
        missing = [s["file"] for s in item.sources if not present(s["file"])]
        if missing and len(missing) == len(item.sources):
            item.invalid = f"not in the collection: {', '.join(sorted(set(missing)))}"
