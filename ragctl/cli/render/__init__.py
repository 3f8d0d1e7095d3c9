"""All terminal output: rich tables and progress on the way, and JSON for machines. The shared pieces live
here; what each command shows, in `reports` (ingest, evaluate, dataset) and `registry` (promote, history,
models, lineage), re-exported below so callers write `render.<what>`."""

from __future__ import annotations

from ragctl.cli.render.console import (
    RichReporter,
    emit_json,
    err,
    error,
    esc,
    key_values,
    out,
    reporter,
    run_footer,
    styled,
    table,
)
from ragctl.cli.render.registry import history, lineage, promotion, versions
from ragctl.cli.render.reports import evaluation_report, generation_report, ingest_report

__all__ = [
    "RichReporter",
    "emit_json",
    "err",
    "error",
    "esc",
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
    "styled",
    "table",
    "versions",
]
