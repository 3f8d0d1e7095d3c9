"""Options every command shares, and turning them into a validated config."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

if TYPE_CHECKING:
    from ragctl.config.model import RagctlConfig

DEFAULT_CONFIG = Path("configs/default.yaml")

ConfigOpt = Annotated[
    Optional[Path],
    typer.Option(
        "--config",
        "-c",
        help="YAML config [default: $RAGCTL_CONFIG, else configs/default.yaml, else built-in defaults]",
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


def config_path(path: Path | None) -> Path | None:
    if path is not None:
        return path
    if os.environ.get("RAGCTL_CONFIG"):
        return Path(os.environ["RAGCTL_CONFIG"])
    return DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None


def load(path: Path | None, overrides: list[str] | None) -> RagctlConfig:
    from ragctl.config.load import load_config

    return load_config(config_path(path), overrides)
