"""The collection's search index (retrieval/index/), rebuilt at the end of every ingest that changed the
collection, so a chain reads it instead of the whole collection. The marker is cleared before the first
write and set only once the new index is saved: a crash in between leaves a collection whose chains build
the index in memory (and say so), and whose next ingest rebuilds it."""

from __future__ import annotations

import time
from typing import Any

from ragctl.session import Session


def is_current(session: Session, collection: Any, digest: str) -> bool:
    """The collection is marked as indexed at this content and, beside an embedded store, the index's
    folder is there to read (a server's readers download it by the marker's URI)."""
    from ragctl.retrieval.index import find, marker

    if session.store.mode != "persistent":
        return marker.marked(collection)[0] == digest
    return find.saved_digest(collection, session.store) == digest


def clear(collection: Any) -> None:
    from ragctl.retrieval.index import marker

    marker.unmark(collection)


def base(session: Session, collection: Any) -> str:
    """Before the first write: the digest of the saved index that is of the collection as it is, or ""."""
    from ragctl.retrieval.index import find

    return find.saved_digest(collection, session.store)


def rebuild(
    session: Session, collection: Any, digest: str, run_id: str, base: str = "", changed: set[str] | None = None
) -> tuple[float, int]:
    """Save the index of the collection as it is now: the index `base` updated with the `changed` files'
    chunks when there is one (see base()), else built from every chunk. Returns the seconds it took and
    how many files' chunks it read."""
    from ragctl.retrieval.index import find, marker

    started = time.perf_counter()
    with session.reporter.task("Indexing for search", total=None):
        place, read = find.save_for(collection, session.store, digest, base, changed)
        uri = ""
        if session.store.mode != "persistent":  # a server's readers are elsewhere: they download it
            import mlflow

            mlflow.log_artifacts(str(place), "search-index", run_id=run_id)
            uri = f"runs:/{run_id}/search-index"
        marker.mark(collection, digest, uri)
        find.prune(session.store, keep=digest)
    return time.perf_counter() - started, read
