"""Files a command writes where its user says (reports, QA sets): refused before the work when they
cannot be written, so that an hour of scoring or generating never ends in an OSError."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ragctl.errors import UsageError


def check_writable(option: str, path: str | Path) -> None:
    """A UsageError naming `option` unless `path` can be written: not a folder, under folders that are
    folders, and a parent folder this user can write (made now when missing)."""
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"{option} {target} is a directory", "give a file path, not a folder")
    parent = next((p for p in (target.parent, *target.parent.parents) if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise UsageError(f"{option} {target}: {parent} is a file, not a folder", "give another path")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"{option} {target}: cannot create {exc.filename or target.parent}: {exc.strerror or exc}",
            "give a path in a folder you can write",
        ) from None
    # A file made and removed, not os.access: that says yes to root in /proc and on some mounted shares.
    try:
        handle, probe = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".probe")
    except OSError as exc:
        raise UsageError(
            f"{option} {target}: cannot write in {target.parent}: {exc.strerror or exc}", "give another path"
        ) from None
    os.close(handle)
    os.unlink(probe)
