"""Promotion gates on a real MLflow registry (SQLite). The registered models here are LoggedModels without
files: what is under test is the gates and the alias bookkeeping, not the chain (the end-to-end tests
promote the real one)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragctl.cli.app import app

NAME = "gate-test"


def _eval_run(values: list[float]) -> str:
    """A finished evaluation run with per-question rows, as `ragctl evaluate` logs them."""
    import mlflow

    from ragctl.records.evaluations import ROWS_ARTIFACT

    rows = [
        {
            "id": f"q{i}",
            "question": f"q{i}?",
            "answer": "",
            "gold": [],
            "answerable": True,
            "sources": [],
            "gold_sources": [],
            "tags": {},
            "values": {"hit_rate@3": v, "mrr@3": v, "token_f1": v},
        }
        for i, v in enumerate(values)
    ]
    tags = {"ragctl.stage": "evaluate", "ragctl.dataset_digest": "qa-1", "ragctl.top_k": "3"}
    with mlflow.start_run(tags=tags) as run:
        mlflow.log_dict({"rows": rows}, ROWS_ARTIFACT)
    return run.info.run_id


@pytest.fixture
def registry(project: Path, empty_mlflow_db: Path) -> Path:
    """Versions 1 (passed, good), 2 (failed), 3 (passed, much worse than 1), all evaluated on the collection
    as it is (an empty one: its manifest digest is what matters here)."""
    import mlflow

    from ragctl.components.vector_stores import chroma_client
    from ragctl.config.model import VectorStoreConfig
    from ragctl.records.manifest import Manifest

    shutil.copy(empty_mlflow_db, project / "mlflow.db")
    config = project / "ragctl.yaml"
    config.write_text(
        f'tracking: {{uri: "sqlite:///{project}/mlflow.db", artifact_location: {project}/artifacts}}\n'
        f"registry: {{model_name: {NAME}}}\nproject: {{experiment: gates}}\n"
    )
    digest = Manifest.load(chroma_client(VectorStoreConfig()), "ragctl", create=False).digest()
    mlflow.set_tracking_uri(f"sqlite:///{project}/mlflow.db")
    mlflow.set_experiment("gates")
    for verdict, values in (("true", [1.0] * 30), ("false", [1.0] * 30), ("true", [0.0] * 30)):
        with mlflow.start_run():  # a LoggedModel without files: the registry bookkeeping is under test
            logged = mlflow.initialize_logged_model(name="m")
            mlflow.finalize_logged_model(logged.model_id, "READY")
        tags = {
            "ragctl.eval_passed": verdict,
            "ragctl.eval_run_id": _eval_run(values),
            "ragctl.collection": "ragctl",
            "ragctl.collection_digest": digest,
        }
        mlflow.register_model(f"models:/{logged.model_id}", NAME, tags=tags)
    return config


def promote(config: Path, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["promote", *args, "--config", str(config), "--json"])


def cli(config: Path, *args: str):  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(app, [*args, "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_refuses_a_version_without_a_passing_evaluation(registry: Path) -> None:
    result = promote(registry, "--version", "2")
    assert result.exit_code == 1
    assert "evaluation failed" in result.output and "--allow-unevaluated" in result.output


def test_the_evaluation_gate_says_passed_failed_or_never_evaluated() -> None:
    from types import SimpleNamespace

    from ragctl.stages.promote.gates import evaluation

    said = {
        verdict: evaluation(SimpleNamespace(tags={"ragctl.eval_passed": verdict, "ragctl.eval_run_id": "r1"}))
        for verdict in ("true", "false")
    }
    assert (said["true"].passed, said["true"].detail, said["true"].evidence) == (
        True,
        "evaluation passed (run r1)",
        ["r1"],
    )
    assert (said["false"].passed, said["false"].detail) == (False, "evaluation failed (run r1)")
    never = evaluation(SimpleNamespace(tags={}))
    assert (never.passed, never.detail, never.evidence) == (False, "never evaluated", [])


def test_promotes_records_previous_holder_and_moves_between_aliases(registry: Path) -> None:
    import mlflow

    first = json.loads(promote(registry, "--version", "1", "--alias", "challenger").stdout)
    assert (first["previous"], first["version"]) == (None, "1")
    assert [c["passed"] for c in first["checks"]] == [True, True, True]
    moved = json.loads(promote(registry, "--from", "challenger", "--alias", "champion").stdout)
    assert moved["version"] == "1"
    forced = promote(registry, "--version", "2", "--alias", "champion", "--force", "--reason", "hotfix")
    assert forced.exit_code == 0, forced.output
    record = json.loads(forced.stdout)
    assert (record["previous"], record["version"], record["reason"]) == ("1", "2", "hotfix")
    run = mlflow.MlflowClient().get_run(record["run_id"])
    assert run.data.params["forced"] == "True" and run.data.params["from_version"] == "1"
    assert run.data.tags["ragctl.overrides"] == "--allow-unevaluated", "only the gate that failed was overridden"


def test_serve_refuses_an_address_in_use_before_it_starts_the_server(
    registry: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It was the traceback of the `mlflow models serve` that `ragctl serve` becomes (by exec)."""

    def started(*args: object) -> None:
        raise AssertionError("the server was started")

    monkeypatch.setattr(os, "execve", started)  # else a regression would replace this test process
    cli(registry, "promote", "--version", "1")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(app, ["serve", "--config", str(registry), "--set", f"serving.port={port}"])
    assert result.exit_code == 2, result.output
    assert f"cannot serve on 127.0.0.1:{port}: Address already in use" in result.output


def test_serve_on_an_ipv6_address_gives_a_url_that_works(registry: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        with socket.socket(socket.AF_INET6) as free:
            free.bind(("::1", 0))
            port = str(free.getsockname()[1])
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    started: list[list[str]] = []
    monkeypatch.setattr(os, "execve", lambda path, argv, env: started.append(argv))
    cli(registry, "promote", "--version", "1")
    result = CliRunner().invoke(app, ["serve", "--json", "--host", "::1", "--port", port, "--config", str(registry)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["url"] == f"http://[::1]:{port}/invocations"
    assert started[0][-4:] == ["--host", "::1", "--port", port]


def test_register_refuses_a_chain_that_does_not_exist_before_it_creates_a_version(registry: Path) -> None:
    """`bogus` became version 4 before the URI was checked; a missing LoggedModel was a traceback."""
    import mlflow

    for uri, said in (
        ("bogus", "'bogus' is not a model URI"),
        ("models:/m-0123456789abcdef", "Logged model with ID 'm-0123456789abcdef' not found"),
        (f"models:/{NAME}/77", "no such registered version"),
        ("runs:/0123456789abcdef/chain", "Run with id=0123456789abcdef not found"),  # was a traceback
        (f"runs:/{_eval_run([1.0])}/chain", "Failed to download artifacts"),  # a run that logged no chain
    ):
        result = CliRunner().invoke(
            app, ["register", "--model-uri", uri, "--allow-unevaluated", "--config", str(registry)]
        )
        assert result.exit_code == 2, result.output
        assert said in result.output and "Traceback" not in result.output
    assert len(mlflow.MlflowClient().search_model_versions(f"name='{NAME}'")) == 3


def test_a_chain_given_as_runs_uri_is_registered_as_the_logged_model_it_names(registry: Path) -> None:
    """runs:/RUN/NAME is the form MLflow's docs use; the version's source, the evaluation looked up and
    the lineage are the LoggedModel's models:/m-... URI, as if that had been given."""
    import mlflow

    with mlflow.start_run() as run:
        logged = mlflow.initialize_logged_model(name="chain")
        mlflow.finalize_logged_model(logged.model_id, "READY")
    done = cli(registry, "register", "--model-uri", f"runs:/{run.info.run_id}/chain", "--allow-unevaluated")
    assert done["model_uri"] == f"models:/{logged.model_id}" and done["version"] == "4"
    again = cli(registry, "register", "--model-uri", f"models:/{logged.model_id}", "--allow-unevaluated")
    assert (again["version"], again["reused"]) == ("4", True)


def test_a_significantly_worse_version_is_refused_against_the_holder(registry: Path) -> None:
    cli(registry, "promote", "--version", "1")
    refused = promote(registry, "--version", "3", "--reason", "try")
    assert refused.exit_code == 1
    text = " ".join(refused.output.split())
    assert "regression: worse than v1: hit_rate 1.000 -> 0.000" in text and "--allow-regression" in text
    allowed = cli(registry, "promote", "--version", "3", "--allow-regression", "--reason", "known trade-off")
    regression = {c["gate"]: c for c in allowed["checks"]}["regression"]
    assert regression["overridden"] and len(regression["evidence"]) == 2


def test_a_version_evaluated_on_another_collection_state_is_refused(registry: Path) -> None:
    import mlflow

    mlflow.MlflowClient().set_model_version_tag(NAME, "1", "ragctl.collection_digest", "0123456789abcdef")
    refused = promote(registry, "--version", "1")
    assert refused.exit_code == 1 and "collection: 'ragctl' evaluated at 0123456789abcdef" in refused.output
    unsaid = promote(registry, "--version", "1", "--allow-collection-change")
    said = " ".join(unsaid.output.split())
    assert unsaid.exit_code == 2 and "--allow-collection-change sets aside the failed collection gate" in said
    assert cli(registry, "history", "--alias", "champion") == [], "nothing moved"
    moved = cli(registry, "promote", "--version", "1", "--allow-collection-change", "--reason", "re-ingested")
    assert moved["version"] == "1" and moved["reason"] == "re-ingested"


def test_rollback_history_and_models(registry: Path) -> None:
    cli(registry, "promote", "--version", "1", "--reason", "first")
    cli(registry, "promote", "--version", "3", "--allow-regression", "--reason", "second")
    back = cli(registry, "promote", "--rollback", "--reason", "bad answers")
    assert (back["action"], back["previous"], back["version"]) == ("rollback", "3", "1")
    moves = cli(registry, "history", "--alias", "champion")
    assert [(m["action"], m["from_version"], m["to_version"]) for m in moves] == [
        ("rollback", "3", "1"),
        ("promote", "1", "3"),
        ("promote", None, "1"),
    ]
    assert moves[0]["reason"] == "bad answers" and moves[1]["overrides"] == ["--allow-regression"]
    versions = {v["version"]: v for v in cli(registry, "models")}
    assert versions["1"]["aliases"] == ["champion"] and versions["2"]["eval_passed"] == "false"
    assert versions["1"]["collection_digest"] and set(versions) == {"1", "2", "3"}
    nothing = CliRunner().invoke(app, ["promote", "--rollback", "--alias", "nobody", "--config", str(registry)])
    assert nothing.exit_code == 2 and "no alias 'nobody'" in nothing.output


def test_promoting_the_version_an_alias_holds_moves_nothing_and_records_nothing(registry: Path) -> None:
    """It was recorded as a move from 1 to 1, so the next rollback "returned" to the same version."""
    cli(registry, "promote", "--version", "1")
    cli(registry, "promote", "--version", "3", "--allow-regression", "--reason", "again")
    again = cli(registry, "promote", "--version", "3")
    assert (again["action"], again["version"], again["previous"], again["run_id"]) == ("unchanged", "3", "3", "")
    said = CliRunner().invoke(app, ["promote", "--version", "3", "--config", str(registry)])
    assert said.exit_code == 0 and "already points at version 3: nothing moved" in " ".join(said.output.split())
    assert len(cli(registry, "history")) == 2
    back = cli(registry, "promote", "--rollback")
    assert (back["previous"], back["version"]) == ("3", "1")


def test_unknown_alias_or_version_is_a_usage_error(registry: Path) -> None:
    """Exit 2, not 1: a CI step that reads 1 as "the gates said no" must not take a typo for a refusal."""
    assert promote(registry, "--from", "nobody").exit_code == 2
    missing = promote(registry, "--version", "42")
    assert missing.exit_code == 2 and "(versions: 1, 2, 3)" in " ".join(missing.output.split())
    assert promote(registry).exit_code == 2  # neither --version nor --from


def test_logged_model_id_resolves_every_models_uri_form(registry: Path) -> None:
    import mlflow

    from ragctl.config.load import load_config
    from ragctl.records.models import logged_model_id
    from ragctl.session import Session

    session = Session(load_config(registry))
    model_id = mlflow.MlflowClient().get_model_version(NAME, "1").source.removeprefix("models:/")
    mlflow.MlflowClient().set_registered_model_alias(NAME, "champion", "1")
    assert model_id.startswith("m-")
    assert logged_model_id(session, f"models:/{model_id}") == model_id
    assert logged_model_id(session, f"models:/{NAME}/1") == model_id
    assert logged_model_id(session, f"models:/{NAME}@champion") == model_id
    assert logged_model_id(session, "runs:/abc/chain") is None
    assert logged_model_id(session, f"models:/{NAME}@no-such-alias") is None


def test_a_quote_in_an_alias_is_searched_for_not_parsed(registry: Path) -> None:
    assert cli(registry, "history", "--alias", "it's") == []
    assert cli(registry, "history", "--alias", 'say "hi"') == []
    both = CliRunner().invoke(app, ["history", "--alias", 'it\'s "x"', "--config", str(registry)])
    assert both.exit_code == 2 and "both quote characters" in both.output


def test_one_parser_for_every_model_reference() -> None:
    from ragctl.errors import UsageError
    from ragctl.records.models import ModelRef, parse

    assert parse("models:/m-abc123") == ModelRef("models:/m-abc123", model_id="m-abc123")
    assert parse("models:/chain/3") == ModelRef("models:/chain/3", name="chain", version="3")
    aliased = "models:/team.chain@champion"
    assert parse(aliased) == ModelRef(aliased, "team.chain", alias="champion")
    assert parse("runs:/abc/chain") == ModelRef("runs:/abc/chain")
    assert parse("7", "chain") == ModelRef("models:/chain/7", name="chain", version="7")
    assert parse("challenger", "chain") == ModelRef("models:/chain@challenger", name="chain", alias="challenger")
    with pytest.raises(UsageError):
        parse("champion")


def test_an_alias_the_registry_would_refuse_is_refused_before_the_gates(registry: Path) -> None:
    for bad in ("bad alias'", "latest", "v3", ""):
        result = promote(registry, "--alias", bad, "--version", "1")
        assert result.exit_code == 2, (bad, result.output)
        assert "--alias" in result.output and "Traceback" not in result.output
    import mlflow

    started = mlflow.search_runs(search_all_experiments=True, filter_string="tags.`ragctl.stage` = 'promote'")
    assert len(started) == 0, "refused before a promote run was started"


# --- real processes: two moves at once, and kill -9 between moving the alias and recording it ---------------


def _child(registry: Path, script: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script], cwd=registry.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _kill_9_once_reached(child: subprocess.Popen[str], folder: Path) -> None:
    """kill -9 the child as soon as it writes `reached` (its patched step is under way)."""
    deadline = time.monotonic() + 120
    while not (folder / "reached").exists():
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.1)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()


def _ragctl(registry: Path, *args: str) -> subprocess.Popen[str]:
    ragctl = Path(sys.executable).parent / "ragctl"
    command = [str(ragctl), *args, "--config", str(registry), "--json"]
    return subprocess.Popen(command, cwd=registry.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.e2e
def test_a_second_alias_move_waits_for_the_first_or_exits_5(registry: Path) -> None:
    from ragctl.config.load import load_config
    from ragctl.records.locks import moves_lock
    from ragctl.session import Session

    with moves_lock(Session(load_config(registry)), NAME):  # this process is moving the model's aliases
        refused = _ragctl(registry, "promote", "--version", "1")
        out, err = refused.communicate(timeout=120)
        assert refused.returncode == 5, err
        assert f"another alias move of model '{NAME}' is running" in " ".join(err.split())
        queued = _ragctl(registry, "promote", "--version", "1", "--wait", "120")
        time.sleep(8)  # the child is up and waiting on the lock
        assert queued.poll() is None, queued.communicate()
    out, err = queued.communicate(timeout=120)
    assert queued.returncode == 0, err
    assert json.loads(out)["version"] == "1"


KILLED_MID_MOVE = """
import sys, time
from pathlib import Path
from mlflow.tracking import MlflowClient
from ragctl.cli.app import app

moved = MlflowClient.set_registered_model_alias
def stuck(self, *args, **kwargs):
    if {after}:
        moved(self, *args, **kwargs)
    Path("reached").write_text("yes")
    time.sleep(600)
MlflowClient.set_registered_model_alias = stuck
app(["promote", "--alias", "champion", "--version", "1", "--config", {config!r}])
"""


@pytest.mark.e2e
@pytest.mark.parametrize("after", [True, False], ids=["after-the-alias-moved", "before-it-moved"])
def test_kill_9_mid_move_is_settled_by_the_next_command(registry: Path, after: bool) -> None:
    import mlflow

    child = _child(registry, KILLED_MID_MOVE.format(after=after, config=str(registry)))
    _kill_9_once_reached(child, registry.parent)
    held = mlflow.MlflowClient().get_registered_model(NAME).aliases.get("champion")
    assert (str(held) if held else None) == ("1" if after else None)
    moves = cli(registry, "history", "--alias", "champion")  # settles the pending move, then lists
    runs = mlflow.search_runs(search_all_experiments=True, filter_string="tags.`ragctl.stage` = 'promote'")
    assert list(runs["status"]) == ["FINISHED" if after else "KILLED"], "no move left RUNNING"
    assert [(m["to_version"], m["from_version"]) for m in moves] == ([("1", None)] if after else [])
    if after:
        assert "ragctl.promoted_to.champion" in mlflow.MlflowClient().get_model_version(NAME, "1").tags


KILLED_MID_REGISTER = """
import time
from pathlib import Path
from mlflow.tracking import MlflowClient
from ragctl.cli.app import app

def stuck(self, *args, **kwargs):  # the version exists; its description and the run's end do not yet
    Path("reached").write_text("yes")
    time.sleep(600)
MlflowClient.update_model_version = stuck
app(["register", "--model-uri", {uri!r}, "--allow-unevaluated", "--config", {config!r}])
"""


@pytest.mark.e2e
def test_kill_9_mid_register_then_the_rerun_completes_that_version(registry: Path) -> None:
    import mlflow

    with mlflow.start_run():
        logged = mlflow.initialize_logged_model(name="m")
        mlflow.finalize_logged_model(logged.model_id, "READY")
    uri = f"models:/{logged.model_id}"
    child = _child(registry, KILLED_MID_REGISTER.format(uri=uri, config=str(registry)))
    _kill_9_once_reached(child, registry.parent)
    client = mlflow.MlflowClient()
    (half,) = [v for v in client.search_model_versions(f"name = '{NAME}'") if v.tags.get("ragctl.model_uri") == uri]
    assert not half.description, "killed before the version was completed"
    again = cli(registry, "register", "--model-uri", uri, "--allow-unevaluated")
    assert (again["version"], again["reused"]) == (str(half.version), True), "the same version, not a copy"
    assert "Not evaluated" in client.get_model_version(NAME, half.version).description
    assert len(client.search_model_versions(f"name = '{NAME}'")) == 4
    runs = mlflow.search_runs(search_all_experiments=True, filter_string="tags.`ragctl.stage` = 'register'")
    assert sorted(runs["status"]) == ["FINISHED", "KILLED"], "none left RUNNING"
