"""The root typer app: registers the commands and is the ONLY place that turns RagctlError into an exit code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer
from typer._click.core import Context as ClickContext  # typer 0.29 vendors click
from typer.core import TyperGroup

from ragctl import __version__
from ragctl.errors import EXIT_CODES, RagctlError


class _Group(TyperGroup):
    def invoke(self, ctx: ClickContext) -> Any:
        try:
            return super().invoke(ctx)
        except RagctlError as exc:
            from ragctl.cli import render

            render.error(exc)
            ctx.exit(exc.exit_code)
        except Exception as exc:
            from ragctl.errors import lost_service

            lost = lost_service(exc)
            if lost is None:
                raise
            from ragctl.cli import render

            render.error(lost)
            ctx.exit(lost.exit_code)
        except KeyboardInterrupt:
            after = _AFTER_INTERRUPT.get(ctx.invoked_subcommand or "", "")
            typer.echo(f"interrupted{'; ' + after if after else ''}", err=True)
            ctx.exit(130)


# What a stopped command left, for the commands that leave something: said so the user knows a re-run is safe.
_AFTER_INTERRUPT = {
    "ingest": "its run is marked KILLED; re-running ingest resumes without duplicates",
    "run": "the stage's run is marked KILLED; re-running resumes from the stages already done",
    "assemble": "its run is marked KILLED and later stages ignore it; re-run assemble",
    "evaluate": "its run is marked KILLED and gates nothing; re-run evaluate",
    "register": "its run is marked KILLED; re-running register reuses a version it already made",
    "promote": "a move stopped halfway is settled by the next promote, --rollback or history",
}


app = typer.Typer(
    cls=_Group,
    name="ragctl",
    help="From a folder of documents to a versioned, evaluated and promoted RAG chain, tracked in MLflow.\n\n"
    "Exit codes: " + "; ".join(f"{code} {meaning}" for code, meaning in EXIT_CODES.items()) + ".",
    no_args_is_help=True,
    add_completion=True,  # typer's --install-completion; completing stays as light as --help
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ragctl {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit")
    ] = False,
) -> None:
    import warnings

    from ragctl.env import apply_offline_defaults

    apply_offline_defaults()
    # MLflow's advice about schema inference and dataset sources is noise for ragctl's users.
    warnings.filterwarnings("ignore", category=UserWarning, module=r"mlflow\.")


def _register() -> None:
    from ragctl.cli import dataset, lifecycle, production, project, review, views

    panels: dict[str, list[Callable[..., None]]] = {
        "Start": [project.init, project.run],
        "Lifecycle": [lifecycle.ingest, lifecycle.assemble, lifecycle.evaluate, lifecycle.register, lifecycle.promote],
        "Production": [production.serve, production.feedback, production.monitor],
        "Inspect": [views.query, views.status, views.models, views.history, views.lineage, views.config],
    }
    for panel, commands in panels.items():
        for command in commands:
            app.command(rich_help_panel=panel)(command)
    app.add_typer(dataset.app, name="dataset", rich_help_panel="Evaluate")
    app.add_typer(review.app, name="review", rich_help_panel="Evaluate")


_register()


def main() -> None:
    app()
