"""`ragctl run` through the real stack: the whole pipeline once, then only what a changed chain setting
requires, and a failed gate that stops before register."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragctl.cli.app import app
from tests.conftest import SAMPLE_DOCS

pytestmark = pytest.mark.e2e
FAST = ["--set", "evaluation.limit=4", "--set", "evaluation.thresholds={}"]


def run(*args: str, code: int = 0, fast: bool = True) -> dict:
    result = CliRunner().invoke(app, ["run", "--json", *(FAST if fast else []), *args])
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if code == 0 else {}


def statuses(result: dict) -> dict[str, str]:
    return {s["stage"]: s["status"] for s in result["steps"]}


def test_a_newcomers_first_run_passes_then_runs_only_what_changed(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ragctl init`, the sample documents and their QA set, `ragctl run` with no config flag: green the first
    time (the template gated token F1 at 0.2, inside the packaged model's noise, so a first run was red).
    Then a chain setting re-runs all but ingest, and a failed gate stops. The skip on nothing changed, and a
    new version after a changed document, are in the team test (tests/test_scale_out.py)."""
    assert CliRunner().invoke(app, ["init", "mine"]).exit_code == 0
    for name in ("normans.pdf", "complexity_theory.pdf", "normans_crusades_and_arts.txt"):
        shutil.copy(SAMPLE_DOCS / name, project / "mine" / "docs" / name)
    shutil.copy(SAMPLE_DOCS / "qa.jsonl", project / "mine" / "qa.jsonl")
    monkeypatch.chdir(project / "mine")
    first = run(fast=False)  # the template's gates on the whole QA set
    assert set(statuses(first).values()) == {"ran"} and len(first["steps"]) == 4
    assert first["version"] == "1" and first["passed"] is True
    chain_only = run("--set", "retrieval.top_k=2")  # a chain setting: the collection is as it was
    assert statuses(chain_only) == {"ingest": "skipped", "assemble": "ran", "evaluate": "ran", "register": "ran"}
    assert chain_only["version"] == "2"
    failing = CliRunner().invoke(app, ["run", *FAST, "--set", "evaluation.thresholds.hit_rate=1.01"])
    assert failing.exit_code == 1 and "not registered" in " ".join(failing.output.split())
    steps = " ".join(failing.output.split())
    assert "assemble skipped" in steps and "evaluate ran" in steps
    scripted = CliRunner().invoke(app, ["run", "--json", *FAST, "--set", "evaluation.thresholds.hit_rate=1.01"])
    assert scripted.exit_code == 1, scripted.output
    stopped = json.loads(scripted.stdout)  # a script still learns which stage ran, skipped or stopped
    assert stopped["passed"] is False and stopped["version"] is None
    assert statuses(stopped) == {"ingest": "skipped", "assemble": "skipped", "evaluate": "skipped"}
