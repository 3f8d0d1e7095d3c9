"""Commands run out of order fail with a clear message and the documented exit code, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragctl.cli.app import app

STATE = ["--set", "tracking.uri=sqlite:///state/mlflow.db", "--set", "vector_store.path=state/chroma"]


@pytest.mark.parametrize(
    ("command", "code", "message"),
    [
        (["assemble"], 3, "collection 'ragctl' not found"),
        (["evaluate"], 2, "no chain assembled by project"),
        (["register"], 2, "no chain assembled by project"),
        (["promote", "--version", "1"], 1, "has no version 1"),
        (["query", "anything?"], 2, "cannot load models:/ragctl-demo-chain@champion"),
    ],
)
def test_out_of_order_commands(project: Path, command: list[str], code: int, message: str) -> None:
    result = CliRunner().invoke(app, [*command, *STATE])
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_status_on_an_empty_project(project: Path) -> None:
    import json

    result = CliRunner().invoke(app, ["status", "--json", *STATE])
    assert result.exit_code == 0, result.output
    status = json.loads(result.stdout)
    assert status["chunks"] is None and status["aliases"] == {}
    assert set(status["last_runs"].values()) == {None}


def test_bad_qa_set_names_the_line(project: Path) -> None:
    qa = project / "qa.jsonl"
    qa.write_text('{"question": "q", "answer": "a"}\nnot json\n{"answer": "a"}\n')
    result = CliRunner().invoke(app, ["evaluate", *STATE, "--set", f"evaluation.dataset={qa}"])
    assert result.exit_code == 2, result.output
    output = " ".join(result.output.split())  # without rich's line wrapping
    assert "qa.jsonl:2: not JSON" in output and "qa.jsonl:3: 'question' must be" in output
    assert "Traceback" not in result.output
