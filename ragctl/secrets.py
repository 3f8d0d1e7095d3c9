"""Secrets kept out of what ragctl logs and prints: the password of a URI (`postgresql://user:pw@host/db`,
`https://user:pw@host`) is masked wherever a URI is shown or recorded; the URI itself stays as given for
the client that connects with it."""

from __future__ import annotations

import re

# scheme://user:password@ ; the user stays visible (it says which account), the password never does.
_USERINFO = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/@:\s]*):(?P<password>[^/@\s]+)@")
MASK = "***"


def redact(text: str) -> str:
    """`text` with the password of every URI in it masked."""
    return _USERINFO.sub(lambda m: f"{m['head']}:{MASK}@", text)


def has_password(uri: str) -> bool:
    return _USERINFO.search(uri) is not None
