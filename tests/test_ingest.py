"""Ingest through the real embedding model, Chroma and MLflow: what changed, what failed, what exits how,
and what survives a kill -9 or a second ingest running at the same time (real processes)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragctl.cli.app import app
from tests import pdfs

CONFIG = (
    "ingestion: {{paths: [docs]}}\nvector_store: {{path: {state}/chroma, collection: test-docs}}\n"
    'tracking: {{uri: "sqlite:///{state}/mlflow.db", artifact_location: {state}/artifacts}}\n'
)


@pytest.fixture
def corpus(project: Path) -> Path:
    docs = project / "docs"
    docs.mkdir()
    shutil.copy(project / "sample_docs" / "normans.pdf", docs)
    shutil.copy(project / "sample_docs" / "normans_crusades_and_arts.txt", docs)
    (project / "ragctl.yaml").write_text(CONFIG.format(state="state"))
    return docs


def ingest(*extra: str, config: str = "ragctl.yaml") -> tuple[int, dict]:
    result = CliRunner().invoke(app, ["ingest", "--config", config, "--json", *extra])
    return result.exit_code, (json.loads(result.stdout) if result.stdout.strip() else {"output": result.output})


def flat(text: str) -> str:
    """Terminal output without rich's line wrapping."""
    return " ".join(text.split())


def statuses(report: dict) -> dict[str, str]:
    return {f["file"]: f["status"] for f in report["files"]}


def chunk_ids(state: Path, collection: str = "test-docs") -> list[str]:
    import chromadb

    return chromadb.PersistentClient(str(state / "chroma")).get_collection(collection).get(include=[])["ids"]


@pytest.mark.e2e
def test_odd_names_ingest_and_a_link_out_of_the_folder_is_refused(corpus: Path, project: Path) -> None:
    """A name in another encoding used to stop every ingest of the collection (UnicodeEncodeError in the
    manifest); brackets were eaten by the terminal's markup; a link out of the folder was followed."""
    with open(os.fsencode(corpus) + b"/caf\xe9.txt", "w") as latin1:  # a name in Latin-1, not UTF-8
        latin1.write("The cafe opens at seven in the morning every day.")
    (corpus / "notes [draft].txt").write_text("Draft notes about the Norman conquest of England in 1066.")
    (project / "secret.txt").write_text("a private file elsewhere on the machine")
    (corpus / "elsewhere [link].txt").symlink_to(project / "secret.txt")
    code, first = ingest()
    assert code == 0, first
    outcome = {f["file"]: (f["status"], f["outcome"]) for f in first["files"]}
    assert outcome["caf\\xe9.txt"] == ("added", "ok") and outcome["notes [draft].txt"] == ("added", "ok")
    assert outcome["elsewhere [link].txt"] == ("failed", "unsupported")
    assert "private file" not in json.dumps(first)
    again = CliRunner().invoke(app, ["ingest", "--config", "ragctl.yaml"])
    assert again.exit_code == 0, again.output
    assert "elsewhere [link].txt" in again.output and "follow_symlinks" in flat(again.output)
    code, third = ingest()
    assert statuses(third) == {
        "caf\\xe9.txt": "unchanged",
        "notes [draft].txt": "unchanged",
        "elsewhere [link].txt": "failed",
        "normans.pdf": "unchanged",
        "normans_crusades_and_arts.txt": "unchanged",
    }


@pytest.mark.e2e
def test_a_text_file_in_a_legacy_encoding_is_refused_with_the_fix_then_read_with_it(project: Path) -> None:
    legacy = project / "legacy"
    legacy.mkdir()
    (legacy / "memo.txt").write_bytes("The café’s “Norman” menu: crêpes, cidre and Camembert.".encode("cp1252"))
    (legacy / "notes.txt").write_text("Rollo was the first ruler of Normandy, in the tenth century.")
    (project / "ragctl.yaml").write_text(CONFIG.format(state="state").replace("[docs]", "[legacy]"))
    refused = CliRunner().invoke(app, ["ingest", "--config", "ragctl.yaml"])
    assert refused.exit_code == 0, refused.output
    assert "memo.txt" in refused.output and "ingestion.fallback_encodings (e.g. [cp1252])" in flat(refused.output)
    code, report = ingest("--set", "ingestion.fallback_encodings=[cp1252]")
    assert code == 0, report
    # how files are read changed, so both are read again; the one that failed is now in
    assert {f["file"]: (f["status"], f["outcome"]) for f in report["files"]} == {
        "memo.txt": ("added", "ok"),
        "notes.txt": ("changed", "ok"),
    }
    import chromadb

    stored = chromadb.PersistentClient(str(project / "state" / "chroma")).get_collection("test-docs")
    (memo,) = stored.get(where={"file": "memo.txt"})["documents"]
    assert "The café’s “Norman” menu: crêpes" in memo


def search_index(state: Path, collection: str = "test-docs") -> tuple[str, list[str]]:
    """The digest the collection's search index is marked at, and the index folders beside the store."""
    import chromadb

    marked = chromadb.PersistentClient(str(state / "chroma")).get_collection(collection).metadata.get("ragctl.index")
    return marked, sorted(p.name for p in (state / "chroma" / "ragctl-index" / collection).iterdir())


@pytest.mark.e2e
def test_changed_deleted_and_added_files_are_reported(corpus: Path) -> None:
    code, first = ingest()
    assert code == 0 and statuses(first) == {"normans.pdf": "added", "normans_crusades_and_arts.txt": "added"}
    assert first["summary"]["files"] == {"added": 2, "changed": 0, "deleted": 0, "unchanged": 0, "failed": 0}
    digest = first["manifest_digest"]
    assert search_index(corpus.parent / "state") == (digest, [digest]) and first["index_seconds"] > 0
    text = corpus / "normans_crusades_and_arts.txt"
    text.write_text(text.read_text() + "\nThe Normans also built many castles in Wales.\n")
    (corpus / "normans.pdf").unlink()
    (corpus / "notes.md").write_text("# Notes\n\nRollo was the first ruler of Normandy.\n")
    code, second = ingest()
    assert code == 0
    assert statuses(second) == {
        "normans_crusades_and_arts.txt": "changed",
        "notes.md": "added",
        "normans.pdf": "deleted",
    }
    written = {f["file"]: f["chunks"] for f in second["files"]}
    before = {f["file"]: f["chunks"] for f in first["files"]}
    summary = second["summary"]
    # a changed file's previous chunks left too: "+9 -0" for a file whose 9 chunks were rewritten misled
    txt = "normans_crusades_and_arts.txt"
    assert {f["file"]: f["replaced"] for f in second["files"]}[txt] == before[txt] > 0
    assert summary["chunks"]["deleted"] == written["normans.pdf"] + before[txt]
    assert first["chunks_total"] + summary["chunks"]["added"] - summary["chunks"]["deleted"] == second["chunks_total"]
    assert summary["chunks"]["added"] == written["normans_crusades_and_arts.txt"] + written["notes.md"]
    assert summary["chunks"]["total"] == second["chunks_total"] == summary["chunks"]["added"]
    assert len(set(chunk_ids(corpus.parent / "state"))) == second["chunks_total"]
    digest = second["manifest_digest"]
    assert search_index(corpus.parent / "state") == (digest, [digest]), "the index follows; the old one is gone"
    # The index was updated from the three files that changed, and is the one built from every chunk.
    assert (first["index_files_read"], second["index_files_read"]) == (2, 3)
    import chromadb

    from ragctl.retrieval.index import disk
    from ragctl.retrieval.index.build import build
    from tests.indexes import assert_same_index

    chroma = corpus.parent / "state" / "chroma"
    collection = chromadb.PersistentClient(str(chroma)).get_collection("test-docs")
    assert_same_index(disk.load(chroma / "ragctl-index" / "test-docs" / digest), build(collection))
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{corpus.parent}/state/mlflow.db")
    metrics = mlflow.get_run(second["run_id"]).data.metrics
    assert metrics["files_deleted"] == 1 and metrics["chunks_added"] == summary["chunks"]["added"]


def test_files_are_grouped_by_chunks_files_and_time_waited(monkeypatch: pytest.MonkeyPatch) -> None:
    from ragctl.stages.ingest import write
    from ragctl.stages.ingest.work import Chunk, Prepared

    def read(name: str, chunks: int) -> Prepared:
        return Prepared(name, "ok", chunks=[Chunk(f"{name}-{i}", "t", {}) for i in range(chunks)])

    sizes = [1, 2, 600, 3, 3, 3, 3]
    stream = [read(f"f{i}", n) for i, n in enumerate(sizes)]
    groups = [[p.file for p in g] for g in write.grouped(stream, chunks=512, files=3, seconds=3600)]
    assert groups == [["f0", "f1", "f2"], ["f3", "f4", "f5"], ["f6"]]  # full by chunks (603), by files, the rest
    assert [[p.file for p in g] for g in write.grouped(stream[:2], chunks=512, files=9, seconds=3600)] == [["f0", "f1"]]
    clock = iter([0.0, 0.5, 0.9, 1.2, 5.0, 5.1])  # a file that waited its time is written with the one read after
    monkeypatch.setattr(write.time, "monotonic", lambda: next(clock))
    timed = [[p.file for p in g] for g in write.grouped(stream[3:], chunks=512, files=9, seconds=1.0)]
    assert timed == [["f3", "f4", "f5"], ["f6"]]


@pytest.mark.e2e
def test_many_small_files_are_written_a_group_at_a_time(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chroma commits every call (5-25 ms each): four calls per file made 3,000 one-paragraph files take
    231 s. Files are written in groups, each a few calls, with the same chunks and records as one by one."""
    from chromadb.api.models.Collection import Collection

    docs = project / "docs"
    docs.mkdir()
    for i in range(60):
        (docs / f"note-{i:02d}.txt").write_text(f"Note {i}. Rollo led the Vikings who settled in Normandy in 911. " * 2)
    (docs / "empty.md").write_text("")  # a failed file in the same group loses its chunks, keeps its record
    (project / "ragctl.yaml").write_text(CONFIG.format(state="state"))
    calls: list[str] = []
    for method in ("upsert", "delete"):
        original = getattr(Collection, method)

        def counted(self, *args, __original=original, __method=method, **kwargs):  # type: ignore[no-untyped-def]
            calls.append(__method)
            return __original(self, *args, **kwargs)

        monkeypatch.setattr(Collection, method, counted)
    monkeypatch.setattr("ragctl.stages.ingest.write.GROUP_SECONDS", 3600.0)  # grouped by size alone: no timing
    code, report = ingest()
    assert code == 0 and report["chunks_total"] == 60 and report["summary"]["files"]["failed"] == 1
    # 61 files in one group (under 512 chunks, 128 files): records pending, chunks, stale ones, records
    # final; the rest is the run's own bookkeeping (the manifest's settings, the search index's marker).
    assert len(calls) <= 12, calls
    import chromadb

    from ragctl.records.manifest import Manifest

    client = chromadb.PersistentClient(str(project / "state" / "chroma"))
    manifest = Manifest.load(client, "test-docs", create=False)
    assert {e.state for f, e in manifest.entries.items() if f != "empty.md"} == {"ok"}
    assert manifest.entries["empty.md"].state == "failed" and manifest.expected_chunks() == 60
    assert sorted(chunk_ids(project / "state")) == sorted(i for e in manifest.entries.values() for i in e.chunk_ids)


@pytest.mark.e2e
def test_nothing_changed_reads_the_manifest_not_the_files(corpus: Path, project: Path) -> None:
    """Nothing to do is decided from the manifest and the files' hashes: no run, no MLflow, no model."""
    _, first = ingest()
    code, again = ingest()
    assert code == 0 and set(statuses(again).values()) == {"unchanged"}
    assert again["summary"]["chunks"]["added"] == 0 and again["summary"]["pages"] == 0
    assert again["up_to_date"] and again["run_id"] is None and again["last_run_id"] == first["run_id"]
    assert again["manifest_digest"] == first["manifest_digest"]
    probe = (
        "import sys\nfrom ragctl.cli.app import app\n"
        "try:\n    app(['ingest', '--json'], prog_name='ragctl')\nexcept SystemExit as e:\n    assert e.code == 0\n"
        "print(sorted(m for m in ('mlflow', 'llama_index', 'openvino', 'onnxruntime') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=project, capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout[-500:]
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{project}/state/mlflow.db")
    ingests = mlflow.search_runs(search_all_experiments=True, filter_string="tags.`ragctl.stage` = 'ingest'")
    assert len(ingests) == 1, "an ingest with nothing to do records no run"
    import chromadb

    from ragctl.records.manifest import Manifest

    # A run that never ended (killed after its last file) keeps the next ingest off the fast path: that
    # one runs, so it can reap the dead run, and closes the record.
    Manifest.load(chromadb.PersistentClient(str(project / "state" / "chroma")), "test-docs", create=False).set_meta(
        run_open=True
    )
    _, reaper = ingest()
    assert reaper["run_id"] and not reaper["up_to_date"]
    assert ingest()[1]["up_to_date"]
    # So does a search index that is not of this content (a crash between the last write and the index).
    from ragctl.retrieval.index import marker

    marker.unmark(chromadb.PersistentClient(str(project / "state" / "chroma")).get_collection("test-docs"))
    _, indexer = ingest()
    assert indexer["run_id"] and indexer["summary"]["chunks"]["added"] == 0
    assert search_index(project / "state")[0] == indexer["manifest_digest"] and ingest()[1]["up_to_date"]
    # And so does an embedded store whose index folder is gone (the collection still marked as indexed).
    shutil.rmtree(project / "state" / "chroma" / "ragctl-index")
    _, restored = ingest()
    assert restored["run_id"] and restored["summary"]["chunks"]["added"] == 0
    assert search_index(project / "state") == (restored["manifest_digest"], [restored["manifest_digest"]])
    assert ingest()[1]["up_to_date"]
    (corpus / "normans_crusades_and_arts.txt").write_text("Rollo was a Viking leader. " * 20)
    _, changed = ingest()
    assert changed["run_id"] and not changed["up_to_date"]


@pytest.mark.e2e
def test_dry_run_plans_and_writes_nothing(corpus: Path) -> None:
    code, plan = ingest("--dry-run")
    assert code == 0 and plan["dry_run"] is True and plan["run_id"] is None
    assert set(statuses(plan).values()) == {"added"}
    assert not (corpus.parent / "state").exists(), "a dry run must not create the store"
    ingest()
    (corpus / "normans.pdf").unlink()
    before = sorted(chunk_ids(corpus.parent / "state"))
    code, plan = ingest("--dry-run")
    assert statuses(plan) == {"normans.pdf": "deleted", "normans_crusades_and_arts.txt": "unchanged"}
    assert sorted(chunk_ids(corpus.parent / "state")) == before


@pytest.mark.e2e
def test_changed_chunking_refuses_to_mix_vectors_until_rebuild(corpus: Path) -> None:
    _, first = ingest()
    result = CliRunner().invoke(app, ["ingest", "-c", "ragctl.yaml", "--set", "chunking.chunk_size=100"])
    assert result.exit_code == 2
    assert "chunking.chunk_size 200 -> 100" in flat(result.output) and "--rebuild" in result.output
    code, rebuilt = ingest("--set", "chunking.chunk_size=100", "--rebuild")
    assert code == 0 and set(statuses(rebuilt).values()) == {"added"}
    assert rebuilt["chunks_total"] == sum(f["chunks"] for f in rebuilt["files"]) > first["chunks_total"]


@pytest.mark.e2e
def test_outcomes_per_file_and_max_failures(corpus: Path) -> None:
    pdfs.encrypted(corpus / "locked.pdf")
    pdfs.corrupt(corpus / "broken.pdf")
    pdfs.with_blank_pages(corpus / "mixed.pdf", blanks=3)
    (corpus / "big.txt").write_text("Normandy " * 200_000)  # 1.7 MB
    code, report = ingest("--set", "ingestion.max_file_mb=1")
    assert code == 0, "bad files do not fail the run by default"
    outcome = {f["file"]: (f["status"], f["outcome"]) for f in report["files"]}
    assert outcome["locked.pdf"] == ("failed", "encrypted")
    assert outcome["broken.pdf"] == ("failed", "corrupt")
    assert outcome["big.txt"] == ("failed", "too-large")
    assert outcome["mixed.pdf"] == ("added", "partial")
    mixed = next(f for f in report["files"] if f["file"] == "mixed.pdf")
    assert mixed["reason"] == "3 of 9 pages have no text layer" and mixed["chunks"] > 0
    assert report["summary"]["files"]["failed"] == 3
    code, again = ingest("--set", "ingestion.max_file_mb=1", "--max-failures", "2")
    assert code == 3 and again["summary"]["files"]["failed"] == 3, "failed files are retried, and counted"
    result = CliRunner().invoke(app, ["ingest", "-c", "ragctl.yaml", "--set", "ingestion.max_file_mb=1"])
    assert "Files that need a look" in result.output and "no password configured" in flat(result.output)


@pytest.mark.e2e
def test_a_file_that_takes_too_long_times_out_and_the_rest_ingest(corpus: Path) -> None:
    shutil.copy(Path(__file__).parent / "data" / "sec10q" / "2023 Q1 MSFT.pdf", corpus / "filing.pdf")
    code, report = ingest("--set", "ingestion.timeout=3")  # the filing takes ~8 s to read here
    assert code == 0
    outcome = {f["file"]: (f["status"], f["outcome"]) for f in report["files"]}
    assert outcome["filing.pdf"] == ("failed", "timeout")
    assert outcome["normans.pdf"] == ("added", "ok") and outcome["normans_crusades_and_arts.txt"] == ("added", "ok")


@pytest.mark.e2e
def test_nothing_readable_exits_3_and_names_each_file(project: Path) -> None:
    docs = project / "bad"
    docs.mkdir()
    pdfs.encrypted(docs / "a.pdf")
    pdfs.blank(docs / "b.pdf")
    result = CliRunner().invoke(app, ["ingest", "--set", "ingestion.paths=[bad]", "--set", "vector_store.path=st"])
    assert result.exit_code == 3
    assert "a.pdf" in result.output and "encrypted" in result.output
    assert "b.pdf" in result.output and "none of 2 pages has a text layer" in flat(result.output)
    assert "Traceback" not in result.output


def test_a_worker_gets_its_files_settings_and_only_its_passwords() -> None:
    """What crosses into a worker process: the file, its key, reading and chunking settings, and only the
    PDF passwords whose pattern matches that file."""
    import pickle

    from ragctl.config.model import RagctlConfig
    from ragctl.stages.ingest.work import Keys, job

    config = RagctlConfig.model_validate({"ingestion": {"pdf": {"passwords": {"finance/*.pdf": "a", "hr/*": "b"}}}})
    keys, digest = Keys.of(config), "0" * 64
    q3 = job(Path("finance/q3.pdf"), "finance/q3.pdf", digest, keys.ingest_key(digest), config)
    assert {k: v.get_secret_value() for k, v in q3.reading.pdf.passwords.items()} == {"finance/*.pdf": "a"}
    assert job(Path("notes.txt"), "notes.txt", digest, q3.key, config).reading.pdf.passwords == {}
    assert set(vars(q3)) == {"path", "name", "sha256", "key", "reading", "chunking", "embedding", "refused"}
    assert pickle.loads(pickle.dumps(q3)) == q3
    changed = RagctlConfig.model_validate({"chunking": {"chunk_size": 100}})
    assert Keys.of(changed).ingest_key(digest) != q3.key == Keys.of(config).ingest_key(digest)
    # Options added since leave the default's vectors key as it was, so no collection re-embeds on upgrade.
    assert Keys.of(RagctlConfig()).fingerprint == "c193cfafcd434c44"
    assert Keys.of(RagctlConfig.model_validate({"chunking": {"tables": True}})).fingerprint != "c193cfafcd434c44"


def test_missing_input_folder_exits_3(project: Path) -> None:
    result = CliRunner().invoke(app, ["ingest", "--set", "ingestion.paths=[nowhere]"])
    assert result.exit_code == 3 and "'nowhere' does not exist" in result.output


# --- real processes: kill -9 mid-run, and two ingests at once -------------------------------------------------


def _big_corpus(docs: Path, sample: Path, copies: int = 6) -> None:
    """Several real documents; copies differ in name (and so in chunk ids) but not in content."""
    for i in range(copies):
        shutil.copy(sample / "normans.pdf", docs / f"normans-{i}.pdf")
        shutil.copy(sample / "complexity_theory.pdf", docs / f"complexity-{i}.pdf")


def _spawn(project: Path, *args: str) -> subprocess.Popen[str]:
    ragctl = Path(sys.executable).parent / "ragctl"
    return subprocess.Popen(
        [str(ragctl), "ingest", "-c", "ragctl.yaml", "--json", *args],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _chunks_written(state: Path) -> int:
    """Count chunks from outside, read-only, while the ingest process writes."""
    db = state / "chroma" / "chroma.sqlite3"
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as con:
            query = (
                "select count(*) from embeddings e join segments s on e.segment_id = s.id "
                "join collections c on s.collection = c.id where c.name = 'test-docs'"
            )
            return con.execute(query).fetchone()[0]
    except sqlite3.Error:
        return 0


def _wait_for(condition, proc: subprocess.Popen[str], seconds: float = 180) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert proc.poll() is None, f"ingest ended early: {proc.communicate()}"
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.e2e
def test_kill_9_mid_ingest_then_rerun_equals_one_clean_ingest(corpus: Path, project: Path) -> None:
    _big_corpus(corpus, project / "sample_docs")
    state = project / "state"
    for more in (1, 40):  # kill once right after the first chunks land, once mid-way through the rest
        target = _chunks_written(state) + more
        proc = _spawn(project)
        _wait_for(lambda t=target: _chunks_written(state) >= t, proc)  # type: ignore[misc]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    (corpus / "normans-0.pdf").unlink()  # ingested before the kill: its chunks must not stay behind
    code, resumed = ingest()
    assert code == 0, resumed
    assert len(resumed["reaped_runs"]) == 1, "each run reaps the one killed before it"
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{state}/mlflow.db")
    runs = mlflow.search_runs(search_all_experiments=True, output_format="list")
    assert sorted(r.info.status for r in runs) == ["FINISHED", "KILLED", "KILLED"], "none left RUNNING"
    assert all("killed: process" in r.data.tags["ragctl.error"] for r in runs if r.info.status == "KILLED")
    (project / "clean.yaml").write_text(CONFIG.format(state="clean"))
    code, clean = ingest(config="clean.yaml")
    assert code == 0
    ids = chunk_ids(state)
    assert len(ids) == len(set(ids)) == resumed["chunks_total"] == clean["chunks_total"]
    assert sorted(ids) == sorted(chunk_ids(project / "clean")), "same chunks, no orphans of deleted files"
    assert search_index(state) == search_index(project / "clean"), "and the same search index"


@pytest.mark.e2e
def test_a_second_ingest_into_the_same_collection_stops_or_waits(corpus: Path, project: Path) -> None:
    # enough files that the first is still writing when the second starts (groups write them fast)
    _big_corpus(corpus, project / "sample_docs", copies=12)
    first = _spawn(project)
    _wait_for(lambda: _chunks_written(project / "state") > 0, first)
    second = _spawn(project)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 5, err
    assert "another ingest into collection 'test-docs' is running" in flat(err) and f"pid {first.pid}" in err
    third = _spawn(project, "--wait", "300")  # queues behind the first, then finds nothing to do
    assert first.wait(timeout=300) == 0
    out, err = third.communicate(timeout=300)
    assert third.returncode == 0, err
    assert set(statuses(json.loads(out)).values()) == {"unchanged"}


@pytest.mark.e2e
def test_a_chain_will_not_open_an_embedded_store_an_ingest_is_writing(corpus: Path, project: Path) -> None:
    """Chroma's embedded store is one process at a time: a chain loading mid-ingest is refused (exit 5, in
    one line), and loads once the ingest is done."""
    from ragctl.components.vector_stores import refuse_while_ingesting
    from ragctl.config.model import VectorStoreConfig

    assert ingest()[0] == 0
    assembled = CliRunner().invoke(app, ["assemble", "--config", "ragctl.yaml", "--json"])
    assert assembled.exit_code == 0, assembled.output
    model = json.loads(assembled.stdout)["model_uri"]
    _big_corpus(corpus, project / "sample_docs", copies=3)
    before = _chunks_written(project / "state")
    writer = _spawn(project)
    _wait_for(lambda: _chunks_written(project / "state") > before, writer)
    asked = CliRunner().invoke(app, ["query", "--config", "ragctl.yaml", "-m", model, "Who was Rollo?"])
    status = CliRunner().invoke(app, ["status", "--config", "ragctl.yaml", "--json"])
    assert writer.poll() is None, "the ingest must still be writing for this test to mean anything"
    assert asked.exit_code == 5, asked.output
    assert status.exit_code == 0 and json.loads(status.stdout)["collection_state"] == "being ingested"
    assert "is writing the embedded store" in flat(asked.output) and "Traceback" not in asked.output
    assert writer.wait(timeout=300) == 0
    refuse_while_ingesting(VectorStoreConfig(path=str(project / "state" / "chroma"), collection="test-docs"))


@pytest.mark.e2e
def test_pdf_password_from_the_environment_never_reaches_mlflow(
    corpus: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    password = "Tr0ub4dor-" + os.urandom(6).hex()
    monkeypatch.setenv("RAGCTL_TEST_PDF_PASSWORD", password)
    vault = corpus / "vault"
    vault.mkdir()
    pdfs.encrypted(vault / "locked.pdf", password=password)
    pdfs.encrypted(corpus / "other.pdf", password="something-else")
    (project / "ragctl.yaml").write_text(
        CONFIG.format(state="state").replace(
            "ingestion: {paths: [docs]}",
            'ingestion: {paths: [docs], pdf: {passwords: {"vault/*.pdf": "${RAGCTL_TEST_PDF_PASSWORD}", '
            '"other.pdf": "${RAGCTL_TEST_PDF_PASSWORD}"}}}',
        )
    )
    code, report = ingest()
    assert code == 0, report
    outcome = {f["file"]: f["outcome"] for f in report["files"]}
    assert outcome["vault/locked.pdf"] == "ok" and outcome["other.pdf"] == "wrong-password"
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{project}/state/mlflow.db")
    run = mlflow.get_run(report["run_id"])
    assert json.loads(run.data.params["ingestion.pdf.passwords"])["vault/*.pdf"] == "**********"
    written = [json.dumps(run.data.params), json.dumps(run.data.tags), json.dumps(run.data.metrics)]
    written += [p.read_bytes().decode("latin-1") for p in (project / "state").rglob("*") if p.is_file()]
    assert written and not any(password in text for text in written), "the password reached the store"
    shown = CliRunner().invoke(app, ["config", "-c", "ragctl.yaml"])
    assert password not in shown.output and "**********" in shown.output


@pytest.mark.e2e
def test_files_read_ahead_are_used_only_for_the_same_jobs(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The reads and embeddings an ingest starts before its lock serve the run only when the plan under the
    lock names the same jobs (another ingest may have run in between); else the files are done again. The
    embedder is asked before every batch how many threads the reading leaves it."""
    import threading

    from ragctl.components import embeddings
    from ragctl.config.model import RagctlConfig
    from ragctl.stages.ingest import pipeline
    from ragctl.stages.ingest.ahead import Ahead
    from ragctl.stages.ingest.work import job

    started: list[list[str]] = []
    asked: list[tuple[int, int]] = []  # (the embedding thread, the threads it was given)

    class Counted(pipeline.Readers):
        def __init__(self, jobs, workers, timeout) -> None:  # type: ignore[no-untyped-def]
            started.append([j.name for j in jobs])
            super().__init__(jobs, workers, timeout)

    original = embeddings.OnnxMiniLMEmbedding.use_threads

    def counted(self, threads: int) -> None:  # type: ignore[no-untyped-def]
        asked.append((threading.get_ident(), threads))
        original(self, threads)

    monkeypatch.setattr(pipeline, "Readers", Counted)
    monkeypatch.setattr(embeddings.OnnxMiniLMEmbedding, "use_threads", counted)
    config = RagctlConfig()
    docs = project / "sample_docs"
    jobs = [job(docs / name, name, "0" * 64, "k", config) for name in ("normans_crusades_and_arts.txt", "README.md")]
    ahead = Ahead(jobs[:1], config)
    try:
        got = list(ahead.stream(jobs))  # not the jobs read ahead: done again
        assert started == [[jobs[0].name], [j.name for j in jobs]]
        assert sorted(p.file for p in got) == sorted(j.name for j in jobs)
        assert all(p.outcome == "ok" and p.chunks and len(p.embeddings) == len(p.chunks) for p in got)
        # the second embedder's, after the model's own setting when it loads
        asked = [threads for thread, threads in asked if thread == asked[-1][0]][1:]
        assert len(asked) == sum(len(p.chunks) for p in got), "batch size 1: asked once a chunk"
        cores = os.cpu_count() or 1
        assert set(asked) <= {0, max(1, cores - 1)}, "all cores, or those one reading worker or the caller leave"
        last = len(got[-1].chunks)  # embedded once every file was read, the caller waiting: all cores
        assert 0 in asked[-last:]
    finally:
        ahead.close()
    started.clear()
    asked.clear()
    again = Ahead(jobs, config)
    try:
        deadline = time.monotonic() + 60
        while len(asked) < 3 and time.monotonic() < deadline:  # embedding while the caller is busy elsewhere
            time.sleep(0.05)
        before = [threads for _, threads in asked[1:]]
        assert before and 0 not in before, "the caller holds a core until it asks for the files"
        assert sorted(p.file for p in again.stream(list(jobs))) == sorted(j.name for j in jobs)
        assert started == [[j.name for j in jobs]], "the same jobs: the files read ahead"
    finally:
        again.close()


@pytest.mark.e2e
def test_an_ingest_stopped_early_stops_its_embedder_and_workers(project: Path) -> None:
    """A run that ends before it takes what was done ahead (a tracking server gone, a failed write) stops
    the embedding thread and the reading workers at once, leaving nothing running; an embedding error is
    raised in the run's thread, where it reads the files."""
    import multiprocessing
    import threading

    from ragctl.config.model import RagctlConfig
    from ragctl.errors import ConfigError
    from ragctl.stages.ingest.ahead import Ahead
    from ragctl.stages.ingest.work import job

    config = RagctlConfig()
    docs = project / "sample_docs"
    jobs = [job(docs / name, name, "0" * 64, "k", config) for name in ("normans.pdf", "complexity_theory.pdf")]
    ahead = Ahead(jobs, config)
    time.sleep(1)
    began = time.monotonic()
    ahead.close()
    assert time.monotonic() - began < 5, "close() waited for the files instead of stopping their reading"
    assert not [t for t in threading.enumerate() if t.name == "ragctl-embed"]
    assert not multiprocessing.active_children(), "a reading worker outlived the run"
    endpoint = {"type": "openai-compatible", "api_base": "http://127.0.0.1:9/v1", "api_key_env": "RAGCTL_TEST_UNSET"}
    broken = RagctlConfig.model_validate({"embedding": endpoint})
    readme = [job(docs / "README.md", "README.md", "0" * 64, "k", broken)]
    ahead = Ahead(readme, broken)
    try:
        with pytest.raises(ConfigError, match="RAGCTL_TEST_UNSET is not set"):
            list(ahead.stream(readme))
    finally:
        ahead.close()
