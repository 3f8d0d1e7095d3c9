"""Shared fixtures: every test runs in its own folder with its own MLflow and Chroma state."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DOCS = ROOT / "sample_docs"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may pick up the developer's tracking server, config or Chroma overrides."""
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
