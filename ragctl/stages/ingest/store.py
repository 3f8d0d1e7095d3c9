"""The collection and its manifest, opened together; one kind of vectors per collection."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ragctl.components.vector_stores import embedded_folder
from ragctl.config.model import RagctlConfig, VectorStoreConfig
from ragctl.errors import ConfigError
from ragctl.records.manifest import Manifest
from ragctl.stages.ingest.work import Keys

EMBEDDING_KEY = "ragctl.embedding"


@dataclass
class Store:
    client: Any
    collection: Any  # None in a dry run against a store that does not exist yet
    manifest: Manifest


def settings(config: RagctlConfig) -> dict[str, Any]:
    return {"chunking": config.chunking.model_dump(), "embedding": config.embedding.identity()}


def _differences(old: dict[str, Any], new: dict[str, Any]) -> str:
    changes = [
        f"{section}.{key} {old.get(section, {}).get(key)!r} -> {value!r}"
        for section, values in new.items()
        for key, value in values.items()
        if old.get(section, {}).get(key) != value
    ]
    return ", ".join(changes) or "settings differ"


def _check(store: Store, config: RagctlConfig, name: str, keys: Keys) -> None:
    count = store.collection.count() if store.collection is not None else 0
    have = store.manifest.fingerprint
    if count == 0 or have == keys.fingerprint:
        return
    if have is None:
        raise ConfigError(
            f"collection '{name}' holds {count} chunks but no ragctl manifest "
            "(made by an older ragctl or another tool)",
            "`ragctl ingest --rebuild` re-embeds everything into it, or choose another vector_store.collection",
        )
    raise ConfigError(
        f"collection '{name}' was built with other settings "
        f"({_differences(store.manifest.meta.get('settings', {}), settings(config))}); "
        "adding to it would mix two kinds of vectors",
        "`ragctl ingest --rebuild` re-embeds everything, or choose another vector_store.collection",
    )


def open_store(client: Any, vs: VectorStoreConfig, config: RagctlConfig, keys: Keys, rebuild: bool = False) -> Store:
    """Open (creating) the collection and its manifest, checked against the config's fingerprint."""
    name = vs.collection
    if rebuild:
        for doomed in (name, Manifest(client, name).name):  # chunks first: a crash between leaves no mixing
            with contextlib.suppress(Exception):
                client.delete_collection(doomed)
    wanted = f"{config.embedding.type}/{config.embedding.model}"
    collection = client.get_or_create_collection(name, metadata={"hnsw:space": "cosine", EMBEDDING_KEY: wanted})
    store = Store(client, collection, Manifest.load(client, name, create=True))
    _check(store, config, name, keys)
    if store.manifest.fingerprint != keys.fingerprint:
        store.manifest.set_meta(fingerprint=keys.fingerprint, settings=settings(config))
    return store


def peek_store(connect: Callable[[], Any], vs: VectorStoreConfig, config: RagctlConfig, keys: Keys) -> Store | None:
    """The store as it is, for a dry run: writes nothing, and is None when there is no store yet (the
    client is asked for only then, so a dry run creates no index)."""
    if vs.mode == "persistent" and not (embedded_folder(vs) / "chroma.sqlite3").exists():
        return None
    client = connect()
    try:
        collection = client.get_collection(vs.collection)
    except Exception:
        collection = None
    store = Store(client, collection, Manifest.load(client, vs.collection, create=False))
    _check(store, config, vs.collection, keys)
    return store
