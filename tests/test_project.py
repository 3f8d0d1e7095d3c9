"""Starting a project: `ragctl init`, finding ragctl.yaml by itself, and layered configs whose errors still
name the right file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragctl.cli.app import app
from ragctl.config.load import load_config
from ragctl.errors import ConfigError


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args))


def test_layers_merge_section_by_section_and_errors_name_the_layer(tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    base.write_text("retrieval:\n  top_k: 3\nllm:\n  temperature: 0.0\n  max_tokens: 40\n")
    prod = tmp_path / "prod.yaml"
    prod.write_text("# production\nllm:\n  max_tokens: 64\n")
    merged = load_config([base, prod])
    assert (merged.retrieval.top_k, merged.llm.temperature, merged.llm.max_tokens) == (3, 0.0, 64)
    prod.write_text("# production\n\nretrieval:\n  top_k: -1\n")
    with pytest.raises(ConfigError, match=r"prod\.yaml:4: retrieval\.top_k"):
        load_config([base, prod])
    base.write_text("retrieval:\n  top_k: 3\nllm:\n  temperature: 9\n")
    prod.write_text("llm:\n  max_tokens: 64\n")  # the same section, another key: the error is base's
    with pytest.raises(ConfigError, match=r"base\.yaml:4: llm\.temperature"):
        load_config([base, prod])


def test_config_layers_from_the_command_line_and_the_environment(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "a.yaml").write_text("retrieval: {top_k: 4}\n")
    (project / "b.yaml").write_text("llm: {max_tokens: 7}\n")
    printed = json.loads(run("config", "--json", "-c", "a.yaml", "-c", "b.yaml").stdout)
    assert (printed["retrieval"]["top_k"], printed["llm"]["max_tokens"]) == (4, 7)
    monkeypatch.setenv("RAGCTL_CONFIG", "b.yaml:a.yaml")
    printed = json.loads(run("config", "--json").stdout)
    assert (printed["retrieval"]["top_k"], printed["llm"]["max_tokens"]) == (4, 7)


def test_ragctl_yaml_is_found_before_configs_default(project: Path) -> None:
    (project / "configs").mkdir()
    (project / "configs" / "default.yaml").write_text("retrieval: {top_k: 5}\n")
    assert json.loads(run("config", "--json").stdout)["retrieval"]["top_k"] == 5
    (project / "ragctl.yaml").write_text("retrieval: {top_k: 6}\n")
    assert json.loads(run("config", "--json").stdout)["retrieval"]["top_k"] == 6


def test_init_writes_a_working_project_and_never_overwrites(project: Path) -> None:
    result = run("init", "team-docs", "--json")
    assert result.exit_code == 0, result.output
    folder = project / "team-docs"
    assert {Path(p).name for p in json.loads(result.stdout)["written"]} == {"ragctl.yaml", "qa.jsonl", ".gitignore"}
    assert (folder / "docs").is_dir() and ".ragctl/" in (folder / ".gitignore").read_text()
    config = load_config(folder / "ragctl.yaml")
    assert config.vector_store.collection == "team-docs" and config.registry.model_name == "team-docs-chain"
    assert "# " in (folder / "ragctl.yaml").read_text(), "commented for the reader"
    again = run("init", "team-docs")
    assert again.exit_code == 2 and "already exists" in again.output
    assert run("init", "team-docs", "--force").exit_code == 0
    assert (folder / ".gitignore").read_text().count(".ragctl/") == 1


def test_init_where_no_folder_can_be_made_is_a_usage_error(project: Path) -> None:
    (project / "taken").write_text("a file where the project would go")
    for where, reason in (("taken", "File exists"), ("/proc/ragctl-project", "No such file or directory")):
        result = run("init", where)
        assert result.exit_code == 2, result.output
        assert f"cannot write the project at {where}: {reason}" in result.output and "Traceback" not in result.output


def test_init_names_from_any_folder_name_and_says_how_to_get_there(project: Path) -> None:
    result = run("init", "Données 2026!")
    assert result.exit_code == 0, result.output
    config = load_config(project / "Données 2026!" / "ragctl.yaml")
    assert config.vector_store.collection == "Donnees-2026", "accents folded, the rest made safe for Chroma"
    assert "cd 'Données 2026!' && ragctl ingest" in " ".join(result.output.split()), "a line to paste"
