"""The record of alias moves (each one a promote run, searchable by tags) and the registry's versions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from ragctl.config.model import RagctlConfig
from ragctl.stages.evaluate import PASSED_TAG


@dataclass
class Move:
    when: str
    alias: str
    action: str  # promote | rollback
    from_version: str | None
    to_version: str
    who: str
    reason: str
    overrides: list[str]
    evidence: list[str]
    run_id: str


@dataclass
class VersionRow:
    version: str
    aliases: list[str]
    eval_passed: str
    metrics: dict[str, float]
    collection: str
    collection_digest: str
    created: str
    model_uri: str


def _when(millis: int) -> str:
    return datetime.fromtimestamp(millis / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _search(config: RagctlConfig, condition: str, limit: int = 100) -> list[Move]:
    from mlflow.tracking import MlflowClient

    from ragctl import tracking

    experiment_id = tracking.setup(config)
    query = f"tags.`ragctl.stage` = 'promote' and attributes.status = 'FINISHED' and {condition}"
    runs = MlflowClient().search_runs(
        [experiment_id], query, order_by=["attributes.start_time DESC"], max_results=limit
    )
    found = []
    for run in runs:
        tags = run.data.tags
        previous = tags.get("ragctl.from_version", "none")
        found.append(
            Move(
                when=_when(run.info.start_time),
                alias=tags.get("ragctl.alias", "?"),
                action=tags.get("ragctl.action", "promote"),
                from_version=None if previous == "none" else previous,
                to_version=tags.get("ragctl.to_version", run.data.params.get("to_version", "?")),
                who=tags.get("ragctl.who", run.data.params.get("who", "?")),
                reason=tags.get("ragctl.reason", run.data.params.get("reason", "")),
                overrides=[o for o in tags.get("ragctl.overrides", "").split(",") if o],
                evidence=[e for e in tags.get("ragctl.evidence", "").split(",") if e],
                run_id=run.info.run_id,
            )
        )
    return found


def moves(config: RagctlConfig, alias: str, limit: int = 100) -> list[Move]:
    """The moves of one alias of the configured model, newest first."""
    name = config.registry.model_name
    return _search(config, f"tags.`ragctl.alias` = '{alias}' and tags.`ragctl.model_name` = '{name}'", limit)


def moves_to(config: RagctlConfig, name: str, version: str) -> list[Move]:
    """The moves of any alias of a model onto one version, newest first."""
    return _search(config, f"tags.`ragctl.to_version` = '{version}' and tags.`ragctl.model_name` = '{name}'")


def versions(config: RagctlConfig) -> list[VersionRow]:
    """Every version of the configured model, newest first, with aliases and its registered evaluation."""
    from mlflow.tracking import MlflowClient

    from ragctl import tracking

    tracking.setup(config)
    client = MlflowClient()
    name = config.registry.model_name
    try:
        aliases = client.get_registered_model(name).aliases
    except Exception:  # no such model yet
        return []
    held: dict[str, list[str]] = {}
    for alias, number in aliases.items():
        held.setdefault(str(number), []).append(alias)
    rows = []
    for v in sorted(client.search_model_versions(f"name = '{name}'"), key=lambda v: -int(v.version)):
        metrics = {k.removeprefix("eval."): float(x) for k, x in v.tags.items() if k.startswith("eval.")}
        rows.append(
            VersionRow(
                version=str(v.version),
                aliases=sorted(held.get(str(v.version), [])),
                eval_passed=v.tags.get(PASSED_TAG, "unevaluated"),
                metrics=metrics,
                collection=v.tags.get("ragctl.collection", ""),
                collection_digest=v.tags.get("ragctl.collection_digest", ""),
                created=_when(v.creation_timestamp),
                model_uri=f"models:/{name}/{v.version}",
            )
        )
    return rows
