"""Chroma, embedded (`PersistentClient`) or a server (`HttpClient`): the choice is `vector_store.mode`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ragctl.config.model import VectorStoreConfig
from ragctl.errors import DataError, ServiceError


def chroma_client(config: VectorStoreConfig) -> Any:
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False)
    if config.mode == "persistent":
        # Absolute: chromadb caches clients by path string, so a relative one would outlive a chdir.
        return chromadb.PersistentClient(path=str(Path(config.path).resolve()), settings=settings)
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


def open_collection(config: VectorStoreConfig, create: bool = False, metadata: dict | None = None) -> Any:
    """The configured collection; with create=False a missing one is a clear error, not an empty index."""
    client = chroma_client(config)
    if create:
        return client.get_or_create_collection(config.collection, metadata={"hnsw:space": "cosine", **(metadata or {})})
    try:
        return client.get_collection(config.collection)
    except Exception:
        raise DataError(
            f"collection '{config.collection}' not found in {describe(config)}",
            "run `ragctl ingest` first, or point vector_store (or RAGCTL_CHROMA_PATH) at the index",
        ) from None
