"""QA sets: JSONL or CSV files, or an MLflow GenAI evaluation dataset by name.

An item: `question`; `answer` or `answers`; `sources` ([{file, page?}], files and pages, never chunk ids);
optional `answerable: false` (the right behaviour is to decline) and `tags` ({str: str}). Errors name the
file and line. `id` defaults to a hash of the question, so per-question results join across runs.

Its steps: `read` turns a file or an MLflow dataset into records, `items` checks one record, `load` makes
the whole set (every bad record listed at once), `write` saves one.
"""

from ragctl.evaluation.datasets.items import PLACEHOLDER, Dataset, Item, item_from
from ragctl.evaluation.datasets.load import load, mark_missing_sources
from ragctl.evaluation.datasets.read import read_text
from ragctl.evaluation.datasets.write import to_mlflow, write_jsonl

__all__ = [
    "PLACEHOLDER",
    "Dataset",
    "Item",
    "item_from",
    "load",
    "mark_missing_sources",
    "read_text",
    "to_mlflow",
    "write_jsonl",
]
