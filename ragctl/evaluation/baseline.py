"""The baseline of a comparison (`--baseline champion`, a version number or a models:/ URI), and reuse of
its logged per-question results when model, dataset, collection and evaluation settings all match."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from ragctl.config.model import RagctlConfig
from ragctl.errors import UsageError
from ragctl.evaluation.harness import Row

ROWS_ARTIFACT = "eval/rows.json"
REUSE_TAGS = ("ragctl.model_id", "ragctl.dataset_digest", "ragctl.collection_digest", "ragctl.settings_digest")


def resolve(config: RagctlConfig, ref: str) -> str:
    """An alias, a version number or a models:/ URI -> a models:/ URI that exists."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    if ref.startswith("models:/"):
        return ref
    name = config.registry.model_name
    client = MlflowClient()
    try:
        if ref.isdigit():
            client.get_model_version(name, ref)
            return f"models:/{name}/{ref}"
        client.get_model_version_by_alias(name, ref)
        return f"models:/{name}@{ref}"
    except MlflowException:
        raise UsageError(
            f"--baseline {ref}: {name} has no {'version' if ref.isdigit() else 'alias'} {ref}",
            "register and promote a chain first, or pass a version number or a models:/ URI",
        ) from None


def reusable_rows(experiment_id: str, tags: dict[str, str]) -> tuple[str, list[Row]] | None:
    """The per-question rows of a finished evaluation with exactly these identifying tags, if one exists."""
    import mlflow
    from mlflow.tracking import MlflowClient

    query = " and ".join(f"tags.`{k}` = '{tags[k]}'" for k in REUSE_TAGS)
    query += " and tags.`ragctl.stage` = 'evaluate' and attributes.status = 'FINISHED'"
    runs = MlflowClient().search_runs([experiment_id], query, order_by=["attributes.start_time DESC"], max_results=1)
    if not runs:
        return None
    try:
        data: Any = mlflow.artifacts.load_dict(f"{runs[0].info.artifact_uri}/{ROWS_ARTIFACT}")
    except Exception:  # artifact gone: evaluate again
        return None
    return runs[0].info.run_id, [Row(**r) for r in data["rows"]]


def rows_document(rows: list[Row]) -> dict[str, Any]:
    return {"rows": [asdict(r) for r in rows]}


def digest(data: Any) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]
