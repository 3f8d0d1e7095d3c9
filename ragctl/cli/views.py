"""Read-only commands: ask the promoted chain, show the state of the project, show the resolved config."""

from __future__ import annotations

from typing import Annotated

import typer

from ragctl.cli.options import ConfigOpt, JsonOpt, ModelUriOpt, SetOpt, load, session
from ragctl.secrets import redact


def query(
    question: Annotated[str, typer.Argument(help="The question to ask")],
    config: ConfigOpt = None,
    set_: SetOpt = None,
    json_: JsonOpt = False,
    model_uri: ModelUriOpt = None,
) -> None:
    """Ask a chain (default: models:/<registry.model_name>@champion) and show the answer with its sources."""
    from ragctl.cli import render
    from ragctl.stages import inspect

    active = session(config, set_, json_)
    with active.reporter.task("Loading the chain and answering", total=None):
        result = inspect.query(active, question, model_uri)
    if json_:
        render.emit_json(result)
        return
    cited = result.get("citation") or {}
    esc = render.esc
    page = f", page {cited['page']}" if cited.get("page") else ""
    where = f"  [dim]({esc(str(cited['file']))}{page})[/dim]" if cited else ""
    answer = esc(result["answer"] or "(no answer)")
    render.out.print(f"[bold]Q:[/bold] {esc(question)}\n[bold]A:[/bold] {answer}{where}", highlight=False)
    rows = [[s["file"], s.get("page") or "", f"{s['score']:.3f}"] for s in result["sources"]]
    render.table(f"Sources ({result['model_uri']})", ["file", "page", "score"], rows)
    if result.get("trace_id"):
        render.out.print(f"MLflow trace: {result['trace_id']}", highlight=False, markup=False)


def status(config: ConfigOpt = None, set_: SetOpt = None, json_: JsonOpt = False) -> None:
    """Tracking store, registered model and aliases, the collection, and the last run of each stage."""
    from ragctl.cli import render
    from ragctl.stages import inspect

    result = inspect.status(session(config, set_, json_))
    if json_:
        render.emit_json(result)
        return
    render.key_values(
        "ragctl status",
        {
            "tracking URI": result.tracking_uri,
            "experiment": result.experiment,
            "model": result.model_name,
            "aliases": ", ".join(f"{a} -> v{v}" for a, v in result.aliases.items()) or "none",
            "collection": f"{result.collection} ("
            + ", ".join([*([f"{result.chunks} chunks"] if result.chunks is not None else []), result.collection_state])
            + ")",
        },
    )
    rows = [
        [stage, run["run_name"], run["run_id"]] if run else [stage, "never", ""]
        for stage, run in result.last_runs.items()
    ]
    render.table("Last runs", ["stage", "run", "run id"], rows)


def config(config: ConfigOpt = None, set_: SetOpt = None, json_: JsonOpt = False) -> None:
    """Validate the config and print it with every default filled in."""
    import yaml

    cfg = load(config, set_)
    data = cfg.recorded()
    if json_:
        from ragctl.cli import render

        render.emit_json(data)
    else:
        typer.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120))


def history(
    alias: Annotated[str, typer.Option("--alias", "-a", help="The alias whose moves to list")] = "champion",
    config: ConfigOpt = None,
    set_: SetOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Every move of an alias: when, promote or rollback, from, to, who, why, overrides, the run."""
    from ragctl.cli import render
    from ragctl.errors import UsageError
    from ragctl.records import models as registry
    from ragctl.records.moves import history as alias_moves

    if not alias.strip():
        raise UsageError("--alias is empty", "name an alias, e.g. --alias champion")
    active = session(config, set_, json_)
    moves = alias_moves(active, alias)
    if json_:
        render.emit_json(moves)
    elif moves:
        render.history(alias, moves)
    else:  # an empty table reads as a fault; a mistyped alias shows beside the real ones
        name = active.config.registry.model_name
        known = ", ".join(f"@{a}" for a in sorted(registry.aliases(active, name))) or "none yet"
        render.out.print(f"@{alias} of {name} has never moved (its aliases: {known})", highlight=False, markup=False)


def models(config: ConfigOpt = None, set_: SetOpt = None, json_: JsonOpt = False) -> None:
    """The registered versions with their aliases, evaluation metrics and collection fingerprint."""
    from ragctl.cli import render
    from ragctl.records.moves import versions

    active = session(config, set_, json_)
    rows = versions(active)
    name = active.config.registry.model_name
    if json_:
        render.emit_json(rows)
    elif rows:
        render.versions(name, rows, ("hit_rate", "mrr", "token_f1", "latency_p95"))
    else:  # the store is named: an empty answer is most often the wrong store or model name
        registry = active.config.tracking.registry_uri or active.config.tracking.uri
        render.out.print(
            f"no version of {name} is registered in {redact(registry)} yet; `ragctl register` makes one",
            highlight=False,
            markup=False,
        )


def lineage(
    model: Annotated[str, typer.Argument(help="models:/NAME@ALIAS, models:/NAME/N, or an alias or version number")] = (
        "champion"
    ),
    config: ConfigOpt = None,
    set_: SetOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Where a registered chain comes from: assemble run, ingest run, collection and files, evaluations, moves."""
    from ragctl.cli import render
    from ragctl.stages import lineage as stage

    found = stage.trace(session(config, set_, json_), model)
    if json_:
        render.emit_json(found)
    else:
        render.lineage(found)
