"""MLflow search filters, built from names and values instead of f-strings: every value is quoted, so an
alias, a path or a model name with a quote in it is searched for, not parsed as syntax."""

from __future__ import annotations

from ragctl.errors import UsageError
from ragctl.records import tags as t


def quote(value: object) -> str:
    """A string literal for MLflow's filter grammar. Single quotes unless the value holds one; a value
    holding both kinds cannot be a literal there (its SQL-like parser has no escape), so it is refused."""
    text = str(value)
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    raise UsageError(f"{text!r} holds both quote characters; MLflow cannot search for it", "use a name without quotes")


def runs(stage: str | None = None, status: str | None = "FINISHED", tags: dict[str, str] | None = None) -> str:
    """A run filter: a stage, a status (None: any) and tag equalities (keys are `records.tags` names)."""
    clauses = [f"tags.`{t.STAGE}` = {quote(stage)}"] if stage else []
    if status:
        clauses.append(f"attributes.status = {quote(status)}")
    clauses += [f"tags.`{key}` = {quote(value)}" for key, value in (tags or {}).items()]
    return " and ".join(clauses)


def versions(name: str) -> str:
    """A registry filter: every version of one registered model."""
    return f"name = {quote(name)}"
