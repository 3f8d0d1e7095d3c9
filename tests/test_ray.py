"""ingestion.executor: ray on a real Ray cluster started here on loopback (`ray start --head` and a second
node joined to it, one CPU each, both stopped at the end), writing to a real `chroma run` server with MLflow
on a tracking server: the same files give what a local ingest gives, even with a worker killed mid-file
(and `--json` stays JSON when Ray reports it)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragctl.cli.app import app
from tests import pdfs
from tests.conftest import require
from tests.test_scale_out import chroma_port, mlflow_port, postgres_url  # noqa: F401 (fixtures)

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require((BIN / "ray").exists(), "ray (pip install 'ragctl[ray]')")
    address = f"127.0.0.1:{_free_port()}"
    common = ["--num-cpus=1", "--disable-usage-stats"]
    head = [str(BIN / "ray"), "start", "--head", f"--port={address.split(':')[1]}", "--include-dashboard=false"]
    try:
        subprocess.run([*head, *common], check=True, capture_output=True, timeout=180)
        subprocess.run([str(BIN / "ray"), "start", f"--address={address}", *common], check=True, capture_output=True)
        yield address
    finally:
        subprocess.run([str(BIN / "ray"), "stop", "--force"], capture_output=True, timeout=180)


def _sets(settings: list[str]) -> list[str]:
    """`--set KEY=VALUE` for each setting."""
    return [arg for item in settings for arg in ("--set", item)]


def _readers() -> list[int]:
    """Ray worker processes running a file's task now (Ray names a worker's process after its task)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cmdline").read_bytes().startswith(b"ray::prepare_bytes"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _ingest_killing_a_reader(settings: list[str]) -> dict:
    """`ragctl ingest` on the cluster, with the worker of its first file killed (SIGKILL) mid-file: Ray
    reruns that file's task on another worker."""
    import os
    import signal
    import time

    proc = subprocess.Popen(
        [str(BIN / "ragctl"), "ingest", "--json", *_sets(settings)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 300
    while not (readers := _readers()):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no file was read on the cluster"
        time.sleep(0.02)
    os.kill(readers[0], signal.SIGKILL)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    return dict(json.loads(out))


def test_a_ray_ingest_gives_what_a_local_ingest_gives(
    project: Path,
    ray_cluster: str,
    chroma_port: int,  # noqa: F811
    mlflow_port: int,  # noqa: F811
) -> None:
    docs = project / "docs"
    shutil.copytree(project / "sample_docs", docs, ignore=shutil.ignore_patterns("README.md", "LICENSE", "*.jsonl"))
    pdfs.encrypted(docs / "locked.pdf")  # hostile files have the same outcomes on the cluster
    pdfs.corrupt(docs / "broken.pdf")
    server = [
        f"tracking.uri=http://127.0.0.1:{mlflow_port}",
        f"vector_store={{mode: http, host: 127.0.0.1, port: {chroma_port}}}",
        f"ingestion.paths=[{docs}]",
    ]

    def ingest(collection: str, *settings: str) -> dict:
        result = CliRunner().invoke(
            app, ["ingest", "--json", *_sets([*server, f"vector_store.collection={collection}", *settings])]
        )
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    local = ingest("local")
    on_ray = _ingest_killing_a_reader(
        [*server, "vector_store.collection=on-ray", "ingestion.executor=ray", f"ingestion.ray.address={ray_cluster}"]
    )
    assert {f["file"]: f["outcome"] for f in on_ray["files"]}["locked.pdf"] == "encrypted"
    for report in (local, on_ray):
        report["summary"].pop("seconds")
    assert on_ray["files"] == local["files"] and on_ray["summary"] == local["summary"]
    assert on_ray["manifest_digest"] == local["manifest_digest"]

    import chromadb
    import numpy as np

    from ragctl.config.model import VectorStoreConfig
    from ragctl.records.manifest import read

    client = chromadb.HttpClient(host="127.0.0.1", port=chroma_port)

    def contents(name: str) -> tuple[dict, dict]:
        got = client.get_collection(name).get(include=["documents", "metadatas", "embeddings"])
        rows = {i: (d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])}
        vectors = dict(zip(got["ids"], np.asarray(got["embeddings"])))
        manifest = read(client, VectorStoreConfig(mode="http", collection=name))
        return rows, {"entries": manifest.entries, "vectors": vectors}

    (rows, rest), (ray_rows, ray_rest) = contents("local"), contents("on-ray")
    assert ray_rows == rows and ray_rest["entries"] == rest["entries"]
    assert all(np.allclose(ray_rest["vectors"][i], v, atol=1e-6) for i, v in rest["vectors"].items())
    # Then a local run on the Ray-made collection redoes nothing but the failed files (as it always retries
    # them): either executor continues the other's collection.
    again = ingest("on-ray")
    redone = {f["file"] for f in again["files"] if f["status"] != "unchanged"}
    assert redone == {"locked.pdf", "broken.pdf"} and again["summary"]["chunks"]["added"] == 0


def test_the_driver_killed_mid_ray_ingest_leaves_what_a_local_kill_leaves(
    project: Path,
    ray_cluster: str,
    chroma_port: int,  # noqa: F811
    mlflow_port: int,  # noqa: F811
) -> None:
    """kill -9 of the ingest process while the cluster works: the next ingest (local here) marks its run
    KILLED and completes the collection, with no duplicates, as after a local kill."""
    import os
    import signal
    import time

    import chromadb
    import mlflow

    docs = project / "docs"
    docs.mkdir()
    for i in range(3):  # copies differ in name (and so in chunk ids), not in content
        shutil.copy(project / "sample_docs" / "complexity_theory.pdf", docs / f"complexity-{i}.pdf")
    tracking = f"http://127.0.0.1:{mlflow_port}"
    server = [f"tracking.uri={tracking}", f"vector_store={{mode: http, host: 127.0.0.1, port: {chroma_port}}}"]
    server += [f"ingestion.paths=[{docs}]", "vector_store.collection=killed"]
    on_ray = ["ingestion.executor=ray", f"ingestion.ray.address={ray_cluster}"]
    ragctl = [str(BIN / "ragctl"), "ingest", "--json"]
    proc = subprocess.Popen([*ragctl, *_sets([*server, *on_ray])], stdout=subprocess.PIPE, text=True)
    client = chromadb.HttpClient(host="127.0.0.1", port=chroma_port)

    def written() -> int:
        try:
            return int(client.get_collection("killed").count())
        except Exception:
            return 0

    deadline = time.monotonic() + 300
    while written() == 0:  # the first file is in: kill before the last
        assert proc.poll() is None and time.monotonic() < deadline, "the ingest ended before it could be killed"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    result = CliRunner().invoke(app, ["ingest", "--json", *_sets(server)])
    assert result.exit_code == 0, result.output
    resumed = json.loads(result.stdout)
    assert len(resumed["reaped_runs"]) == 1 and resumed["summary"]["files"]["failed"] == 0
    ids = client.get_collection("killed").get(include=[])["ids"]
    assert len(ids) == len(set(ids)) == resumed["chunks_total"] == 3 * resumed["files"][0]["chunks"]
    run = mlflow.MlflowClient(tracking).get_run(resumed["reaped_runs"][0])
    assert run.info.status == "KILLED"
