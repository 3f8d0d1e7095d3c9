"""The search index of a collection: what the retriever needs beyond Chroma's own vector search, made when
the collection changes (by `ragctl ingest`) instead of every time a chain loads.

It holds, in the corpus order (chunks grouped by file): the chunk ids, each file's row block and title, each
chunk's page, the pages under each named part (retrieval.part_filter), the BM25 index with every chunk's
token ids, the unit-length chunk vectors the title and part filters search exactly, and each chunk's text
and metadata (texts.py), so a search reads the chunks it keeps without a read from Chroma. Saved as plain
arrays and memory-mapped when loaded, so a chain's start costs what it reads, not the collection's size.

Read in this order: model.py (the index) -> texts.py (the chunks' records) -> build.py (from a collection)
-> update.py (an earlier index plus the changed files' chunks) -> disk.py (save, load) -> marker.py (which
index a collection is at, in its Chroma metadata) -> find.py (where it is: beside an embedded store, or an
MLflow artifact cached by digest, and what a chain does when it is stale).
"""

from ragctl.retrieval.index.model import SearchIndex

__all__ = ["SearchIndex"]
