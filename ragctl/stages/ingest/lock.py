"""One writer per collection. Embedded store: an OS file lock beside the index (released by the kernel
if the holder dies, even by kill -9). Chroma server: a lease record in the manifest collection, renewed
while the run works; a lease whose holder died on this host, or that expired, is taken over."""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ragctl.config.model import VectorStoreConfig
from ragctl.errors import BusyError
from ragctl.records.manifest import SUFFIX

LEASE_ID = "__lease__"
LEASE_SECONDS = 600.0


def holder() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid(), "since": time.strftime("%Y-%m-%d %H:%M:%S")}


def _busy(collection: str, who: dict[str, Any], wait: float) -> BusyError:
    waited = f" after waiting {wait:g} s" if wait else ""
    return BusyError(
        f"another ingest into collection '{collection}' is running{waited} "
        f"(pid {who.get('pid', '?')} on {who.get('host', '?')}, since {who.get('since', '?')})",
        "wait for it to finish, or pass --wait SECONDS to queue behind it",
    )


@contextmanager
def collection_lock(config: VectorStoreConfig, client: Any, wait: float = 0.0) -> Iterator[Any]:
    """Hold the collection for the duration; yields a `renew()` callable to call now and then."""
    if config.mode == "persistent":
        with _file_lock(config, wait):
            yield lambda: None
    else:
        with _lease(client, config.collection, wait) as renew:
            yield renew


@contextmanager
def _file_lock(config: VectorStoreConfig, wait: float) -> Iterator[None]:
    from filelock import FileLock, Timeout

    folder = Path(config.path).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{config.collection}.ragctl.lock"
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=wait)
    except Timeout:
        try:
            who = json.loads((folder / f"{config.collection}.ragctl.holder").read_text())
        except (OSError, ValueError):
            who = {}
        raise _busy(config.collection, who, wait) from None
    try:
        (folder / f"{config.collection}.ragctl.holder").write_text(json.dumps(holder()))
        yield
    finally:
        lock.release()


def _alive_here(who: dict[str, Any]) -> bool:
    if who.get("host") != socket.gethostname():
        return True  # cannot tell from here: trust the expiry
    try:
        os.kill(int(who["pid"]), 0)
    except (ProcessLookupError, ValueError, KeyError, TypeError):
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def _lease(client: Any, collection: str, wait: float) -> Iterator[Any]:
    store = client.get_or_create_collection(collection + SUFFIX)
    token = uuid.uuid4().hex
    me = {**holder(), "token": token}

    def current() -> dict[str, Any]:
        got = store.get(ids=[LEASE_ID], include=["documents"])
        return json.loads(got["documents"][0]) if got["ids"] else {}

    def write() -> None:
        doc = json.dumps({**me, "expires": time.time() + LEASE_SECONDS})
        store.upsert(ids=[LEASE_ID], embeddings=[[1.0]], documents=[doc], metadatas=[{"kind": "lease"}])

    deadline = time.monotonic() + wait
    while True:
        other = current()
        free = not other or other.get("expires", 0) < time.time() or not _alive_here(other)
        if free:
            write()
            time.sleep(0.2)  # a concurrent taker's write lands by now; the last writer wins
            if current().get("token") == token:
                break
        if time.monotonic() >= deadline:
            raise _busy(collection, current() or other, wait)
        time.sleep(1.0)
    try:
        yield write
    finally:
        if current().get("token") == token:
            store.delete(ids=[LEASE_ID])
