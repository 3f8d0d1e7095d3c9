"""Each chunk's text and metadata as Chroma holds them, kept in the index so that a search reads the chunks
it keeps without a read from Chroma: at 1,000,000 chunks five rows of Chroma's SQLite file cost 4 / 11 ms
p50 / p95, a few microseconds here (bench/README.md). A copy of what the collection holds, made from it
with the rest of the index and keyed by the same digest, so it is never older than the collection.

One zlib-compressed JSON record per chunk, in corpus order, one after another in one file;
offsets[i]:offsets[i + 1] is chunk i's. Read with pread, not mapped, so copying a whole file through here
(update.py) adds nothing to the process's resident set."""

from __future__ import annotations

import json
import os
import tempfile
import zlib
from pathlib import Path
from typing import Any, BinaryIO

LEVEL = 1  # zlib's fastest: 2.8 KB of JSON a chunk (its llama-index node metadata mostly) to about a third
PIECE = 1 << 26  # bytes copied at a time


def encode(document: str, metadata: dict[str, Any]) -> bytes:
    return zlib.compress(json.dumps([document, metadata], ensure_ascii=False).encode(), LEVEL)


class Texts:
    """The records of an index's chunks: in a file of the index folder, or in an unnamed temporary file for
    an index built in memory."""

    def __init__(self, file: BinaryIO, offsets: Any) -> None:
        self._file = file  # kept open: the records are read through its descriptor
        self.offsets = offsets  # int64, one more than there are chunks

    @classmethod
    def open(cls, path: Path, offsets: Any) -> Texts:
        return cls(open(path, "rb"), offsets)  # open as long as the index is

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def get(self, position: int) -> tuple[str, dict[str, Any]]:
        """The chunk's (text, metadata)."""
        first, end = int(self.offsets[position]), int(self.offsets[position + 1])
        document, metadata = json.loads(zlib.decompress(os.pread(self._file.fileno(), end - first, first)))
        return document, metadata

    def copy(self, first: int, end: int, out: BinaryIO) -> int:
        """Write the records of rows first:end to `out`; returns how many bytes."""
        low, high = int(self.offsets[first]), int(self.offsets[end])
        for start in range(low, high, PIECE):
            out.write(os.pread(self._file.fileno(), min(PIECE, high - start), start))
        return high - low


class Spool:
    """Records added in the order Chroma returns the chunks, put in corpus order at the end: written to an
    unnamed temporary file as they come, so a build never holds a million of them."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by in_order()
        self._where: list[int] = []
        self._at = 0

    def add(self, documents: list[str], metadatas: list[dict[str, Any]]) -> None:
        records = [encode(d, m) for d, m in zip(documents, metadatas)]
        for record in records:
            self._where.append(self._at)
            self._at += len(record)
        self._file.write(b"".join(records))

    def in_order(self, order: Any) -> Texts:
        """The records, record order[i] as the i-th."""
        import numpy as np

        self._file.flush()
        where = np.asarray([*self._where, self._at], dtype=np.int64)
        sizes = np.diff(where)[order]
        out = tempfile.TemporaryFile()  # noqa: SIM115 - held by the Texts
        fd = self._file.fileno()
        batch: list[bytes] = []
        for row in np.asarray(order).tolist():
            batch.append(os.pread(fd, int(where[row + 1] - where[row]), int(where[row])))
            if len(batch) == 4096:
                out.write(b"".join(batch))
                batch = []
        out.write(b"".join(batch))
        out.flush()
        self._file.close()
        return Texts(out, np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64))
