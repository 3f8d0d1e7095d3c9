"""One content digest for everything ragctl identifies by value (settings, manifests, QA sets, run inputs)."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def digest(data: Any, length: int = 16) -> str:
    """The first `length` hex digits of the SHA-256 of `data` as canonical JSON (sorted keys)."""
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:length]
