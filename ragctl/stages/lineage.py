"""lineage: a registered version -> the assemble run that logged it -> the ingest run and collection state it
reads (manifest digest, source files with their hashes), plus its evaluations and the promotions that moved
an alias to it, with their evidence. Read-only: reads the registry, the runs and their artifacts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ragctl.config.model import RagctlConfig
from ragctl.errors import UsageError
from ragctl.stages.evaluate import PASSED_TAG
from ragctl.stages.promote.history import Move, moves_to
from ragctl.stages.register import HEADLINE


@dataclass
class Lineage:
    model_uri: str
    name: str
    version: str
    aliases: list[str]
    description: str
    model_id: str | None
    assemble: dict[str, Any] = field(default_factory=dict)
    ingest: dict[str, Any] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)
    evaluations: list[dict[str, Any]] = field(default_factory=list)
    promotions: list[Move] = field(default_factory=list)


def _version(config: RagctlConfig, ref: str) -> Any:
    """`models:/NAME@ALIAS`, `models:/NAME/N`, or an alias or number of the configured model."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    target = ref.removeprefix("models:/")
    if not ref.startswith("models:/"):
        target = f"{config.registry.model_name}/{ref}" if ref.isdigit() else f"{config.registry.model_name}@{ref}"
    try:
        if "@" in target:
            return client.get_model_version_by_alias(*target.split("@", 1))
        name, _, number = target.partition("/")
        return client.get_model_version(name, number)
    except (MlflowException, TypeError):
        raise UsageError(
            f"no registered version for {ref}", "give models:/NAME@ALIAS, models:/NAME/N, an alias or a number"
        ) from None


def _run(client: Any, run_id: str | None) -> Any | None:
    if not run_id or run_id == "none":
        return None
    try:
        return client.get_run(run_id)
    except Exception:  # deleted
        return None


def _files(run: Any) -> list[dict[str, Any]]:
    import mlflow

    try:
        data: Any = mlflow.artifacts.load_dict(f"{run.info.artifact_uri}/ingest/files.json")
    except Exception:
        return []
    keep = ("file", "status", "sha256", "pages", "chunks")
    return [{k: f.get(k) for k in keep} for f in data["files"] if f.get("status") not in ("deleted", "failed")]


def trace(config: RagctlConfig, ref: str) -> Lineage:
    from mlflow.tracking import MlflowClient

    from ragctl import tracking

    tracking.setup(config)
    client = MlflowClient()
    version = _version(config, ref)
    tags = version.tags
    aliases = [
        a for a, v in client.get_registered_model(version.name).aliases.items() if str(v) == str(version.version)
    ]
    found = Lineage(
        model_uri=f"models:/{version.name}/{version.version}",
        name=version.name,
        version=str(version.version),
        aliases=sorted(aliases),
        description=version.description or "",
        model_id=tracking.logged_model_id(f"models:/{version.name}/{version.version}"),
    )
    assembled = _run(client, tags.get("ragctl.assemble_run_id"))
    if assembled:
        found.assemble = {
            "run_id": assembled.info.run_id,
            "llm": tags.get("ragctl.llm", ""),
            "embedding": tags.get("ragctl.embedding", ""),
            "top_k": tags.get("ragctl.top_k", ""),
            "git_commit": tags.get("ragctl.git_commit", ""),
            "prompt": tags.get("ragctl.prompt_uri") or assembled.data.tags.get("ragctl.prompt_uri", "prompt.txt"),
        }
    ingested = _run(client, tags.get("ragctl.ingest_run_id"))
    if ingested:
        found.ingest = {
            "run_id": ingested.info.run_id,
            "collection": tags.get("ragctl.collection", ""),
            "manifest_digest": ingested.data.tags.get("ragctl.manifest_digest", ""),
            "evaluated_on_digest": tags.get("ragctl.collection_digest", ""),
        }
        found.files = _files(ingested)
    evaluated = _run(client, tags.get("ragctl.eval_run_id"))
    if evaluated:
        found.evaluations.append(_evaluation(evaluated))
    found.promotions = moves_to(config, version.name, found.version)
    for move in found.promotions:
        for run_id in move.evidence:
            if all(e["run_id"] != run_id for e in found.evaluations) and (run := _run(client, run_id)):
                found.evaluations.append(_evaluation(run))
    return found


def _evaluation(run: Any) -> dict[str, Any]:
    tags, metrics = run.data.tags, run.data.metrics
    return {
        "run_id": run.info.run_id,
        "model_uri": tags.get("ragctl.model_uri", ""),
        "dataset": tags.get("ragctl.dataset", ""),
        "passed": tags.get(PASSED_TAG, "?"),
        "metrics": {m: round(metrics[m], 4) for m in HEADLINE if m in metrics},
    }
