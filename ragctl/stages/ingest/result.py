"""What an ingest reports: each file's status and outcome, the run's result, and its summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ragctl.stages.ingest.plan import Plan

STATUSES = ("added", "changed", "deleted", "unchanged", "failed")


@dataclass
class FileReport:
    file: str
    status: str  # added | changed | unchanged | deleted | failed
    outcome: str = (
        "ok"  # ok | partial | empty | encrypted | wrong-password | corrupt | unsupported | too-large | timeout
    )
    reason: str = ""
    sha256: str = ""
    pages: int = 0
    chunks: int = 0
    replaced: int = 0  # chunks of the file's previous version this run removed (a changed file)


@dataclass
class IngestResult:
    run_id: str | None  # None for a dry run
    experiment_id: str | None
    collection: str
    dry_run: bool = False
    files: list[FileReport] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    chunks_total: int = 0
    manifest_digest: str = ""
    seconds: float = 0.0
    reaped_runs: list[str] = field(default_factory=list)
    up_to_date: bool = False  # nothing to do: no run was made
    last_run_id: str | None = None  # when up to date: the ingest run that last changed the collection
    index_seconds: float = 0.0  # building and saving the search index (retrieval/index/)
    index_files_read: int = 0  # files whose chunks the index read: the changed ones when it was updated

    @property
    def failed(self) -> list[FileReport]:
        return [f for f in self.files if f.status == "failed"]

    @property
    def attention(self) -> list[FileReport]:
        """Files a person should look at: failed, or ingested only in part."""
        return [f for f in self.files if f.status == "failed" or f.outcome == "partial"]


def unchanged(plan: Plan) -> list[FileReport]:
    return [FileReport(e.file, "unchanged", e.outcome, e.reason, e.sha256, e.pages, e.chunks) for e in plan.unchanged]


def summarize(files: list[FileReport], chunks_total: int, seconds: float) -> dict[str, Any]:
    ingested = [f for f in files if f.status in ("added", "changed")]
    return {
        "files": {status: sum(1 for f in files if f.status == status) for status in STATUSES},
        "chunks": {
            "added": sum(f.chunks for f in ingested),
            # what left the collection: deleted files' chunks and the previous versions of changed files'
            # (so the total before, plus added, minus deleted, is the total after)
            "deleted": sum(f.chunks for f in files if f.status == "deleted") + sum(f.replaced for f in files),
            "total": chunks_total,
        },
        "pages": sum(f.pages for f in ingested),
        "seconds": round(seconds, 3),
    }
