"""Shared fixtures: every test runs in its own folder with its own MLflow and Chroma state."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DOCS = ROOT / "sample_docs"


def require(available: object, what: str) -> None:
    """Skip a test whose service or tool is missing on a developer's machine; under CI (CI set, as .ci/run
    does) fail instead: there the missing piece is a broken install step, not a choice."""
    if available:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required under CI (.ci/run installs it)", pytrace=False)
    pytest.skip(f"{what} is not installed (.ci/run installs it)")


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts in its own empty folder, so whatever state it writes (.ragctl/, reports) is its own,
    and picks up no tracking server, config or Chroma override of the developer's."""
    monkeypatch.chdir(tmp_path)
    for var in (
        "MLFLOW_TRACKING_URI",
        "RAGCTL_CONFIG",
        "RAGCTL_CHROMA_PATH",
        "RAGCTL_CHROMA_HOST",
        "RAGCTL_CHROMA_PORT",
        "RAGCTL_EXPERIMENT",
    ):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project folder as the working directory, with a copy of sample_docs/."""
    shutil.copytree(SAMPLE_DOCS, tmp_path / "sample_docs")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def empty_mlflow_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real MLflow SQLite store with its schema made once: creating one runs every migration (~1.5 s), which
    tests that only need an empty store copy instead."""
    import mlflow

    path = tmp_path_factory.mktemp("mlflow-schema") / "mlflow.db"
    mlflow.MlflowClient(f"sqlite:///{path}").search_experiments()
    return path
