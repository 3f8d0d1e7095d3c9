"""All terminal output: rich tables and progress on the way, and JSON for machines. The shared pieces live
here; what each command shows, in `reports` (ingest, evaluate, dataset) and `registry` (promote, history,
models, lineage), re-exported below so callers write `render.<what>`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

from ragctl.errors import RagctlError
from ragctl.stages import Advance, Reporter

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
            task_id = progress.add_task(description, total=total, stats="")

            def advance(n: int = 1, label: str | None = None, **stats: object) -> None:
                progress.update(task_id, advance=n, description=f"{description} {label}" if label else description)
                if stats:
                    progress.tasks[task_id].fields["stats"] = " · ".join(f"{v} {k}" for k, v in stats.items())

            yield advance

    def note(self, message: str) -> None:
        err.print(f"[yellow]![/yellow] {message}", highlight=False)


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
    err.print(f"[bold red]Error:[/bold red] {exc.message}", highlight=False, markup=True)
    if exc.hint:
        err.print(f"[dim]hint:[/dim] {exc.hint}", highlight=False)


def run_footer(link: str) -> None:
    out.print(f"[dim]MLflow run:[/dim] {link}", highlight=False, soft_wrap=True)


def table(title: str, columns: list[str], rows: list[list[Any]], header: bool = True) -> None:
    grid = Table(title=title, title_justify="left", show_header=header)
    for column in columns:
        grid.add_column(column, overflow="fold")
    for row in rows:
        grid.add_row(*["" if v is None else str(v) for v in row])
    out.print(grid)


def key_values(title: str, pairs: dict[str, Any]) -> None:
    table(title, ["", ""], [[k, v] for k, v in pairs.items()], header=False)


from ragctl.cli.render.registry import history, lineage, promotion, versions  # noqa: E402
from ragctl.cli.render.reports import evaluation_report, generation_report, ingest_report  # noqa: E402

__all__ = [
    "RichReporter",
    "emit_json",
    "err",
    "error",
    "evaluation_report",
    "generation_report",
    "history",
    "ingest_report",
    "key_values",
    "lineage",
    "out",
    "promotion",
    "reporter",
    "run_footer",
    "table",
    "versions",
]
