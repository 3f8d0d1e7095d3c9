"""One writer at a time, for an ingest into a collection and for the alias moves of a registered model.

Beside a local store: an OS file lock (released by the kernel if the holder dies, even by kill -9). On a
server: a lease record (a Chroma record, a registered-model tag) renewed while held, and taken over once it
expired or when its holder died on this host."""

from __future__ import annotations

import json
import os
import re
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from ragctl.errors import BusyError
from ragctl.session import Session, is_local, resolved_uri

LEASE_SECONDS = 600.0
MOVES_LEASE_TAG = "ragctl.lease"  # on a registered model: who is moving its aliases


def holder() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid(), "since": time.strftime("%Y-%m-%d %H:%M:%S")}


def busy(subject: str, who: dict[str, Any], wait: float) -> BusyError:
    waited = f" after waiting {wait:g} s" if wait else ""
    return BusyError(
        f"another {subject} is running{waited} "
        f"(pid {who.get('pid', '?')} on {who.get('host', '?')}, since {who.get('since', '?')})",
        "wait for it to finish, or pass --wait SECONDS to queue behind it",
    )


def alive_here(who: dict[str, Any]) -> bool:
    """Whether the holder may still be alive: False only for a process of this host that is gone."""
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
def file_lock(stem: Path, subject: str, wait: float) -> Iterator[None]:
    """`stem`.lock held for the duration; `stem`.holder says who holds it."""
    from filelock import FileLock, Timeout

    stem.parent.mkdir(parents=True, exist_ok=True)
    lock, who_file = FileLock(f"{stem}.lock"), Path(f"{stem}.holder")
    try:
        lock.acquire(timeout=wait)
    except Timeout:
        try:
            who = json.loads(who_file.read_text())
        except (OSError, ValueError):
            who = {}
        raise busy(subject, who, wait) from None
    try:
        who_file.write_text(json.dumps(holder()))
        yield
    finally:
        lock.release()


@contextmanager
def lease(
    read: Callable[[], dict[str, Any]],
    write: Callable[[dict[str, Any]], None],
    clear: Callable[[], None],
    subject: str,
    wait: float,
) -> Iterator[Callable[[], None]]:
    """Hold a lease kept by `read`/`write`/`clear`; yields `renew()`, to call now and then."""
    me = {**holder(), "token": uuid.uuid4().hex}

    def renew() -> None:
        write({**me, "expires": time.time() + LEASE_SECONDS})

    deadline = time.monotonic() + wait
    while True:
        other = read()
        if not other or other.get("expires", 0) < time.time() or not alive_here(other):
            renew()
            time.sleep(0.2)  # a concurrent taker's write lands by now; the last writer wins
            if read().get("token") == me["token"]:
                break
        if time.monotonic() >= deadline:
            raise busy(subject, read() or other, wait)
        time.sleep(1.0)
    try:
        yield renew
    finally:
        # A store gone mid-command must not hide why the command stopped; the lease then expires, and a
        # taker on this host sees at once that its holder is dead.
        with suppress(Exception):
            if read().get("token") == me["token"]:
                clear()


@contextmanager
def moves_lock(session: Session, name: str, wait: float = 0.0) -> Iterator[None]:
    """Hold the alias moves of a registered model (BusyError after `wait` seconds)."""
    subject = f"alias move of model '{name}'"
    uri = resolved_uri(session.config.tracking.uri)
    if is_local(uri):
        folder = Path(uri.removeprefix("sqlite:///")).parent if uri.startswith("sqlite:///") else Path(".ragctl")
        with file_lock(folder / f"{re.sub(r'[^A-Za-z0-9._-]+', '_', name)}.ragctl-moves", subject, wait):
            yield
        return
    from mlflow.exceptions import MlflowException

    client = session.mlflow
    try:
        client.get_registered_model(name)
    except MlflowException:  # no such model: no alias to move, nothing to hold (the caller refuses)
        yield
        return

    def read() -> dict[str, Any]:
        try:
            return dict(json.loads(client.get_registered_model(name).tags.get(MOVES_LEASE_TAG) or "{}"))
        except ValueError:
            return {}

    def write(value: dict[str, Any]) -> None:
        client.set_registered_model_tag(name, MOVES_LEASE_TAG, json.dumps(value))

    with lease(read, write, lambda: client.delete_registered_model_tag(name, MOVES_LEASE_TAG), subject, wait):
        yield
