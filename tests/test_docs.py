"""README tables are checked against the code so they cannot drift."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer
from pydantic import BaseModel
from typer.core import TyperGroup as Group
from typer.testing import CliRunner

from ragctl.cli.app import app
from ragctl.config.model import RagctlConfig
from ragctl.errors import EXIT_CODES

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def leaf_keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    keys = set()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys |= leaf_keys(annotation, f"{prefix}{name}.")
        else:
            keys.add(prefix + name)
    return keys


def test_readme_documents_every_config_key_and_no_other() -> None:
    documented = set(re.findall(r"^\| `([a-z_]+(?:\.[a-z_]+)+)` \|", README, flags=re.M))
    assert documented == leaf_keys(RagctlConfig)


def test_readme_exit_codes_match_the_error_hierarchy() -> None:
    rows = dict(re.findall(r"^\| (\d) \| (.+?) \|$", README, flags=re.M))
    assert {int(k): v for k, v in rows.items()} == EXIT_CODES


def test_readme_starts_with_the_two_setup_commands() -> None:
    first_block = README.split("```")[1]
    assert "make demo" in first_block and "make test" in first_block


def commands(group: Any, prefix: str = "") -> list[str]:
    """Every leaf command of the typer app, as `dataset generate` for a group's subcommand."""
    found = []
    for name, command in group.commands.items():
        if isinstance(command, Group):
            found += commands(command, f"{prefix}{name} ")
        else:
            found.append(prefix + name)
    return sorted(found)


def test_every_command_of_the_app_is_in_help_and_the_readme_tour() -> None:
    every = commands(typer.main.get_command(app))
    assert {"ingest", "promote", "lineage", "init", "run", "dataset generate"} <= set(every)
    output = CliRunner().invoke(app, ["--help"]).output
    for command in every:
        assert f" {command.split()[0]} " in output, command
        assert f"`ragctl {command}" in README, command
