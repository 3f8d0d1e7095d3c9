"""CLI start-up must stay cheap: the heavy stack is imported only by the commands that need it."""

from __future__ import annotations

import json
import subprocess
import sys

import typer

from ragctl.cli.app import app

HEAVY = ["mlflow", "llama_index", "chromadb", "torch", "llama_cpp", "xllamacpp", "onnxruntime", "pandas", "pydantic"]
# typer itself imports pydantic to parse a subcommand's options; that is its cost, not ours.
TYPER_OWN = {"pydantic"}

PROBE = """
import json, sys
{body}
print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r}))))
"""


def loaded_after(body: str) -> list[str]:
    code = PROBE.format(body=body, heavy=HEAVY)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_importing_the_cli_loads_no_heavy_module() -> None:
    assert loaded_after("import ragctl.cli.app") == []


def test_help_loads_no_heavy_module() -> None:
    body = (
        "from ragctl.cli.app import app\n"
        "try:\n    app(['--help'], prog_name='ragctl')\nexcept SystemExit as e:\n    assert e.code == 0\n"
    )
    assert loaded_after(body) == []


def test_every_command_help_loads_no_heavy_module() -> None:
    from tests.test_docs import commands

    every = commands(typer.main.get_command(app))
    body = (
        "from ragctl.cli.app import app\n"
        f"for cmd in {[c.split() for c in every]!r}:\n"
        "    try:\n        app([*cmd, '--help'], prog_name='ragctl')\n"
        "    except SystemExit as e:\n        assert e.code == 0\n"
    )
    assert set(loaded_after(body)) - TYPER_OWN == set()


def test_shell_completion_answers_without_the_heavy_stack() -> None:
    """What bash runs on <TAB>: typer's completion protocol, through the installed entry point."""
    import os
    from pathlib import Path

    ragctl = Path(sys.executable).parent / "ragctl"
    env = {**os.environ, "_RAGCTL_COMPLETE": "complete_bash", "COMP_WORDS": "ragctl pro", "COMP_CWORD": "1"}
    done = subprocess.run([str(ragctl)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.split() == ["promote"], done.stdout + done.stderr
    env.update(COMP_WORDS="ragctl promote --al", COMP_CWORD="2")
    options = subprocess.run([str(ragctl)], env=env, capture_output=True, text=True, timeout=60).stdout.split()
    assert "--alias" in options and "--allow-unreviewed" in options
    body = (
        "import os\n"
        "os.environ.update(_RAGCTL_COMPLETE='complete_bash', COMP_WORDS='ragctl review st', COMP_CWORD='2')\n"
        "from ragctl.cli.app import app\n"
        "try:\n    app(prog_name='ragctl')\nexcept SystemExit:\n    pass\n"
    )
    assert set(loaded_after(body)) - TYPER_OWN == set()


def test_an_empty_question_is_refused_before_mlflow_loads() -> None:
    body = (
        "from ragctl.cli.app import app\n"
        "try:\n    app(['query', '  '], prog_name='ragctl')\nexcept SystemExit as e:\n    assert e.code == 2, e.code\n"
    )
    assert "mlflow" not in loaded_after(body)
