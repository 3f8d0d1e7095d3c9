"""From a laptop to a team by configuration alone: the same commands against real servers started here on
loopback and stopped by PID: `mlflow server` backed by PostgreSQL (Debian's package; `.ci/run` installs it),
`chroma run`, and llama.cpp's server with the packaged model for the LLM and the embeddings."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
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
    project: Path, chroma_port: int, mlflow_port: int, endpoints: list[str]
) -> None:
    """ingest -> ... -> promote via `ragctl run`, a skipped re-run, a second version, rollback, lineage and
    `mlflow models serve` of the champion, with nothing written locally."""
    tracking = f"http://127.0.0.1:{mlflow_port}"
    team = ["tracking.uri=" + tracking, f"vector_store={{mode: http, host: 127.0.0.1, port: {chroma_port}}}"]
    team += ["ingestion.exclude=[README.md, LICENSE]", "evaluation.limit=3", "evaluation.thresholds={}"]
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
    assert chromadb.HttpClient(host="127.0.0.1", port=chroma_port).get_collection("ragctl").count() > 50
    env = {"MLFLOW_TRACKING_URI": tracking, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
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
