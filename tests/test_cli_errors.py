"""Commands run out of order fail with a clear message and the documented exit code, never a traceback."""

from __future__ import annotations

import shutil
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
        # a chain that is not there is the caller's mistake (2), not an unreachable service (4)
        (["evaluate", "--model-uri", "models:/m-0123456789"], 2, "cannot load models:/m-0123456789"),
        (["evaluate", "--model-uri", "no-such-folder"], 2, "cannot load no-such-folder"),
        # a version or alias that is not there is a usage error (2); 1 is a gate refusing what exists
        (["promote", "--version", "1"], 2, "--version 1: model 'ragctl-demo-chain' has no version 1 (versions: none)"),
        (["promote", "--version", "latest"], 2, "has no versions yet"),
        (["promote", "--from", "staging"], 2, "--from staging: model 'ragctl-demo-chain' has no alias"),
        (["promote", "--rollback"], 2, "has no alias 'champion' to roll back"),
        (["query", "anything?"], 2, "cannot load models:/ragctl-demo-chain@champion"),
        (["query", "  "], 2, "the question is empty"),
        (["review", "status"], 2, "no review started in this experiment"),
        (["review", "status", "nope"], 2, "no review queue named 'nope'"),
        (["review", "start", "-r", "a@example.com", "--sample", "2"], 2, "say which version"),
        (["review", "start", "-v", "1", "-r", "ann", "--sample", "2"], 2, "ann: give each reviewer's email"),
        (
            ["review", "start", "-v", "1", "-r", "a@example.com", "--sample", "2"],
            2,
            "'ragctl-demo-chain' has no version '1'",
        ),
        (["review", "start", "-a", "qa", "-r", "a@example.com", "--sample", "2"], 2, "has no alias 'qa'"),
        (["review", "start", "-v", "1", "-r", "a@example.com"], 2, "say which questions"),
        (["serve"], 2, "has no alias 'champion'"),
        (["serve", "--port", "99999"], 2, "less than or equal to 65535"),  # was a ValidationError traceback
        (["feedback", "tr-1", "--rating", "meh"], 2, "give up or down"),
        (["feedback", "tr-1", "--rating", " UP"], 2, "no trace 'tr-1'"),  # the rating read, whatever its case
        (["monitor", "--since", "soon"], 2, "give a duration above zero, like 30m"),
        (["monitor", "--since", "0h"], 2, "give a duration above zero"),  # an empty window scores nothing
        (["monitor", "--since", "1h"], 0, "no served answers in the last 1h in experiment"),
        (["query", "q?", "--model-uri", "models:/nosuch/1"], 2, "`ragctl models` lists the registered versions"),
        # an alias that never moved is said, not shown as an empty table, beside the aliases there are
        (["history", "--alias", " "], 2, "--alias is empty"),
        # checked before the queue is read (was an OSError traceback after the reviews were turned into items)
        (["dataset", "from-reviews", "q", "-o", "/proc/qa.jsonl"], 2, "--output /proc/qa.jsonl: cannot write in /proc"),
        (["models"], 0, "no version of ragctl-demo-chain is registered in sqlite:///state/mlflow.db yet"),
        (["lineage", ""], 2, "no registered version for ''"),
        (["history", "--alias", "nosuch"], 0, "@nosuch of ragctl-demo-chain has never moved (its aliases: none yet)"),
    ],
)
def test_out_of_order_commands(
    project: Path, empty_mlflow_db: Path, command: list[str], code: int, message: str
) -> None:
    (project / "state").mkdir()
    shutil.copy(empty_mlflow_db, project / "state" / "mlflow.db")
    result = CliRunner().invoke(app, [*command, *STATE])
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_status_on_an_empty_project(project: Path) -> None:
    import json

    result = CliRunner().invoke(app, ["status", "--json", *STATE])
    assert result.exit_code == 0, result.output
    status = json.loads(result.stdout)
    assert status["chunks"] is None and status["aliases"] == {} and status["collection_state"] == "missing"
    assert not (project / "state" / "chroma").exists(), "a read-only command made an empty Chroma store"
    assert set(status["last_runs"].values()) == {None}


def test_bad_qa_set_names_the_line(project: Path) -> None:
    """Each bad record as `path:line`, the path whole however long it is (wider than the terminal here),
    so that it can be copied."""
    folder = project / ("a-folder-name-long-enough-to-pass-the-terminal-width-" * 2)
    folder.mkdir()
    qa = folder / "qa.jsonl"
    qa.write_text('{"question": "q", "answer": "a"}\nnot json\n{"answer": "a"}\n')
    result = CliRunner().invoke(app, ["evaluate", *STATE, "--set", f"evaluation.dataset={qa}"])
    assert result.exit_code == 2, result.output
    assert f"{qa}:2: not JSON" in result.output and f"{qa}:3: 'question' must be" in result.output
    assert "Traceback" not in result.output


def test_a_server_lost_mid_command_is_a_service_error_naming_it_and_nothing_else_is() -> None:
    import httpx
    import requests
    from mlflow.exceptions import MlflowException

    from ragctl.errors import ServiceError, lost_service

    request = httpx.Request("POST", "http://127.0.0.1:8000/api/v2/tenants/t/collections/c/upsert")
    lost = lost_service(httpx.ConnectError("refused", request=request))
    assert isinstance(lost, ServiceError) and lost.exit_code == 4
    assert "lost the connection to http://127.0.0.1:8000 mid-command" in lost.message
    try:  # what MLflow's REST client raises: its own exception, with the requests error as context
        try:
            raise requests.exceptions.ConnectionError(
                "refused", request=requests.Request("GET", "http://10.0.0.5:5000/api/2.0/mlflow/runs/get").prepare()
            )
        except requests.exceptions.ConnectionError as exc:
            raise MlflowException(f"API request failed with exception {exc}")  # noqa: B904
    except MlflowException as exc:
        mlflow_lost = lost_service(exc)
    assert mlflow_lost is not None and "http://10.0.0.5:5000 mid-command" in mlflow_lost.message
    assert lost_service(ValueError("a bug")) is None and lost_service(MlflowException("bad request")) is None


@pytest.mark.parametrize(
    ("command", "stage", "said"),
    [
        (["ingest"], "ragctl.stages.ingest.run", "re-running ingest resumes without duplicates"),
        (["evaluate"], "ragctl.stages.evaluate.run", "gates nothing; re-run evaluate"),
        (["query", "q?"], "ragctl.stages.inspect.query", None),
    ],
)
def test_ctrl_c_exits_130_saying_what_a_rerun_does(
    project: Path, monkeypatch: pytest.MonkeyPatch, command: list[str], stage: str, said: str | None
) -> None:
    """Each command says what its own interruption left; a query's says nothing about ingest."""

    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(stage, interrupted)
    result = CliRunner().invoke(app, [*command, *STATE])
    assert result.exit_code == 130, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("interrupted") and "Traceback" not in result.output
    assert (said in last) if said else last == "interrupted"
