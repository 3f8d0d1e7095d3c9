"""The whole lifecycle through the real stack: pypdf, the packaged MiniLM, Chroma, MLflow on SQLite and
Gemma 3 270M via llama.cpp. Tests run in file order and share one project folder."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ragctl.cli.app import app
from tests import pdfs
from tests.conftest import SAMPLE_DOCS

pytestmark = pytest.mark.e2e
MODEL = "ragctl-e2e-chain"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("project")
    docs = root / "docs"
    shutil.copytree(SAMPLE_DOCS, docs, ignore=shutil.ignore_patterns("README.md", "LICENSE"))
    pdfs.corrupt(docs / "broken.pdf")
    pdfs.encrypted(docs / "locked.pdf")
    (root / "ragctl.yaml").write_text(
        f"""
project: {{name: e2e, experiment: e2e}}
tracking: {{uri: "sqlite:///{root}/state/mlflow.db", artifact_location: {root}/state/artifacts}}
ingestion: {{paths: [docs]}}
vector_store: {{path: state/chroma, collection: e2e}}
evaluation: {{dataset: docs/qa.jsonl, thresholds: {{hit_rate: 0.8, mrr: 0.6, token_f1: 0.2, latency_p95: 20}}}}
registry: {{model_name: {MODEL}}}
"""
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        yield root


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, [*args, "--config", str(Path.cwd() / "ragctl.yaml")])


def ragctl(*args: str, code: int = 0) -> dict:
    result = invoke(*args, "--json")
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if result.stdout.strip() else {}


def client(project: Path):  # type: ignore[no-untyped-def]
    import mlflow
    from mlflow.tracking import MlflowClient

    mlflow.set_tracking_uri(f"sqlite:///{project}/state/mlflow.db")
    return MlflowClient()


def chroma(project: Path):  # type: ignore[no-untyped-def]
    import chromadb

    return chromadb.PersistentClient(str(project / "state" / "chroma")).get_collection("e2e")


def test_ingest_reports_bad_files_and_ingests_the_rest(project: Path) -> None:
    result = ragctl("ingest")
    status = {f["file"]: f for f in result["files"]}
    assert (status["broken.pdf"]["status"], status["broken.pdf"]["outcome"]) == ("failed", "corrupt")
    assert (status["locked.pdf"]["status"], status["locked.pdf"]["outcome"]) == ("failed", "encrypted")
    assert status["normans.pdf"]["pages"] == 6 and status["complexity_theory.pdf"]["pages"] == 9
    assert result["chunks_total"] == sum(f["chunks"] for f in result["files"]) > 50
    run = client(project).get_run(result["run_id"])
    assert run.data.tags["ragctl.stage"] == "ingest"
    assert run.data.metrics["files_failed"] == 2 and run.data.metrics["chunks_total"] == result["chunks_total"]
    assert run.data.params["chunking.chunk_size"] == "200"
    files = json.loads((Path(run.info.artifact_uri.removeprefix("file://")) / "ingest" / "files.json").read_text())
    assert {f["file"] for f in files["files"]} == set(status) and files["summary"] == result["summary"]
    assert run.data.tags["ragctl.manifest_digest"] == result["manifest_digest"]
    assert run.inputs.dataset_inputs, "the corpus is logged as an MLflow dataset input"


def test_reingest_is_idempotent_and_resumes_an_interrupted_file(project: Path) -> None:
    collection = chroma(project)
    before = collection.count()
    again = ragctl("ingest")
    assert {f["file"]: f["status"] for f in again["files"]}["normans.pdf"] == "unchanged"
    assert again["chunks_total"] == before
    # Chunks deleted behind ragctl's back: the count no longer matches the manifest, so the next run finds
    # the file whose chunks are incomplete, redoes it, and gets them back once.
    ids = collection.get(where={"file": "normans.pdf"})["ids"]
    collection.delete(ids=ids[: len(ids) // 2])
    resumed = ragctl("ingest")
    assert {f["file"]: f["status"] for f in resumed["files"]}["normans.pdf"] == "changed"
    assert chroma(project).count() == before
    assert len(set(chroma(project).get()["ids"])) == before


def test_assemble_logs_a_model_from_code_without_machine_paths(project: Path) -> None:
    result = ragctl("assemble")
    run = client(project).get_run(result["run_id"])
    assert run.data.tags["ragctl.ingest_run_id"] == result["ingest_run_id"] != "none"
    assert run.data.params["temperature"] == "0.0" and run.data.params["top_k"] == "3"
    assert "{question}" in run.data.params["prompt.template"]
    assert run.data.tags.get("mlflow.source.git.commit") or not (Path.cwd() / ".git").exists()
    import mlflow

    local = Path(mlflow.artifacts.download_artifacts(result["model_uri"]))
    flavor = yaml.safe_load((local / "MLmodel").read_text())["flavors"]["python_function"]
    assert flavor["model_code_path"].endswith("chain.py"), "logged from code, not pickled"
    assert (local / "code" / "ragctl" / "chain.py").is_file()
    assert str(project) not in json.dumps(flavor["config"]) and "/root" not in json.dumps(flavor["config"])
    assert "xllamacpp==" in (local / "requirements.txt").read_text()


def test_evaluate_gate_fails_with_exit_code_1(project: Path) -> None:
    report = ragctl("evaluate", "--limit", "2", "--set", "evaluation.thresholds.hit_rate=1.01", code=1)
    assert report["passed"] is False and report["questions"] == 2


def test_evaluate_passes_the_configured_thresholds(project: Path) -> None:
    report = ragctl("evaluate")
    assert report["passed"] is True, report
    assert report["questions"] == 29
    assert set(report["metrics"]) >= {"hit_rate", "mrr", "exact_match", "token_f1", "latency_p50", "latency_p95"}
    run = client(project).get_run(report["run_id"])
    assert run.data.tags["ragctl.eval_passed"] == "true"
    assert "eval/per_question.json" in [a.path for a in client(project).list_artifacts(report["run_id"], "eval")]
    import mlflow

    model_id = report["model_uri"].removeprefix("models:/")
    linked = {m.key: m.value for m in mlflow.get_logged_model(model_id).metrics or []}
    assert linked["hit_rate"] == report["metrics"]["hit_rate"]


def test_register_and_promote_under_gates(project: Path) -> None:
    registered = ragctl("register")
    assert registered["version"] == "1"
    assert registered["tags"]["ragctl.eval_passed"] == "true"
    assert registered["tags"]["ragctl.ingest_run_id"] not in ("", "none")
    refused = invoke("promote", "--version", "99")
    assert refused.exit_code == 1 and "no version 99" in refused.output
    promoted = ragctl("promote", "--alias", "champion", "--version", "1", "--reason", "e2e")
    assert (promoted["previous"], promoted["version"]) == (None, "1")
    assert str(client(project).get_model_version_by_alias(MODEL, "champion").version) == "1"
    params = client(project).get_run(promoted["run_id"]).data.params
    assert params["reason"] == "e2e" and params["from_version"] == "none" and params["who"]


def test_fresh_process_loads_the_champion_with_stock_mlflow(project: Path, tmp_path: Path) -> None:
    script = (
        "import json, sys, mlflow, pandas as pd\n"
        "assert 'ragctl' not in sys.modules\n"
        f"m = mlflow.pyfunc.load_model('models:/{MODEL}@champion')\n"
        "print(json.dumps(m.predict(pd.DataFrame({'question': ['Who was Guy\\'s rival?']}))))\n"
    )
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{project}/state/mlflow.db",
        "RAGCTL_CHROMA_PATH": str(project / "state" / "chroma"),
    }
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-3000:]
    (answer,) = json.loads(out.stdout.strip().splitlines()[-1])
    assert "Conrad" in answer["answer"]
    assert answer["sources"] and set(answer["sources"][0]) == {"file", "page", "score"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_mlflow_models_serve_answers(project: Path) -> None:
    port = _free_port()
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{project}/state/mlflow.db",
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
    }
    # served from another folder: the relative index path in the model is redirected at load time
    env["RAGCTL_CHROMA_PATH"] = str(project / "state" / "chroma")
    server = subprocess.Popen(
        [
            f"{bin_dir}/mlflow",
            "models",
            "serve",
            "-m",
            f"models:/{MODEL}@champion",
            "--env-manager",
            "local",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        cwd="/",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2)
                break
            except OSError:
                assert server.poll() is None, "mlflow models serve exited"
                time.sleep(1)
        body = json.dumps({"dataframe_records": [{"question": "When was the Duchy of Normandy founded?"}]}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations", body, {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            (prediction,) = json.loads(response.read())["predictions"]
        assert "911" in prediction["answer"]
        assert prediction["sources"][0]["file"] == "normans.pdf"
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


def test_query_and_status(project: Path) -> None:
    answer = ragctl("query", "In what country is Normandy located?")
    assert "France" in answer["answer"] and answer["model_uri"].endswith("@champion")
    status = ragctl("status")
    assert set(status) >= {"tracking_uri", "experiment", "model_name", "aliases", "collection", "chunks", "last_runs"}
    assert status["aliases"] == {"champion": "1"}
    assert all(status["last_runs"][s] for s in ("ingest", "assemble", "evaluate", "register", "promote"))


@pytest.fixture(scope="module")
def llama_server() -> Iterator[tuple[str, str]]:
    """A real OpenAI-compatible endpoint: llama.cpp's HTTP server on loopback, behind an API key."""
    import secrets

    import xllamacpp

    from ragctl.components.llms import resolve_gguf

    key = secrets.token_hex(8)
    params = xllamacpp.CommonParams()
    params.model.path = str(resolve_gguf("gemma-3-270m-q4_k_m"))
    params.n_ctx = 4096
    params.verbosity = -1
    params.api_keys = [key]
    server = xllamacpp.Server(params)
    yield server.listening_address + "/v1", key
    del server


def test_openai_compatible_endpoint_and_the_key_never_reaches_mlflow(
    project: Path, llama_server: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api_base, key = llama_server
    monkeypatch.setenv("RAGCTL_E2E_KEY", key)
    endpoint = [
        "--set",
        "llm.type=openai-compatible",
        "--set",
        f"llm.api_base={api_base}",
        "--set",
        "llm.api_key_env=RAGCTL_E2E_KEY",
        "--set",
        "project.experiment=e2e-endpoint",
    ]
    result = ragctl("assemble", *endpoint)  # logging test-runs the chain through the endpoint
    report = ragctl("evaluate", "--limit", "3", *endpoint)
    assert report["questions"] == 3 and report["metrics"]["hit_rate"] > 0
    run = client(project).get_run(result["run_id"])
    assert run.data.params["llm.api_key_env"] == "RAGCTL_E2E_KEY"
    import mlflow

    logged = Path(mlflow.artifacts.download_artifacts(run_id=result["run_id"], artifact_path=""))
    model = Path(mlflow.artifacts.download_artifacts(result["model_uri"]))
    texts = [json.dumps(run.data.params), json.dumps(run.data.tags)]
    texts += [p.read_text(errors="ignore") for d in (logged, model) for p in d.rglob("*") if p.is_file()]
    assert not any(key in text for text in texts)
    monkeypatch.setenv("RAGCTL_E2E_KEY", "wrong")
    refused = invoke("evaluate", "--limit", "1", *endpoint)
    assert refused.exit_code == 4 and "401" in refused.output
