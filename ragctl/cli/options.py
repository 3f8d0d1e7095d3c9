"""Options every command shares, and turning them into a validated config."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

if TYPE_CHECKING:
    from ragctl.config.model import RagctlConfig
    from ragctl.session import Session

# Looked for, in this order, in the working directory when neither --config nor $RAGCTL_CONFIG is given.
DISCOVERED = (Path("ragctl.yaml"), Path("configs/default.yaml"))

ConfigOpt = Annotated[
    Optional[list[Path]],
    typer.Option(
        "--config",
        "-c",
        help="YAML config; repeat to layer files, later ones win [default: $RAGCTL_CONFIG, else ragctl.yaml, "
        "else configs/default.yaml, else built-in defaults]",
        show_default=False,
    ),
]
SetOpt = Annotated[
    Optional[list[str]],
    typer.Option("--set", "-s", help="Override a config key, e.g. --set retrieval.top_k=5 (repeatable)"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout (no progress output)")]
ModelUriOpt = Annotated[
    Optional[str], typer.Option("--model-uri", "-m", help="An MLflow model URI (models:/..., runs:/...)")
]


def config_paths(paths: list[Path] | None) -> list[Path]:
    """The config files to layer: --config (repeatable), else $RAGCTL_CONFIG (os.pathsep-separated), else
    the first of DISCOVERED that exists, else none (built-in defaults)."""
    if paths:
        return list(paths)
    if os.environ.get("RAGCTL_CONFIG"):
        return [Path(p) for p in os.environ["RAGCTL_CONFIG"].split(os.pathsep) if p]
    return [next(p for p in DISCOVERED if p.is_file())] if any(p.is_file() for p in DISCOVERED) else []


def load(paths: list[Path] | None, overrides: list[str] | None) -> RagctlConfig:
    from ragctl.config.load import load_config

    return load_config(config_paths(paths), overrides)


def session(paths: list[Path] | None, overrides: list[str] | None, json_: bool) -> Session:
    """The command's session: the layered config, and progress bars unless --json."""
    from ragctl.cli import render
    from ragctl.session import Session

    return Session(load(paths, overrides), render.reporter(json_))
