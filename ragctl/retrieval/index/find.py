"""Where a collection's search index lives, and how a chain finds it.

Beside an embedded store: `<vector_store.path>/ragctl-index/<collection>/<digest>/`, written by the ingest
that holds the collection's lock. For a Chroma server: the ingest logs the folder as an artifact of its
MLflow run and records its URI in the collection (marker.py); a chain elsewhere downloads it once into
`$RAGCTL_CACHE_DIR/index/<digest>/` (default ~/.cache/ragctl) and memory-maps it from there.

A chain whose collection has no current index (changed behind ragctl's back, ingested by an older ragctl,
or its artifact unreachable) says so in a warning and builds one in memory for this load: slower to start,
the same answers."""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragctl.config.model import VectorStoreConfig
from ragctl.retrieval.index import disk, marker
from ragctl.retrieval.index.model import SearchIndex

log = logging.getLogger("ragctl")


@dataclass
class Found:
    index: SearchIndex
    source: str  # "saved" (read from disk), "downloaded" (then read), or "built" (in memory, for this load)
    note: str = ""  # why it was built, when it was


def cache_root() -> Path:
    from ragctl.env import cache_dir

    return cache_dir() / "index"  # content-addressed: one folder per digest, whoever's collection it is


def root(store: VectorStoreConfig) -> Path:
    """The folder that holds the collection's index folders (one per digest)."""
    if store.mode == "persistent":
        return Path(store.path).resolve() / "ragctl-index" / store.collection
    return cache_root()


def folder(store: VectorStoreConfig, digest: str) -> Path:
    return root(store) / digest


def usable(place: Path, digest: str, chunks: int) -> bool:
    described = disk.meta(place)
    return described is not None and described.get("digest") == digest and described.get("chunks") == chunks


def saved_digest(collection: Any, store: VectorStoreConfig) -> str:
    """The digest of the index this machine holds of the collection as it is now (beside the store, or in
    the cache), or "". An ingest about to change the collection notes it, so that the index after it is
    an update of that one (update.py)."""
    digest, _ = marker.marked(collection)
    return digest if digest and usable(folder(store, digest), digest, collection.count()) else ""


def on_disk(collection: Any, store: VectorStoreConfig | None) -> Found | None:
    """The collection's current index if this machine has it, else None: for a dense-only chain, which
    searches Chroma alone and reads its kept chunks' text from the index's records when they are at hand,
    never worth a download or a build."""
    if store is None or not (digest := saved_digest(collection, store)):
        return None
    return Found(disk.load(folder(store, digest)), "saved")


def for_collection(collection: Any, store: VectorStoreConfig | None) -> Found:
    """The collection's index: read from disk when current, else downloaded, else built in memory."""
    from ragctl.retrieval.index.build import build

    if store is None:
        return Found(build(collection), "built")
    if (found := on_disk(collection, store)) is not None:
        return found
    digest, uri = marker.marked(collection)
    count = collection.count()
    note = f"collection '{store.collection}' has no current search index (ingested by an older ragctl, or changed)"
    if digest:
        place = folder(store, digest)
        if uri:
            try:
                _download(uri, place)
            except Exception as exc:  # unreachable tracking server or artifact store: still answer
                note = f"the search index of collection '{store.collection}' could not be downloaded ({exc})"
            else:
                if usable(place, digest, count):
                    return Found(disk.load(place), "downloaded")
        else:
            note = f"the search index of collection '{store.collection}' is not at {place}"
    log.warning("%s: building it in memory for this load (%d chunks); `ragctl ingest` saves one", note, count)
    return Found(build(collection), "built", note)


def _download(uri: str, place: Path) -> None:
    import mlflow

    partial = place.parent / f".{place.name}.{uuid.uuid4().hex[:8]}.download"
    partial.mkdir(parents=True)
    try:
        got = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(partial)))
        if place.exists():
            shutil.rmtree(place)
        os.replace(got, place)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def save_for(
    collection: Any, store: VectorStoreConfig, digest: str, base: str = "", changed: set[str] | None = None
) -> tuple[Path, int]:
    """Make the collection's index and save it where its readers look: an update of the index `base`
    with the chunks of the `changed` files when there is one, else built from every chunk. Returns the
    folder and how many files' chunks were read from the collection to make it."""
    from ragctl.retrieval.index.build import build
    from ragctl.retrieval.index.update import update

    if base and changed is not None and disk.meta(folder(store, base)) is not None:
        return update(disk.load(folder(store, base)), collection, changed, digest, folder(store, digest)), len(changed)
    index = build(collection, digest)
    return disk.save(index, folder(store, digest)), len(index.files)


def prune(store: VectorStoreConfig, keep: str) -> None:
    """Remove an embedded store's older index folders, once the collection is marked at `keep`: a chain
    that has one open keeps reading it (its files stay until it closes them), one starting finds `keep`."""
    if store.mode != "persistent" or not root(store).is_dir():
        return
    for other in root(store).iterdir():
        if other.name != keep and other.is_dir():
            shutil.rmtree(other, ignore_errors=True)
