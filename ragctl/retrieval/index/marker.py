"""Which search index a collection is at, kept in the collection's own Chroma metadata, so that every
reader of the collection (a chain on another machine, a served model) finds it with the collection.

`ragctl.index` is the digest of the content the index was built from; ingest clears it before it changes
the collection and sets it once the new index is saved, so a chain never trusts an index a crash left
behind. `ragctl.index_uri` says where an index of a Chroma server's collection can be downloaded from (an
MLflow artifact of the ingest run that built it)."""

from __future__ import annotations

from typing import Any

DIGEST = "ragctl.index"
URI = "ragctl.index_uri"


def marked(collection: Any) -> tuple[str, str]:
    """(digest, uri) of the collection's index; ("", "") when it has none that is current."""
    metadata = collection.metadata or {}
    return str(metadata.get(DIGEST) or ""), str(metadata.get(URI) or "")


def mark(collection: Any, digest: str, uri: str = "") -> None:
    # Chroma refuses a metadata update that repeats hnsw:* settings; the space itself stays as created.
    kept = {k: v for k, v in (collection.metadata or {}).items() if not k.startswith("hnsw:")}
    collection.modify(metadata={**kept, DIGEST: digest, URI: uri})


def unmark(collection: Any) -> None:
    if any(marked(collection)):
        mark(collection, "", "")
