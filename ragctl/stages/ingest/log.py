"""What an ingest run records in MLflow: the summary as metrics, every file's outcome as an artifact,
the manifest digest as a tag, and the corpus as a dataset input."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

from ragctl.config.model import RagctlConfig
from ragctl.records import tags as t

if TYPE_CHECKING:
    from ragctl.stages.ingest.result import IngestResult


def log_run(result: IngestResult, config: RagctlConfig) -> None:
    import mlflow
    import pandas as pd
    from mlflow.data.pandas_dataset import from_pandas

    summary = result.summary
    metrics = {f"files_{status}": n for status, n in summary["files"].items()}
    metrics.update({f"chunks_{kind}": n for kind, n in summary["chunks"].items()})
    metrics.update(pages=summary["pages"], seconds=summary["seconds"], index_seconds=result.index_seconds)
    metrics.update(index_files_read=result.index_files_read)
    if summary["seconds"]:
        metrics["chunks_per_second"] = summary["chunks"]["added"] / summary["seconds"]
    mlflow.log_metrics(metrics)
    mlflow.set_tag(t.MANIFEST_DIGEST, result.manifest_digest)
    files = [asdict(f) for f in result.files]
    mlflow.log_dict({"collection": result.collection, "summary": summary, "files": files}, "ingest/files.json")
    problems = [f"{f.file}: {f.status}/{f.outcome}: {f.reason}" for f in result.attention]
    if problems:
        mlflow.log_text("\n".join(problems) + "\n", "ingest/problems.txt")
    frame = pd.DataFrame(files or [{"file": "", "status": "", "sha256": ""}])
    dataset = from_pandas(frame, source=",".join(config.ingestion.paths), name=result.collection)
    mlflow.log_input(dataset, context="corpus")
