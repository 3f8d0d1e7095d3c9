"""`ragctl init`: a commented ragctl.yaml for the user's own documents, a QA-set template, and .gitignore
lines for the state folder. Never overwrites a file unless asked to."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

from ragctl.errors import UsageError

STATE_IGNORES = [".ragctl/"]


@dataclass
class InitResult:
    directory: str
    written: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def _name(directory: Path) -> str:
    """A collection and model name from the folder name (Chroma's rule: 3-512 of [a-zA-Z0-9._-])."""
    import unicodedata

    # Accents folded first (données -> donnees), then what Chroma refuses becomes "-".
    folded = unicodedata.normalize("NFKD", directory.resolve().name).encode("ascii", "ignore").decode()
    name = re.sub(r"[^a-zA-Z0-9._-]+", "-", folded).strip("-._") or "ragctl"
    return name if len(name) >= 3 else f"{name}-rag"


def init(directory: Path, docs: str = "docs", force: bool = False) -> InitResult:
    try:
        return _write(directory, docs, force)
    except OSError as exc:  # a folder that cannot be made or written, or a file in its place
        where = exc.filename or directory
        reason = exc.strerror or exc
        raise UsageError(
            f"cannot write the project at {where}: {reason}", "give a folder this user can create and write"
        ) from None


def _write(directory: Path, docs: str, force: bool) -> InitResult:
    directory.mkdir(parents=True, exist_ok=True)
    result = InitResult(str(directory))
    config, qa = directory / "ragctl.yaml", directory / "qa.jsonl"
    if config.exists() and not force:
        raise UsageError(f"{config} already exists", "edit it, or pass --force to overwrite it")
    template = files("ragctl").joinpath("templates/ragctl.yaml").read_text(encoding="utf-8")
    text = template.replace("{name}", _name(directory)).replace("{docs}", docs).replace("{qa}", qa.name)
    config.write_text(text, encoding="utf-8")
    result.written.append(str(config))
    if qa.exists() and not force:
        result.kept.append(str(qa))
    else:
        qa.write_text(files("ragctl").joinpath("templates/qa.jsonl").read_text(encoding="utf-8"), encoding="utf-8")
        result.written.append(str(qa))
    ignore = directory / ".gitignore"
    present = ignore.read_text(encoding="utf-8").splitlines() if ignore.exists() else []
    missing = [line for line in STATE_IGNORES if line not in present]
    if missing:
        prefix = "\n" if present and not ignore.read_text(encoding="utf-8").endswith("\n") else ""
        with ignore.open("a", encoding="utf-8") as handle:
            handle.write(prefix + "# ragctl state (MLflow store, Chroma index)\n" + "\n".join(missing) + "\n")
        result.written.append(str(ignore))
    (directory / docs).mkdir(parents=True, exist_ok=True)
    return result
