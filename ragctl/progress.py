"""How long work reports progress without printing: stages call a Reporter; the CLI passes one that draws."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

# advance(n=1, label=None, **stats): n more done; label says what is being worked on; stats are running
# figures to show beside the bar (pages=..., chunks=...).
Advance = Callable[..., None]


def _ignore(n: int = 1, label: str | None = None, **stats: object) -> None:
    """Progress advance that goes nowhere."""


class Reporter:
    """Progress sink. The default does nothing; the CLI passes one that draws rich progress bars."""

    @contextmanager
    def task(self, description: str, total: int | None) -> Iterator[Advance]:
        yield _ignore

    def note(self, message: str) -> None:
        """A one-line remark about work in progress (e.g. a file that was skipped)."""
