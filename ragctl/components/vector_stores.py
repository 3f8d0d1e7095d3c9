"""Chroma, embedded (`PersistentClient`) or a server (`HttpClient`): the choice is `vector_store.mode`.

The collection a command works on is `vector_store` with the RAGCTL_CHROMA_PATH (embedded) or
RAGCTL_CHROMA_HOST/RAGCTL_CHROMA_PORT (server) overrides applied: the same for a loaded chain, evaluate's
collection digest and promote's collection gate.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragctl.config.model import VectorStoreConfig
from ragctl.errors import BusyError, ConfigError, DataError, ServiceError

if TYPE_CHECKING:
    from concurrent.futures import Future


def with_overrides(settings: VectorStoreConfig | dict[str, Any]) -> VectorStoreConfig:
    """The vector-store settings (a config section, or the dict a logged chain stores) with the
    RAGCTL_CHROMA_* environment overrides applied."""
    values = settings.model_dump() if isinstance(settings, VectorStoreConfig) else dict(settings)
    if os.environ.get("RAGCTL_CHROMA_PATH"):
        values.update(mode="persistent", path=os.environ["RAGCTL_CHROMA_PATH"])
    if os.environ.get("RAGCTL_CHROMA_HOST"):
        values.update(mode="http", host=os.environ["RAGCTL_CHROMA_HOST"])
    if os.environ.get("RAGCTL_CHROMA_PORT"):
        values.update(port=int(os.environ["RAGCTL_CHROMA_PORT"]))
    return VectorStoreConfig.model_validate(values)


def embedded_folder(config: VectorStoreConfig) -> Path:
    """The embedded store's folder, absolute; a ConfigError, before any work, when the path is a file."""
    path = Path(config.path).resolve()
    if path.exists() and not path.is_dir():
        raise ConfigError(
            f"vector_store.path: {config.path} is a file, not a folder",
            "point vector_store.path (or RAGCTL_CHROMA_PATH) at a folder; Chroma creates a missing one",
        )
    return path


def chroma_client(config: VectorStoreConfig) -> Any:
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False)
    if config.mode == "persistent":
        # Absolute: chromadb caches clients by path string, so a relative one would outlive a chdir.
        path = embedded_folder(config)
        try:
            return chromadb.PersistentClient(path=str(path), settings=settings)
        except Exception as exc:  # chromadb's InternalError or an OSError from its Rust store, unnamed
            raise DataError(
                f"cannot open the Chroma store at {config.path}: {exc}",
                "check that the folder is a Chroma store this user can write",
            ) from None
    try:
        return chromadb.HttpClient(host=config.host, port=config.port, ssl=config.ssl, settings=settings)
    except Exception as exc:  # chromadb raises plain ValueError/ConnectionError here
        raise ServiceError(
            f"cannot reach Chroma at {config.host}:{config.port}: {exc}",
            "start it with `chroma run` or check vector_store.host/port",
        ) from None


def describe(config: VectorStoreConfig) -> str:
    where = config.path if config.mode == "persistent" else f"{config.host}:{config.port}"
    return f"chroma {config.mode} {where} / {config.collection}"


def check_embedded(config: VectorStoreConfig) -> None:
    """A DataError when the configured store is embedded and its folder is not there. Called before any
    client is made by whatever only reads: Chroma's client would create an empty store there (a chain
    loaded from the wrong folder, a mistyped RAGCTL_CHROMA_PATH). The path is said absolute: a relative one
    is read from the working directory, which is what was most likely wrong."""
    if config.mode == "persistent" and not embedded_folder(config).exists():
        raise DataError(
            f"collection '{config.collection}' not found: there is no Chroma store at {embedded_folder(config)}",
            "run `ragctl ingest` first, or point vector_store (or RAGCTL_CHROMA_PATH) at the index",
        )


def open_collection(
    config: VectorStoreConfig, create: bool = False, metadata: dict | None = None, client: Any = None
) -> Any:
    """The configured collection; with create=False a missing one is a clear error, not an empty index."""
    if not create and client is None:
        check_embedded(config)
    client = client or chroma_client(config)
    if create:
        return client.get_or_create_collection(config.collection, metadata={"hnsw:space": "cosine", **(metadata or {})})
    try:
        return client.get_collection(config.collection)
    except Exception:
        raise DataError(
            f"collection '{config.collection}' not found in {describe(config)}",
            "run `ragctl ingest` first, or point vector_store (or RAGCTL_CHROMA_PATH) at the index",
        ) from None


def start_loading(collection: Any) -> Future[None]:
    """Chroma reads a collection's vector index into memory on the first read of its vectors: 6.1 s at
    1,000,000 chunks embedded (bench/README.md), in Rust, without the GIL. Begun on a thread, it runs while
    the chain's other parts load; wait on the result before the first search, so that no search races it."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(1, thread_name_prefix="ragctl-chroma-load")
    try:
        return pool.submit(_load_vectors, collection)
    finally:
        pool.shutdown(wait=False)


def _load_vectors(collection: Any) -> None:
    first = collection.get(limit=1, include=["embeddings"])["embeddings"]
    if first is not None and len(first):  # a numpy array on an embedded store: no truth value
        collection.query(query_embeddings=[first[0]], n_results=1, include=[])


def writer_lock(config: VectorStoreConfig) -> Path:
    """The stem of the lock an ingest holds on an embedded collection (`.lock`, and `.holder`: who)."""
    return Path(config.path).resolve() / f"{config.collection}.ragctl"


def refuse_while_ingesting(config: VectorStoreConfig) -> None:
    """BusyError when an ingest is writing this embedded collection now. Chroma's embedded store is for one
    process at a time: a second process that opens it mid-write can leave it unreadable (seen here: an HNSW
    file holding fewer vectors than its metadata, and a crash on every open after). A server has no such
    limit. The probe takes the ingest's lock shared for an instant and lets go at once."""
    import fcntl
    import json

    if config.mode != "persistent" or not Path(f"{writer_lock(config)}.lock").exists():
        return
    with open(f"{writer_lock(config)}.lock", "rb") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                who = json.loads(Path(f"{writer_lock(config)}.holder").read_text())
            except (OSError, ValueError):
                who = {}
            raise BusyError(
                f"an ingest into collection '{config.collection}' is writing the embedded store at {config.path} "
                f"(pid {who.get('pid', '?')} since {who.get('since', '?')}); reading it from another process now "
                "can corrupt it",
                "wait for the ingest to finish, or keep a collection that changes while it serves on a Chroma "
                "server (vector_store.mode: http)",
            ) from None
        fcntl.flock(fh, fcntl.LOCK_UN)
