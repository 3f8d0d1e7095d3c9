"""Ingest through the real embedding model, Chroma and MLflow: what changed, what failed, what exits how."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragctl.cli.app import app
from tests import pdfs


@pytest.fixture
def corpus(project: Path) -> Path:
    docs = project / "docs"
    docs.mkdir()
    shutil.copy(project / "sample_docs" / "normans.pdf", docs)
    shutil.copy(project / "sample_docs" / "normans_crusades_and_arts.txt", docs)
    (project / "ragctl.yaml").write_text(
        "ingestion: {paths: [docs]}\nvector_store: {path: state/chroma, collection: test-docs}\n"
        'tracking: {uri: "sqlite:///state/mlflow.db", artifact_location: state/artifacts}\n'
    )
    return docs


def ingest(*extra: str) -> tuple[int, dict]:
    result = CliRunner().invoke(app, ["ingest", "--config", "ragctl.yaml", "--json", *extra])
    return result.exit_code, (json.loads(result.stdout) if result.stdout.strip() else {"output": result.output})


def statuses(report: dict) -> dict[str, str]:
    return {f["file"]: f["status"] for f in report["files"]}


def test_changed_removed_and_added_files_are_reported(corpus: Path) -> None:
    code, first = ingest()
    assert code == 0 and statuses(first) == {"normans.pdf": "added", "normans_crusades_and_arts.txt": "added"}
    text = corpus / "normans_crusades_and_arts.txt"
    text.write_text(text.read_text() + "\nThe Normans also built many castles in Wales.\n")
    (corpus / "normans.pdf").unlink()
    (corpus / "notes.md").write_text("# Notes\n\nRollo was the first ruler of Normandy.\n")
    code, second = ingest()
    assert code == 0
    assert statuses(second) == {
        "normans_crusades_and_arts.txt": "changed",
        "notes.md": "added",
        "normans.pdf": "removed",
    }
    written = {f["file"]: f["chunks"] for f in second["files"]}
    assert second["chunks_total"] == written["normans_crusades_and_arts.txt"] + written["notes.md"]


def test_changing_chunking_reingests_everything_without_duplicates(corpus: Path) -> None:
    _, first = ingest()
    code, second = ingest("--set", "chunking.chunk_size=100")
    assert code == 0 and set(statuses(second).values()) == {"changed"}
    assert second["chunks_total"] > first["chunks_total"]
    assert second["chunks_total"] == sum(f["chunks"] for f in second["files"])


def test_nothing_readable_exits_3_and_names_each_file(project: Path) -> None:
    docs = project / "bad"
    docs.mkdir()
    pdfs.encrypted(docs / "a.pdf")
    pdfs.blank(docs / "b.pdf")
    result = CliRunner().invoke(app, ["ingest", "--set", "ingestion.paths=[bad]", "--set", "vector_store.path=st"])
    assert result.exit_code == 3
    assert "a.pdf" in result.output and "encrypted" in result.output
    assert "b.pdf" in result.output and "no extractable text" in result.output
    assert "Traceback" not in result.output


def test_missing_input_folder_exits_3(project: Path) -> None:
    result = CliRunner().invoke(app, ["ingest", "--set", "ingestion.paths=[nowhere]"])
    assert result.exit_code == 3 and "'nowhere' does not exist" in result.output
