"""lineage: a registered version -> the assemble run that logged it -> the ingest run and collection state it
reads (manifest digest, source files with their hashes), plus its evaluations and the promotions that moved
an alias to it, with their evidence. Read-only: reads the registry, the runs and their artifacts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ragctl.errors import UsageError
from ragctl.records import evaluations, models, reviews, runs
from ragctl.records import tags as t
from ragctl.records.moves import Move, moves_to
from ragctl.session import Session


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
    review: dict[str, Any] = field(default_factory=dict)  # the version's review queue as it stands


def _version(session: Session, ref: str) -> Any:
    """`models:/NAME@ALIAS`, `models:/NAME/N`, or an alias or number of the configured model."""
    found = models.version(session, models.parse(ref, session.config.registry.model_name))
    if found is None:
        raise UsageError(
            f"no registered version for {ref!r}", "give models:/NAME@ALIAS, models:/NAME/N, an alias or a number"
        )
    return found


def _files(run: Any) -> list[dict[str, Any]]:
    data = runs.load_artifact(run, "ingest/files.json")
    keep = ("file", "status", "sha256", "pages", "chunks")
    files = data["files"] if data else []
    return [{k: f.get(k) for k in keep} for f in files if f.get("status") not in ("deleted", "failed")]


def trace(session: Session, ref: str) -> Lineage:
    version = _version(session, ref)
    tags = version.tags
    uri = f"models:/{version.name}/{version.version}"
    held = models.aliases(session, version.name)
    found = Lineage(
        model_uri=uri,
        name=version.name,
        version=str(version.version),
        aliases=sorted(a for a, v in held.items() if v == str(version.version)),
        description=version.description or "",
        model_id=models.logged_model_id(session, uri),
    )
    assembled = runs.get(session, tags.get(t.ASSEMBLE_RUN_ID))
    if assembled:
        found.assemble = {
            "run_id": assembled.info.run_id,
            "llm": tags.get(t.LLM, ""),
            "embedding": tags.get(t.EMBEDDING, ""),
            "top_k": tags.get(t.TOP_K, ""),
            "git_commit": tags.get(t.SOURCE_COMMIT, ""),
            "prompt": tags.get(t.PROMPT_URI) or assembled.data.tags.get(t.PROMPT_URI, "prompt.txt"),
        }
    ingested = runs.get(session, tags.get(t.INGEST_RUN_ID))
    if ingested:
        found.ingest = {
            "run_id": ingested.info.run_id,
            "collection": tags.get(t.COLLECTION, ""),
            "manifest_digest": ingested.data.tags.get(t.MANIFEST_DIGEST, ""),
            "evaluated_on_digest": tags.get(t.COLLECTION_DIGEST, ""),
        }
        found.files = _files(ingested)
    evaluated = runs.get(session, tags.get(t.EVAL_RUN_ID))
    if evaluated:
        found.evaluations.append(evaluations.summary(evaluated))
    found.promotions = moves_to(session, version.name, found.version)
    tally = reviews.tally(session, reviews.queue_name(version.name, found.version))
    review_runs = set(tally.runs) if tally else set()
    for move in found.promotions:
        for run_id in move.evidence:
            if run_id in review_runs or any(e["run_id"] == run_id for e in found.evaluations):
                continue
            if run := runs.get(session, run_id):
                found.evaluations.append(evaluations.summary(run))
    if tally:
        found.review = {
            "queue": tally.queue,
            "items": tally.items,
            "reviewed": tally.reviewed,
            "approved": tally.approved,
            "runs": tally.runs,
            "behind_promotions": [m.run_id for m in found.promotions if review_runs & set(m.evidence)],
        }
    return found
