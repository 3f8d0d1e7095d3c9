"""`ragctl run` through the real stack: the whole pipeline once, then nothing to do, then only what a changed
document and a changed setting require."""

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
    first = run("--promote", "champion")
    assert set(statuses(first).values()) == {"ran"} and len(first["steps"]) == 5
    assert first["version"] == "1" and first["passed"] is True
    again = run("--promote", "champion")
    assert set(statuses(again).values()) == {"skipped"}, again["steps"]
    assert (again["version"], again["model_uri"]) == ("1", first["model_uri"])

    with (project / "sample_docs" / "normans_crusades_and_arts.txt").open("a") as fh:
        fh.write("\nThe Normans also built castles across the lands they ruled.\n")
    changed = run("--promote", "champion")
    assert statuses(changed) == dict.fromkeys(("ingest", "assemble", "evaluate", "register", "promote"), "ran")
    assert changed["version"] == "2"

    chain_only = run("--set", "retrieval.top_k=2")  # a chain setting: the collection is as it was
    assert statuses(chain_only) == {"ingest": "skipped", "assemble": "ran", "evaluate": "ran", "register": "ran"}
    failing = CliRunner().invoke(app, ["run", *FAST, "--set", "evaluation.thresholds.hit_rate=1.01"])
    assert failing.exit_code == 1 and "not registered" in " ".join(failing.output.split())
