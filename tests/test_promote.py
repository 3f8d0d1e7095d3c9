"""Promotion gates on a real MLflow registry (SQLite). The registered model here is a trivial pyfunc:
what is under test is the alias bookkeeping, not the chain (the end-to-end test promotes the real one)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragctl.cli.app import app

NAME = "gate-test"


class _Echo:  # a plain python_model; MLflow wraps it
    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        return model_input


@pytest.fixture
def registry(project: Path) -> Path:
    import mlflow

    config = project / "ragctl.yaml"
    config.write_text(
        f'tracking: {{uri: "sqlite:///{project}/mlflow.db", artifact_location: {project}/artifacts}}\n'
        f"registry: {{model_name: {NAME}}}\nproject: {{experiment: gates}}\n"
    )
    mlflow.set_tracking_uri(f"sqlite:///{project}/mlflow.db")
    mlflow.set_experiment("gates")
    client = mlflow.MlflowClient()
    for verdict in ("true", "false"):
        with mlflow.start_run():
            info = mlflow.pyfunc.log_model(name="m", python_model=type("M", (mlflow.pyfunc.PythonModel, _Echo), {})())
        version = mlflow.register_model(info.model_uri, NAME)
        client.set_model_version_tag(NAME, version.version, "ragctl.eval_passed", verdict)
    return config


def promote(config: Path, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["promote", *args, "--config", str(config), "--json"])


def test_refuses_a_version_without_a_passing_evaluation(registry: Path) -> None:
    result = promote(registry, "--version", "2")
    assert result.exit_code == 1
    assert "evaluation status 'false'" in result.output


def test_promotes_records_previous_holder_and_moves_between_aliases(registry: Path) -> None:
    import mlflow

    first = json.loads(promote(registry, "--version", "1", "--alias", "challenger").stdout)
    assert (first["previous"], first["version"]) == (None, "1")
    moved = json.loads(promote(registry, "--from", "challenger", "--alias", "champion").stdout)
    assert moved["version"] == "1"
    forced = promote(registry, "--version", "2", "--alias", "champion", "--force", "--reason", "hotfix")
    assert forced.exit_code == 0, forced.output
    record = json.loads(forced.stdout)
    assert (record["previous"], record["version"], record["reason"]) == ("1", "2", "hotfix")
    params = mlflow.MlflowClient().get_run(record["run_id"]).data.params
    assert params["forced"] == "True" and params["from_version"] == "1" and params["to_version"] == "2"


def test_unknown_alias_or_version_is_refused(registry: Path) -> None:
    assert promote(registry, "--from", "nobody").exit_code == 1
    missing = promote(registry, "--version", "42")
    assert missing.exit_code == 1 and "(versions: 1, 2)" in missing.output
    assert promote(registry).exit_code == 2  # neither --version nor --from


def test_logged_model_id_resolves_every_models_uri_form(registry: Path) -> None:
    import mlflow

    from ragctl.tracking import logged_model_id

    model_id = mlflow.MlflowClient().get_model_version(NAME, "1").source.removeprefix("models:/")
    mlflow.MlflowClient().set_registered_model_alias(NAME, "champion", "1")
    assert model_id.startswith("m-")
    assert logged_model_id(f"models:/{model_id}") == model_id
    assert logged_model_id(f"models:/{NAME}/1") == model_id
    assert logged_model_id(f"models:/{NAME}@champion") == model_id
    assert logged_model_id("runs:/abc/chain") is None
