"""`ragctl dataset ...`: QA sets for evaluation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ragctl.cli.options import ConfigOpt, JsonOpt, SetOpt, session

app = typer.Typer(help="Evaluation QA sets: generate one from the collection.", no_args_is_help=True)


@app.command()
def generate(
    n: Annotated[int, typer.Option("--n", "-n", help="Questions to generate", min=1)] = 20,
    seed: Annotated[int, typer.Option(help="Which chunks are drawn; same seed, same set")] = 0,
    output: Annotated[Path, typer.Option("--output", "-o", help="The QA set to write (JSONL)")] = Path(
        "qa.generated.jsonl"
    ),
    mlflow_dataset: Annotated[
        Optional[str], typer.Option(help="Also store the set as an MLflow GenAI evaluation dataset of this name")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace --output if it exists")] = False,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Synthetic QA pairs from the collection's chunks with the configured LLM, each naming its file and page."""
    from ragctl.cli import render
    from ragctl.stages import dataset as stage

    active = session(config, set_, json_)
    result = stage.run(active, n=n, seed=seed, output=output, mlflow_dataset=mlflow_dataset, force=force)
    if json_:
        render.emit_json(result)
        return
    render.generation_report(result)
    render.run_footer(active.run_link(result.run_id))


@app.command("from-reviews")
def from_reviews(
    queue: Annotated[str, typer.Argument(help="The review queue (e.g. 'ragctl-demo-chain v3')")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The QA set to write or merge into (JSONL)")],
    mlflow_dataset: Annotated[
        Optional[str], typer.Option(help="Also merge the items into this MLflow GenAI evaluation dataset")
    ] = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Experts' answers become QA items (tagged reviewed, with reviewer and trace); a later round merges in."""
    from ragctl.cli import render
    from ragctl.stages.review import to_dataset as stage

    active = session(config, set_, json_)
    result = stage.run(active, queue, output, mlflow_dataset)
    if json_:
        render.emit_json(result)
        return
    render.out.print(
        f"{result.output}: {result.written} items ({result.added} new, {result.replaced} replaced) "
        f"from review queue '{result.queue}'",
        highlight=False,
        markup=False,
    )
    if result.unresolved:
        rows = [[u.trace_id, u.question, u.why] for u in result.unresolved]
        render.table("Not made into items (nothing to guess from)", ["trace", "question", "why"], rows)
    render.run_footer(active.run_link(result.run_id))
