"""README tables are checked against the code so they cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel
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


def test_every_command_in_help_is_in_the_readme_tour() -> None:
    output = CliRunner().invoke(app, ["--help"]).output
    for command in ("ingest", "assemble", "evaluate", "register", "promote", "query", "status", "config"):
        assert f" {command} " in output
        assert f"`ragctl {command}" in README
