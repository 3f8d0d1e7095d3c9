"""The shared pieces of terminal output: the two consoles, progress bars, tables, JSON, errors.

Text from users and documents (file names, paths, questions, answers, reasons) may hold square brackets,
which Rich reads as markup: every such value goes through `esc` in a markup string, and table cells are
plain text unless passed as `styled(...)`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape as esc
from rich.table import Table
from rich.text import Text

from ragctl.errors import RagctlError
from ragctl.progress import Advance, Reporter
from ragctl.secrets import redact

out = Console()
err = Console(stderr=True)


class RichReporter(Reporter):
    """Progress bars on stderr, so stdout stays clean for results."""

    @contextmanager
    def task(self, description: str, total: int | None) -> Iterator[Advance]:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        columns = [SpinnerColumn(), TextColumn("{task.description}")]
        if total is not None:
            columns += [BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[stats]}"), TimeRemainingColumn()]
        with Progress(*columns, TimeElapsedColumn(), console=err, transient=False) as progress:
            task_id = progress.add_task(esc(description), total=total, stats="")

            def advance(n: int = 1, label: str | None = None, **stats: object) -> None:
                shown = f"{esc(description)} {esc(label)}" if label else esc(description)
                progress.update(task_id, advance=n, description=shown)
                if stats:
                    progress.tasks[task_id].fields["stats"] = " · ".join(f"{v} {k}" for k, v in stats.items())

            yield advance

    def note(self, message: str) -> None:
        err.print(f"[yellow]![/yellow] {esc(message)}", highlight=False, soft_wrap=True)


def reporter(json_mode: bool) -> Reporter:
    return Reporter() if json_mode else RichReporter()


def emit_json(data: Any) -> None:
    """A result (dataclass), or a list of them, as JSON on stdout."""
    if is_dataclass(data) and not isinstance(data, type):
        data = asdict(data)
    elif isinstance(data, list):
        data = [asdict(d) if is_dataclass(d) and not isinstance(d, type) else d for d in data]
    print(json.dumps(data, indent=2, default=str))


def error(exc: RagctlError) -> None:
    # Soft wrap: the terminal wraps the lines, so a long path stays whole when it is copied, and the
    # `file:line` after it is not split by a line break rich would insert.
    # A driver's message may quote the URI it failed on, password and all.
    err.print(f"[bold red]Error:[/bold red] {esc(redact(exc.message))}", highlight=False, soft_wrap=True)
    if exc.hint:
        err.print(f"[dim]hint:[/dim] {esc(redact(exc.hint))}", highlight=False, soft_wrap=True)


def run_footer(link: str) -> None:
    out.print(f"[dim]MLflow run:[/dim] {esc(redact(link))}", highlight=False, soft_wrap=True)


def table(title: str, columns: list[str], rows: list[list[Any]], header: bool = True) -> None:
    """A boxed table; where its words would not fit the terminal, the box goes (a rule under the header,
    columns two spaces apart), which gives back about two characters a column before any word is folded."""
    cells = [[v if isinstance(v, Text) else Text("" if v is None else str(v)) for v in row] for row in rows]
    grid = _grid(title, columns, cells, header, compact=False)
    if Console(width=10_000).measure(grid).minimum > out.width:
        grid = _grid(title, columns, cells, header, compact=True)
    out.print(grid)


def _grid(title: str, columns: list[str], cells: list[list[Text]], header: bool, compact: bool) -> Table:
    grid = Table(title=Text(title), title_justify="left", show_header=header)
    if compact:
        grid.box, grid.show_edge, grid.pad_edge, grid.collapse_padding = box.SIMPLE_HEAD, False, False, True
    for column in columns:
        grid.add_column(column, overflow="fold")
    for row in cells:
        grid.add_row(*row)
    return grid


def styled(text: str, style: str) -> Text:
    """A table cell shown in a style (cells are otherwise plain text)."""
    return Text(text, style=style)


def key_values(title: str, pairs: dict[str, Any]) -> None:
    table(title, ["", ""], [[k, v] for k, v in pairs.items()], header=False)
