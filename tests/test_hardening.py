"""Bad input tried by hand, each reproduced here first: a clear error or the right output, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from ragctl.cli.app import app
from ragctl.errors import EXIT_CODES, DataError


def flat(text: str) -> str:
    return " ".join(text.split())


def test_help_lists_every_exit_code() -> None:
    shown = flat(CliRunner().invoke(app, ["--help"]).output.replace("│", " "))
    for code, meaning in EXIT_CODES.items():
        assert f"{code} {flat(meaning)}" in shown, code


def test_every_commands_summary_is_one_paragraph_without_a_line_break() -> None:
    """The command list shows a command's first paragraph with its line breaks kept: a docstring wrapped
    inside it shows as a summary broken mid-sentence in `ragctl --help`."""
    import typer.main

    def commands(group, prefix=""):  # type: ignore[no-untyped-def]
        for name, command in getattr(group, "commands", {}).items():
            yield f"{prefix}{name}", command
            yield from commands(command, f"{prefix}{name} ")

    found = dict(commands(typer.main.get_command(app)))
    assert {"evaluate", "review", "dataset generate"} <= found.keys()
    for name, command in found.items():
        summary = (command.help or "").strip().split("\n\n")[0]
        assert summary and "\n" not in summary, (name, summary)


def test_the_versions_table_keeps_every_word_whole_in_an_80_column_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """`ragctl models` has nine columns: boxed, they folded every word ('versio|n', 'champi|on'); where the box
    does not fit it goes, and a wider terminal keeps it."""
    from ragctl.cli import render
    from ragctl.records.moves import VersionRow

    row = VersionRow(
        version="12",
        aliases=["champion"],
        eval_passed="unevaluated",
        metrics={"hit_rate": 0.9661, "mrr": 0.81, "token_f1": 0.207, "latency_p95": 2.119},
        collection="sample-docs",
        collection_digest="5154a95fd2c35604",
        created="2026-12-07 11:01:29 UTC",
        model_uri="models:/m-1",
    )
    metrics = ("hit_rate", "mrr", "token_f1", "latency_p95")
    for width, boxed in ((80, False), (120, True)):
        monkeypatch.setattr(render.out, "width", width)
        with render.out.capture() as captured:
            render.versions("chain", [row], metrics)
        shown = captured.get()
        words = shown.replace("│", " ").replace("┃", " ").split()
        for whole in ("version", "champion", "hit_", "latency_", "0.966", "sample-docs", "5154a95fd2", "2026-12-07"):
            assert whole in words, (width, whole, shown)
        assert "-" in words and "unevaluated" not in shown  # eval: pass, fail or '-'
        assert max(len(line) for line in shown.splitlines()) <= width
        assert ("┏" in shown) is boxed, shown


def test_square_brackets_in_a_config_path_are_shown_not_parsed(tmp_path: Path) -> None:
    odd = tmp_path / "[" / "x].yaml"
    result = CliRunner().invoke(app, ["config", "-c", str(odd)])
    assert result.exit_code == 2, result.output
    assert str(odd) in flat(result.output).replace(" ", "") or "[/x].yaml" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_square_brackets_in_file_names_reach_the_terminal_intact(monkeypatch: pytest.MonkeyPatch) -> None:
    from ragctl.cli import render

    monkeypatch.setattr(render.out, "width", 240)
    monkeypatch.setattr(render.err, "width", 240)

    bad = SimpleNamespace(
        file="notes [draft].txt", status="failed", outcome="corrupt", pages=0, chunks=0, reason="bad [red]x[/red] byte"
    )
    result = SimpleNamespace(
        attention=[bad],
        dry_run=False,
        up_to_date=False,
        collection="docs",
        chunks_total=0,
        seconds=0.1,
        index_seconds=0.0,
        index_files_read=0,
        summary={"files": {"failed": 1}, "chunks": {"added": 0, "deleted": 0, "total": 0}, "pages": 0},
    )
    with render.out.capture() as captured:
        render.ingest_report(result)
    shown = captured.get()
    assert "notes [draft].txt" in shown and "bad [red]x[/red] byte" in shown
    with render.err.capture() as captured:
        render.error(DataError("cannot read [/x]", "see [b]"))
    assert "cannot read [/x]" in captured.get() and "see [b]" in captured.get()


def test_a_report_path_that_is_a_directory_or_cannot_be_made_is_refused_before_scoring(project: Path) -> None:
    (project / "reports").mkdir()
    result = CliRunner().invoke(app, ["evaluate", "--report", str(project / "reports")])
    assert result.exit_code == 2 and "--report" in result.output and "is a directory" in flat(result.output)
    assert not (project / ".ragctl" / "mlflow.db").exists(), "refused before any run or store was touched"
    result = CliRunner().invoke(app, ["evaluate", "--junit", "/proc/ragctl-reports/eval.xml"])
    assert result.exit_code == 2, result.output  # was an OSError traceback after every question was scored
    assert "cannot create /proc/ragctl-reports: No such file or directory" in flat(result.output)
    assert not (project / ".ragctl" / "mlflow.db").exists()


def test_a_vector_store_path_that_is_a_file_or_unopenable_is_a_clear_error(project: Path) -> None:
    """Chroma's embedded store raised its own InternalError ("File exists (os error 17)") as a traceback."""
    (project / "store").write_text("not a folder")
    result = CliRunner().invoke(app, ["ingest", "--set", "vector_store.path=store"])
    assert result.exit_code == 2, result.output
    assert "vector_store.path: store is a file, not a folder" in result.output
    assert not (project / ".ragctl").exists(), "refused before the model, MLflow or any file was touched"
    result = CliRunner().invoke(app, ["ingest", "--set", "vector_store.path=/proc/ragctl-store"])
    assert result.exit_code == 3, result.output
    assert "cannot open the Chroma store at /proc/ragctl-store" in flat(result.output)
    assert "Traceback" not in result.output


def test_names_that_are_not_utf8_and_links_out_of_the_folder(project: Path) -> None:
    """discover() gives every file a name that can be stored (bytes from another encoding as \\xNN) and marks
    a symbolic link whose target lies outside its folder as refused unless ingestion.follow_symlinks."""
    import os

    from ragctl.config.model import IngestionConfig
    from ragctl.documents import discover

    docs = project / "docs"
    docs.mkdir()
    (docs / "notes [draft].txt").write_text("Draft notes.")
    os.close(os.open(os.fsencode(docs) + b"/caf\xe9.txt", os.O_CREAT | os.O_WRONLY))
    secret = project / "outside.txt"
    secret.write_text("not for the index")
    (docs / "link.txt").symlink_to(secret)
    (docs / "inside.txt").write_text("inside")
    (docs / "alias.txt").symlink_to(docs / "inside.txt")
    found = {f.name: f for f in discover(IngestionConfig(paths=["docs"]))}
    # alias.txt and inside.txt are one file: read once, under the first name
    assert set(found) == {"notes [draft].txt", "caf\\xe9.txt", "link.txt", "alias.txt"}
    assert all(name.encode("utf-8") for name in found)
    assert "outside" in found["link.txt"].refused and "follow_symlinks" in found["link.txt"].refused
    assert not found["alias.txt"].refused, "a link within the folder is read"
    followed = {f.name: f for f in discover(IngestionConfig(paths=["docs"], follow_symlinks=True))}
    assert not followed["link.txt"].refused


def test_a_named_pipe_is_refused_never_opened(project: Path) -> None:
    """A FIFO named in ingestion.paths (or matched by a glob) used to hang ingest forever: hashing it waits
    for a writer. It is now refused by name, so nothing ever opens it; in a folder it is passed over."""
    import os

    from ragctl.config.model import IngestionConfig
    from ragctl.documents import discover

    docs = project / "docs"
    docs.mkdir()
    os.mkfifo(docs / "pipe.txt")
    (docs / "notes.txt").write_text("notes")
    for paths in (["docs/pipe.txt", "docs/notes.txt"], ["docs/*.txt"]):
        found = {f.name: f.refused for f in discover(IngestionConfig(paths=paths))}
        assert found == {"pipe.txt": found["pipe.txt"], "notes.txt": ""}, paths
        assert "not a regular file" in found["pipe.txt"], paths
    assert [f.name for f in discover(IngestionConfig(paths=["docs"]))] == ["notes.txt"]


def test_a_file_that_cannot_be_read_when_hashed_is_its_own_outcome(project: Path) -> None:
    """A file gone between discovery and hashing (or, for another user than root, one without read
    permission) was an OSError traceback that stopped the whole ingest; it is now that file's outcome."""
    from ragctl.config.model import RagctlConfig
    from ragctl.documents import discover
    from ragctl.records.manifest import Manifest
    from ragctl.stages.ingest.plan import make_plan
    from ragctl.stages.ingest.work import Keys, job, prepare

    docs = project / "docs"
    docs.mkdir()
    (docs / "kept.txt").write_text("kept")
    (docs / "gone.txt").write_text("gone")
    config = RagctlConfig.model_validate({"ingestion": {"paths": ["docs"]}})
    files = discover(config.ingestion)
    (docs / "gone.txt").unlink()
    plan = make_plan(files, Manifest(None, "c"), None, Keys.of(config))
    todo = {t.source.name: t for t in plan.todo()}
    assert todo["gone.txt"].source.refused == "cannot read: No such file or directory"
    assert not todo["kept.txt"].source.refused
    gone = todo["gone.txt"]
    prepared = prepare(job(gone.source.path, gone.source.name, gone.sha256, gone.key, config, gone.source.refused))
    assert (prepared.outcome, prepared.reason) == ("corrupt", "cannot read: No such file or directory")


def test_a_missing_service_fails_under_ci_and_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import require

    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="required under CI"):
        require(None, "PostgreSQL")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        require(None, "PostgreSQL")
    require("/usr/bin/initdb", "PostgreSQL")  # present: neither


def test_a_text_without_whitespace_is_cut_to_the_chunk_size(tmp_path: Path) -> None:
    """A long run of characters with no space used to pass the tokenizer as one [UNK] token and become
    one chunk of the whole file; now every chunk is bounded and nothing is lost."""
    from ragctl.components.embeddings import UNKNOWN_WORD_CHARS, token_counter
    from ragctl.config.model import RagctlConfig
    from ragctl.stages.ingest.work import Keys, job, prepare

    blob = "".join(f"{i:x}" for i in range(60_000))  # ~270,000 characters, no whitespace
    (tmp_path / "blob.txt").write_text(blob)
    config = RagctlConfig.model_validate({"chunking": {"context": False}})
    digest = "0" * 64
    prepared = prepare(job(tmp_path / "blob.txt", "blob.txt", digest, Keys.of(config).ingest_key(digest), config))
    assert prepared.outcome == "ok" and len(prepared.chunks) > 100
    count = token_counter(config.embedding)
    assert max(len(count(c.text)) for c in prepared.chunks) <= config.chunking.chunk_size
    assert max(len(c.text) for c in prepared.chunks) <= config.chunking.chunk_size * UNKNOWN_WORD_CHARS
    assert blob.startswith(prepared.chunks[0].text) and blob.endswith(prepared.chunks[-1].text)
    assert sum(len(c.text) for c in prepared.chunks) >= len(blob), "overlap repeats text, nothing is dropped"
    assert len(count("word " * 400)) == 400, "counted, never truncated at the model's max_length"


def test_evaluate_and_register_take_this_projects_chain_not_anothers(project: Path) -> None:
    """Two pipelines in one experiment: without --model-uri each takes the chain it assembled itself."""
    import mlflow

    from ragctl.config.load import load_config
    from ragctl.records.models import latest_assembled
    from ragctl.session import Session

    ours = load_config(None, ["project.name=ours", "vector_store.collection=ours-docs"])
    session = Session(ours)
    for project_name, collection, uri in (("ours", "ours-docs", "models:/m-ours"), ("theirs", "x-docs", "models:/m-x")):
        tags = {"ragctl.stage": "assemble", "ragctl.project": project_name, "ragctl.collection": collection}
        with mlflow.start_run(experiment_id=session.experiment_id, tags={**tags, "ragctl.model_uri": uri}):
            pass
    assert latest_assembled(session) == "models:/m-ours"


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_endpoint_stops_a_command_in_seconds_before_it_writes(project: Path) -> None:
    """ingest used to retry an embedding endpoint for 18 s, then leave a FAILED run and an empty collection
    and manifest behind; assemble with an unreachable LLM endpoint exited 0."""
    import time

    api_base = f"http://127.0.0.1:{_closed_port()}/v1"
    embedding = ["--set", "embedding.type=openai-compatible", "--set", f"embedding.api_base={api_base}"]
    started = time.monotonic()
    result = CliRunner().invoke(app, ["ingest", *embedding])
    assert result.exit_code == 4, result.output
    assert time.monotonic() - started < 10
    assert "embedding endpoint" in flat(result.output) and api_base in flat(result.output)
    assert not (project / ".ragctl" / "chroma").exists(), "no collection, no manifest"
    llm = ["--set", "llm.type=openai-compatible", "--set", f"llm.api_base={api_base}"]
    result = CliRunner().invoke(app, ["assemble", *llm])
    assert result.exit_code == 4 and "LLM endpoint" in flat(result.output), result.output
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{project}/.ragctl/mlflow.db")
    assert mlflow.search_runs(search_all_experiments=True).empty, "no run was started"


def test_a_yaml_tag_is_a_config_error_not_a_traceback(tmp_path: Path) -> None:
    """Found by tests/test_properties.py: a tag the safe loader cannot construct raised from PyYAML."""
    (tmp_path / "ragctl.yaml").write_text("retrieval: !!python/object:os.system {top_k: 3}\n")
    result = CliRunner().invoke(app, ["config", "-c", str(tmp_path / "ragctl.yaml")])
    assert result.exit_code == 2 and "invalid YAML" in result.output, result.output


def test_a_stage_run_left_running_by_a_dead_process_is_marked_killed_by_the_next(project: Path) -> None:
    """kill -9 during register (or any stage) left its run RUNNING forever; the next run of that stage on
    this host marks it KILLED. A run whose process still lives is left alone."""
    import socket
    import subprocess
    import sys

    import mlflow

    from ragctl.config.load import load_config
    from ragctl.records import runs
    from ragctl.session import Session

    session = Session(load_config(None))
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    here = {"ragctl.stage": "register", "ragctl.host": socket.gethostname()}
    client = session.mlflow
    dead = client.create_run(session.experiment_id, tags={**here, "ragctl.pid": gone.stdout.strip()}).info.run_id
    alive = client.create_run(session.experiment_id, tags={**here, "ragctl.pid": str(os.getpid())}).info.run_id
    with runs.stage_run(session, "register"):
        pass
    assert (
        client.get_run(dead).info.status == "KILLED"
        and "killed: process" in client.get_run(dead).data.tags["ragctl.error"]
    )
    assert client.get_run(alive).info.status == "RUNNING"
    mlflow.MlflowClient().set_terminated(alive)


def test_a_deleted_experiment_is_a_clear_error_and_an_active_one_is_no_trap(project: Path) -> None:
    import mlflow

    from ragctl.config.load import load_config
    from ragctl.session import Session

    first = Session(load_config(None, ["project.experiment=kept"])).experiment_id
    other = mlflow.create_experiment("elsewhere")
    mlflow.set_experiment(experiment_id=other)  # a notebook's earlier choice must not capture ragctl's runs
    again = Session(load_config(None, ["project.experiment=kept"]))
    assert again.experiment_id == first and mlflow.get_experiment(first).name == "kept"
    mlflow.delete_experiment(first)
    result = CliRunner().invoke(app, ["status", "--set", "project.experiment=kept"])
    assert result.exit_code == 2 and "is deleted" in result.output, result.output


@pytest.mark.parametrize(
    "setting",
    ["tracking.uri=foo://bar", "tracking.uri=s3:bucket/mlflow", "tracking.uri=", "tracking.registry_uri=x:/y"],
)
def test_a_tracking_uri_no_mlflow_store_takes_is_a_config_error(project: Path, setting: str) -> None:
    """Refused at load: an unknown scheme was MLflow's exception, a path or an empty uri MLflow's refusal
    of its folder store (both tracebacks), a wrong registry silently "no version registered"."""
    for command in (["history"], ["models"]):
        result = CliRunner().invoke(app, [*command, "--set", setting])
        assert result.exit_code == 2, result.output
        key, _, uri = setting.partition("=")
        assert f"{key}: {uri!r} is not a database or a tracking server" in result.output
        assert "Traceback" not in result.output


def test_a_tracking_database_that_does_not_answer_fails_at_once_without_its_password(project: Path) -> None:
    """MLflow retries creating its engine for 101 s before it says so; the password was in the message."""
    import socket
    import time

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    began = time.monotonic()
    result = CliRunner().invoke(app, ["models", "--set", f"tracking.uri=postgresql://ops:Pw-9@127.0.0.1:{port}/m"])
    assert result.exit_code == 4, result.output
    assert f"postgresql://ops:***@127.0.0.1:{port}/m is unreachable" in flat(result.output)
    assert "Pw-9" not in result.output and time.monotonic() - began < 60
    began = time.monotonic()  # the same through a Unix socket that is not there (no TCP port to probe)
    socket_uri = f"postgresql://ops:Pw-9@/m?host={project}&port=5439"
    result = CliRunner().invoke(app, ["models", "--set", f"tracking.uri={socket_uri}"])
    assert result.exit_code == 4 and "is unreachable: No such file or directory" in flat(result.output), result.output
    assert "Pw-9" not in result.output and time.monotonic() - began < 60


def test_a_folder_with_no_documents_says_where_it_looked_and_what_to_change(project: Path) -> None:
    (project / "docs").mkdir()
    (project / "docs" / "notes.odt").write_text("a format ragctl does not read")
    result = CliRunner().invoke(app, ["ingest", "--set", "ingestion.paths=[docs]"])
    assert result.exit_code == 3, result.output
    said = flat(result.output)
    assert "no pdf/txt/md/html/docx files found under docs" in said and "point ingestion.paths at them" in said
    assert not (project / ".ragctl" / "mlflow.db").exists(), "refused before any run"


@pytest.mark.parametrize("command", [["assemble"], ["dataset", "generate", "-n", "1", "-o", "qa.jsonl"], ["status"]])
def test_commands_that_read_the_store_never_make_an_empty_one(project: Path, command: list[str]) -> None:
    """Chroma's client makes a store wherever it is pointed; only ingest should."""
    result = CliRunner().invoke(app, [*command, "--set", "vector_store.path=elsewhere/chroma"])
    assert result.exit_code in (0, 3), result.output
    assert "Traceback" not in result.output and not (project / "elsewhere").exists()
