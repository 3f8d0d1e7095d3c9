"""The index a retriever searches with; the same object whether built in memory or memory-mapped from disk."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SearchIndex:
    ids: Any  # bytes array: position -> chunk id (utf-8)
    files: list[str]  # the files, in corpus order
    starts: Any  # int64, len(files) + 1: file i's chunks are the rows starts[i]:starts[i + 1]
    titles: dict[str, str]  # file -> title ("" without chunking.context)
    pages: Any  # int32 per position: the chunk's page, or -1 for a file without pages
    vectors: Any  # float32 rows of unit length, one per position
    keyword: Any  # KeywordIndex
    parts: dict[str, Any] = field(default_factory=dict)  # part -> the positions of the pages under it
    digest: str = ""  # the collection content it was built from ("" when built in memory for one load)
    texts: Any = None  # Texts: each chunk's text and metadata (None in an index saved without them)
    by_id: Any = None  # int64: the positions in the order of their ids, to find a chunk Chroma named

    @classmethod
    def empty(cls, digest: str = "") -> SearchIndex:
        import numpy as np

        from ragctl.retrieval.keyword import KeywordIndex

        return cls(
            np.zeros(0, "S1"), [], np.zeros(1, np.int64), {}, np.zeros(0, np.int32), np.zeros((0, 0), np.float32),
            KeywordIndex(), digest=digest,
        )  # fmt: skip

    def __post_init__(self) -> None:
        self._number = {f: i for i, f in enumerate(self.files)}  # file -> its place in `files`

    def __len__(self) -> int:
        return len(self.ids)

    def id(self, position: int) -> str:
        return bytes(self.ids[position]).decode()

    def position(self, chunk_id: str) -> int | None:
        """The corpus position of the chunk with this id, or None (a binary search through `by_id`)."""
        import numpy as np

        if self.by_id is None or not len(self.ids):
            return None
        target = chunk_id.encode()  # cut to the array's width by the search: the match is checked whole
        at = int(np.searchsorted(self.ids, np.array(target, dtype=self.ids.dtype), sorter=self.by_id))
        if at < len(self.by_id) and bytes(self.ids[self.by_id[at]]) == target:
            return int(self.by_id[at])
        return None

    def block(self, file: str) -> tuple[int, int]:
        """The rows first:end of the file's chunks."""
        number = self._number[file]
        return int(self.starts[number]), int(self.starts[number + 1])

    def rows(self, files: list[str]) -> Any:
        """The positions of the given files' chunks."""
        import numpy as np

        number = self._number
        return np.concatenate(
            [np.arange(self.starts[number[f]], self.starts[number[f] + 1]) for f in files if f in number]
            or [np.zeros(0, dtype=np.int64)]
        )

    def file_of(self, position: int) -> str:
        import numpy as np

        return self.files[int(np.searchsorted(self.starts, position, side="right")) - 1]

    def page_of(self, position: int) -> tuple[str, Any]:
        """(file, page) as retrieval/pages.py's page_of gives it from a chunk's metadata."""
        page = int(self.pages[position])
        return self.file_of(position), (None if page < 0 else page)
