"""Scale-out is a config change: the same commands against a real `chroma run` server and a real
`mlflow server`, both started here on loopback and stopped by PID."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragctl.cli.app import app

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(args: list[str], health: str, env: dict[str, str] | None = None) -> Iterator[int]:
    port = _free_port()
    proc = subprocess.Popen(
        [*args, "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{health}", timeout=2)
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, f"{args[0]} did not start"
                time.sleep(0.5)
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


@pytest.fixture
def chroma_port(tmp_path: Path) -> Iterator[int]:
    yield from _serve([str(BIN / "chroma"), "run", "--path", str(tmp_path / "chroma-server")], "/api/v2/heartbeat")


@pytest.fixture
def mlflow_port(tmp_path: Path) -> Iterator[int]:
    yield from _serve(
        [
            str(BIN / "mlflow"),
            "server",
            "--backend-store-uri",
            f"sqlite:///{tmp_path}/server.db",
            "--artifacts-destination",
            str(tmp_path / "server-artifacts"),
            "--workers",
            "1",
        ],
        "/health",
        env={"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"},
    )


def test_ingest_into_chroma_and_mlflow_servers(project: Path, chroma_port: int, mlflow_port: int) -> None:
    servers = [
        "--set",
        f"tracking.uri=http://127.0.0.1:{mlflow_port}",
        "--set",
        "vector_store.mode=http",
        "--set",
        "vector_store.host=127.0.0.1",
        "--set",
        f"vector_store.port={chroma_port}",
        "--set",
        "ingestion.exclude=[README.md, LICENSE]",
    ]
    result = CliRunner().invoke(app, ["ingest", "--json", *servers])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["chunks_total"] > 50
    assert not (project / ".ragctl").exists(), "nothing may be written locally"

    import chromadb
    import mlflow

    assert (
        chromadb.HttpClient(host="127.0.0.1", port=chroma_port).get_collection("ragctl").count()
        == (report["chunks_total"])
    )
    run = mlflow.MlflowClient(f"http://127.0.0.1:{mlflow_port}").get_run(report["run_id"])
    assert run.data.tags["ragctl.stage"] == "ingest" and run.data.metrics["chunks_total"] == report["chunks_total"]
    shown = CliRunner().invoke(app, ["status", "--json", *servers])
    assert shown.exit_code == 0, shown.output
    status = json.loads(shown.stdout)
    assert status["chunks"] == report["chunks_total"]
    assert status["last_runs"]["ingest"]["run_id"] == report["run_id"]


def test_unreachable_chroma_server_is_exit_4(project: Path) -> None:
    port = _free_port()
    result = CliRunner().invoke(
        app, ["ingest", "--set", "vector_store.mode=http", "--set", f"vector_store.port={port}"]
    )
    assert result.exit_code == 4, result.output
    assert "cannot reach Chroma" in result.output
