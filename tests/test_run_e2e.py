"""`ragctl run` through the real stack: the whole pipeline once, then only what a changed chain setting
requires, and a failed gate that stops before register."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragctl.cli.app import app

pytestmark = pytest.mark.e2e
FAST = ["--set", "evaluation.limit=4", "--set", "evaluation.thresholds={}"]


def run(*args: str, code: int = 0) -> dict:
    result = CliRunner().invoke(app, ["run", "--json", *FAST, *args])
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if code == 0 else {}


def statuses(result: dict) -> dict[str, str]:
    return {s["stage"]: s["status"] for s in result["steps"]}


def test_run_skips_what_did_not_change(project: Path) -> None:
    """The skip on nothing changed, and a new version after a changed document, are in the team test
    (tests/test_scale_out.py); here: a chain setting re-runs all but ingest, and a failed gate stops."""
    first = run()
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
