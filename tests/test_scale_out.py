"""From a laptop to a team by configuration alone: the same commands against real servers started here on
loopback and stopped by PID: `mlflow server` backed by PostgreSQL (Debian's package; `.ci/run` installs it),
`chroma run`, and llama.cpp's server with the packaged model for the LLM and the embeddings."""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragctl.cli.app import app
from tests import servers
from tests.conftest import require

BIN = Path(sys.executable).parent


@pytest.fixture
def chroma_port(tmp_path: Path) -> Iterator[int]:
    with servers.serve(
        [str(BIN / "chroma"), "run", "--path", str(tmp_path / "chroma-server")], "/api/v2/heartbeat"
    ) as port:
        yield port


def _postgres_bin(tool: str) -> str | None:
    found = shutil.which(tool) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"))), None)
    return found


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on loopback (as the `postgres` user when the tests run as root: the
    server refuses root; its folder sits in /tmp, which that user can reach)."""
    initdb, pg_ctl = _postgres_bin("initdb"), _postgres_bin("pg_ctl")
    require(initdb and pg_ctl, "PostgreSQL (Debian's postgresql: initdb, pg_ctl)")
    root = Path(tempfile.mkdtemp(prefix="ragctl-postgres-"))
    data, port = root / "data", servers.free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.STDOUT, "check": True, "cwd": root}
    subprocess.run([*as_user, initdb, "-D", str(data), "-U", "postgres", "--auth=trust"], **quiet)  # type: ignore[call-overload]
    options = f"-p {port} -h 127.0.0.1 -k {root}"
    subprocess.run([*as_user, pg_ctl, "-D", str(data), "-o", options, "-w", "start"], **quiet)  # type: ignore[call-overload]
    try:
        psql = _postgres_bin("psql") or "psql"
        create = [psql, "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-c", "CREATE DATABASE mlflow"]
        subprocess.run(create, **quiet)  # type: ignore[call-overload]
        yield f"postgresql://postgres@127.0.0.1:{port}/mlflow"
    finally:
        stop = [*as_user, pg_ctl, "-D", str(data), "-m", "fast", "stop"]
        subprocess.run(stop, check=False, capture_output=True, cwd=root)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def mlflow_port(tmp_path: Path, postgres_url: str) -> Iterator[int]:
    with servers.serve(
        [
            str(BIN / "mlflow"),
            "server",
            "--backend-store-uri",
            postgres_url,
            "--artifacts-destination",
            str(tmp_path / "server-artifacts"),
            "--workers",
            "1",
        ],
        "/health",
        env={"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"},
    ) as port:
        yield port


@pytest.fixture
def endpoints(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """llama.cpp's server twice: completions for the LLM, mean-pooled embeddings; keys from the environment."""
    llm, llm_base, llm_key = servers.llama_server(n_ctx=8192)
    emb, emb_base, emb_key = servers.llama_server(n_ctx=2048, embedding=True)
    monkeypatch.setenv("TEAM_LLM_KEY", llm_key)
    monkeypatch.setenv("TEAM_EMBEDDING_KEY", emb_key)
    yield [
        f"llm={{type: openai-compatible, model: gemma, api_base: '{llm_base}', api_key_env: TEAM_LLM_KEY}}",
        f"embedding={{type: openai-compatible, model: gemma, api_base: '{emb_base}', api_key_env: TEAM_EMBEDDING_KEY}}",
    ]
    del llm, emb


@pytest.mark.e2e
def test_the_team_lifecycle_on_real_servers(
    project: Path, tmp_path: Path, postgres_url: str, chroma_port: int, mlflow_port: int, endpoints: list[str]
) -> None:
    """ingest -> ... -> promote via `ragctl run`, a skipped re-run, a second version, rollback, lineage and
    `mlflow models serve` of the champion, with nothing written locally and the endpoints' keys nowhere on
    the servers (every row of the database, traces included, and every artifact)."""
    tracking = f"http://127.0.0.1:{mlflow_port}"
    team = ["tracking.uri=" + tracking, f"vector_store={{mode: http, host: 127.0.0.1, port: {chroma_port}}}"]
    # Two of the three documents: each chunk is embedded by Gemma through the endpoint (~1 s a chunk here).
    team += ["ingestion.exclude=[README.md, LICENSE, complexity_theory.pdf]", "evaluation.limit=3"]
    team += ["evaluation.thresholds={}"]
    team += endpoints
    sets = [arg for item in team for arg in ("--set", item)]

    def ragctl(*args: str) -> dict:
        result = CliRunner().invoke(app, [*args, "--json", *sets])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    first = ragctl("run", "--promote", "champion")
    assert [s["status"] for s in first["steps"]] == ["ran"] * 5 and first["version"] == "1"
    assert not (project / ".ragctl").exists(), "nothing may be written locally"
    assert [s["status"] for s in ragctl("run", "--promote", "champion")["steps"]] == ["skipped"] * 5
    with (project / "sample_docs" / "normans_crusades_and_arts.txt").open("a") as fh:
        fh.write("\nThe Normans built castles across the lands they ruled.\n")
    assert ragctl("run", "--promote", "champion")["version"] == "2"
    back = ragctl("promote", "--rollback", "--reason", "team test")
    assert (back["previous"], back["version"]) == ("2", "1")
    found = ragctl("lineage", "champion")
    assert found["version"] == "1" and {f["file"] for f in found["files"]} >= {"normans.pdf"}
    assert found["promotions"][0]["action"] == "rollback"

    import chromadb
    import mlflow

    client = mlflow.MlflowClient(tracking)
    assert client.get_model_version_by_alias("ragctl-demo-chain", "champion").version in (1, "1")
    chunks = chromadb.HttpClient(host="127.0.0.1", port=chroma_port).get_collection("ragctl").get()["metadatas"]
    assert {m["file"] for m in chunks} == {"normans.pdf", "normans_crusades_and_arts.txt"}
    # The served chain has its own empty cache: it downloads the collection's search index from the run
    # of the ingest that built it, instead of reading the whole collection.
    cache = tmp_path / "serve-cache"
    env = {"MLFLOW_TRACKING_URI": tracking, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    env["RAGCTL_CACHE_DIR"] = str(cache)
    serve = [
        str(BIN / "mlflow"),
        "models",
        "serve",
        "-m",
        "models:/ragctl-demo-chain@champion",
        "--env-manager",
        "local",
    ]
    with servers.serve(serve, "/ping", env=env, cwd="/") as port:
        body = json.dumps({"dataframe_records": [{"question": "When was the Duchy of Normandy founded?"}]})
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations", body.encode(), {"Content-Type": "application/json"}
        )
        (prediction,) = json.loads(urllib.request.urlopen(request, timeout=120).read())["predictions"]
        assert prediction["sources"] and isinstance(prediction["answer"], str)
    metadata = chromadb.HttpClient(host="127.0.0.1", port=chroma_port).get_collection("ragctl").metadata
    assert metadata["ragctl.index_uri"].startswith("runs:/") and metadata["ragctl.index"]
    assert (cache / "index" / metadata["ragctl.index"] / "index.json").exists()
    _review_in_mlflows_own_page(ragctl, tracking)
    dump = subprocess.run([_postgres_bin("pg_dump") or "pg_dump", postgres_url], capture_output=True, text=True)
    assert dump.returncode == 0 and "trace_info" in dump.stdout, dump.stderr
    stored = [dump.stdout] + [p.read_bytes().decode("latin-1") for p in tmp_path.rglob("*") if p.is_file()]
    for key in (os.environ["TEAM_LLM_KEY"], os.environ["TEAM_EMBEDDING_KEY"]):
        assert not [i for i, text in enumerate(stored) if key in text], "a key reached the servers"


def test_unreachable_tracking_server_is_exit_4(project: Path) -> None:
    port = servers.free_port()
    result = CliRunner().invoke(app, ["ingest", "--set", f"tracking.uri=http://127.0.0.1:{port}"])
    assert result.exit_code == 4, result.output
    assert "MLflow tracking server" in result.output and len(result.output.strip().splitlines()) <= 3
    assert not (project / ".ragctl").exists(), "no half-written state"


def test_unreachable_chroma_server_is_exit_4(project: Path) -> None:
    port = servers.free_port()
    result = CliRunner().invoke(
        app, ["ingest", "--set", "vector_store.mode=http", "--set", f"vector_store.port={port}"]
    )
    assert result.exit_code == 4, result.output
    assert "cannot reach Chroma" in result.output


def _ingest_child(project: Path, sets: list[str], **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BIN / "ragctl"), "ingest", "--json", *sets],
        cwd=project,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _until(condition, proc: subprocess.Popen[str], seconds: float = 300) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert proc.poll() is None, f"ingest ended early: {proc.communicate()}"
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.mark.e2e
def test_servers_restarted_mid_ingest_then_the_rerun_equals_one_clean_ingest(
    project: Path, tmp_path: Path, postgres_url: str
) -> None:
    """Chroma killed mid-ingest: exit 4 in one line. MLflow restarted mid-ingest: the ingest rides it out.
    MLflow gone until the client gives up: exit 4, its run left RUNNING on the server. The re-run reaps
    that run and completes; the collection then equals one clean ingest of the same files."""
    import chromadb
    import mlflow

    from ragctl.records.manifest import Manifest

    docs = project / "docs"
    docs.mkdir()
    for i in range(4):
        shutil.copy(project / "sample_docs" / "normans.pdf", docs / f"normans-{i}.pdf")
        shutil.copy(project / "sample_docs" / "complexity_theory.pdf", docs / f"complexity-{i}.pdf")
    chroma = servers.Server([str(BIN / "chroma"), "run", "--path", str(tmp_path / "chroma")], "/api/v2/heartbeat")
    options = ["--backend-store-uri", postgres_url, "--artifacts-destination", str(tmp_path / "artifacts")]
    tracking = servers.Server(
        [str(BIN / "mlflow"), "server", *options, "--workers", "1"],
        "/health",
        env={"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"},
    )
    chroma.start()
    tracking.start()
    try:
        store = f"{{mode: http, host: 127.0.0.1, port: {chroma.port}, collection: %s}}"
        sets = ["--set", "ingestion.paths=[docs]", "--set", f"tracking.uri={tracking.url}"]
        sets += ["--set", "project.experiment=restarts"]  # the database is shared with the module's other tests
        restart = [*sets, "--set", "vector_store=" + store % "restart"]
        client = chromadb.HttpClient(host="127.0.0.1", port=chroma.port)

        def chunks() -> int:
            try:
                return client.get_collection("restart").count()
            except Exception:
                return 0

        # Chroma killed once the first chunks land.
        proc = _ingest_child(project, restart)
        _until(lambda: chunks() > 0, proc)
        chroma.stop(signal.SIGKILL)
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 4, err
        assert "lost the connection to http://127.0.0.1" in err and "Traceback" not in err
        assert len(err.strip().splitlines()) <= 4, err
        chroma.start()

        # MLflow killed mid-ingest and back once every file is written: the ingest's client retries.
        before = chunks()
        proc = _ingest_child(project, restart)
        _until(lambda: chunks() > before, proc)
        tracking.stop(signal.SIGKILL)

        def all_written() -> bool:
            entries = Manifest.load(client, "restart", create=False).entries
            return len(entries) == 8 and all(e.state == "ok" for e in entries.values())

        _until(all_written, proc)
        tracking.start()
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert json.loads(out)["summary"]["files"]["failed"] == 0

        # MLflow gone until the client gives up (no retries): exit 4, and its run stays RUNNING.
        for i in range(4, 6):
            shutil.copy(project / "sample_docs" / "normans.pdf", docs / f"normans-{i}.pdf")
        (docs / "normans-0.pdf").unlink()
        before = chunks()
        proc = _ingest_child(project, restart, MLFLOW_HTTP_REQUEST_MAX_RETRIES="0")
        _until(lambda: chunks() > before, proc)
        tracking.stop(signal.SIGKILL)
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 4, err
        assert f"lost the connection to {tracking.url}" in err and "Traceback" not in err
        tracking.start()

        result = CliRunner().invoke(app, ["ingest", "--json", *restart])
        assert result.exit_code == 0, result.output
        resumed = json.loads(result.stdout)
        assert len(resumed["reaped_runs"]) == 1
        clean = CliRunner().invoke(app, ["ingest", "--json", *sets, "--set", "vector_store=" + store % "clean"])
        assert clean.exit_code == 0, clean.output

        def contents(name: str) -> dict[str, tuple[str, str]]:
            got = client.get_collection(name).get(include=["documents", "metadatas"])
            pairs = zip(got["ids"], got["documents"], got["metadatas"])
            return {i: (d, json.dumps(m, sort_keys=True)) for i, d, m in pairs}

        assert resumed["chunks_total"] == json.loads(clean.stdout)["chunks_total"]
        assert contents("restart") == contents("clean"), "the same chunks, no duplicates, none of deleted files"
        runs = mlflow.MlflowClient(tracking.url).search_runs(
            [resumed["experiment_id"]], "tags.`ragctl.stage` = 'ingest'", max_results=20
        )
        assert sorted(r.info.status for r in runs) == ["FAILED", "FINISHED", "FINISHED", "FINISHED", "KILLED"]
    finally:
        chroma.stop()
        tracking.stop()


def _review_in_mlflows_own_page(ragctl, tracking: str) -> None:  # type: ignore[no-untyped-def]
    """The champion's answers in a review queue, shown by MLflow's Review page in a real browser; a verdict
    written through the REST API as that page writes it; `review status` counts it."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from tests import browser

    ann = "ann@example.com"
    started = ragctl("review", "start", "--alias", "champion", "--sample", "2", "--reviewer", ann)
    assert started["review_page"] == f"{tracking}/#/experiments/{started['experiment_id']}/review-queue"
    first = started["items"][0]
    body = {
        "assessment": {
            "assessment_name": "ragctl_correct",
            "trace_id": first["trace_id"],
            "source": {"source_type": "HUMAN", "source_id": ann},
            "feedback": {"value": "partly"},
            "rationale": "right year, wrong treaty",
        }
    }
    request = urllib.request.Request(
        f"{tracking}/ajax-api/3.0/mlflow/traces/{first['trace_id']}/assessments",
        json.dumps(body).encode(),
        {"Content-Type": "application/json"},
    )
    assert urllib.request.urlopen(request, timeout=30).status == 200
    status = ragctl("review", "status", started["queue"])
    assert [(p["reviewer"], p["done"], p["to_do"]) for p in status["progress"]] == [(ann, 1, 1)]
    with browser.chromium() as page:
        page.get(started["review_page"])
        wait = WebDriverWait(page, 90)
        queue = wait.until(lambda d: next(iter(d.find_elements(By.XPATH, f"//*[text()='{started['queue']}']")), None))
        queue.click()
        wait.until(lambda d: all(i["question"] in d.find_element(By.TAG_NAME, "body").text for i in started["items"]))
        for close in page.find_elements(By.CSS_SELECTOR, "[aria-label='Close']"):  # the assistant's side panel
            if close.is_displayed():
                close.click()
        browser.screenshot(page, "review-queue.png")


@pytest.mark.e2e
def test_a_tracking_uri_password_reaches_no_record_and_no_output(
    project: Path, tmp_path: Path, postgres_url: str
) -> None:
    """tracking.uri straight to PostgreSQL with a password (trust auth here accepts any): the runs work, and
    the password is in nothing MLflow stored (the whole database, dumped), no artifact, and no output."""
    password = "s3cret-Pw-4711"
    uri = postgres_url.replace("postgres@", f"postgres:{password}@")
    docs = project / "docs"
    docs.mkdir()
    (docs / "harbour.txt").write_text("The harbour of Rouen held forty ships in the year 1100.\n")
    sets = ["--set", f"tracking.uri={uri}", "--set", "project.experiment=secrets", "--set", "ingestion.paths=[docs]"]
    sets += ["--set", f"tracking.artifact_location={tmp_path / 'artifacts'}"]
    runner = CliRunner()
    shown = []
    for command in (["ingest"], ["status"], ["status", "--json"], ["config"], ["models"]):
        result = runner.invoke(app, [*command, *sets])
        assert result.exit_code == 0, result.output
        shown.append(result.output)
    # the same database through its Unix socket (checked before MLflow's engine, which retries for 101 s)
    port = postgres_url.rsplit(":", 1)[1].split("/")[0]
    ask = [_postgres_bin("psql") or "psql", postgres_url, "-tAc", "SHOW unix_socket_directories"]
    folder = subprocess.run(ask, capture_output=True, text=True, check=True).stdout.strip().split(",")[0]
    by_socket = f"postgresql://postgres:{password}@/mlflow?host={folder}&port={port}"
    result = runner.invoke(app, ["status", "--json", *sets, "--set", f"tracking.uri={by_socket}"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["last_runs"]["ingest"], "the runs recorded over TCP, read through the socket"
    shown.append(result.output)
    # a driver's error quotes the URI it failed on
    unreachable = uri.replace(postgres_url.rsplit(":", 1)[1].split("/")[0], str(servers.free_port()))
    failed = runner.invoke(app, ["status", *sets, "--set", f"tracking.uri={unreachable}"])
    assert failed.exit_code == 4 and "is unreachable: Connection refused" in failed.output, failed.output
    shown.append(failed.output)
    assert "postgres:***@127.0.0.1" in shown[1], "the account is shown, its password masked"
    assert all(password not in out for out in shown), shown
    dump = subprocess.run([_postgres_bin("pg_dump") or "pg_dump", postgres_url], capture_output=True, text=True)
    assert dump.returncode == 0 and "\tsecrets\t" in dump.stdout and "ingest-" in dump.stdout, "recorded here"
    assert password not in dump.stdout
    for path in (tmp_path / "artifacts").rglob("*"):
        assert not path.is_file() or password.encode() not in path.read_bytes(), path
