"""embedding.type openai-compatible: against a real `/v1/embeddings` server (llama.cpp's, with the packaged
Gemma GGUF, on loopback behind an API key), and retries against a server that fails at first."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragctl.cli.app import app
from ragctl.config.model import EmbeddingConfig
from tests import servers


@pytest.fixture(scope="module")
def embedding_server() -> Iterator[tuple[str, str]]:
    server, api_base, key = servers.llama_server(n_ctx=2048, embedding=True)
    yield api_base, key
    del server


@pytest.mark.e2e
def test_ingest_and_query_through_an_embedding_endpoint(
    project: Path, embedding_server: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api_base, key = embedding_server
    monkeypatch.setenv("RAGCTL_TEST_EMBED_KEY", key)
    endpoint = [
        "--set",
        "embedding.type=openai-compatible",
        "--set",
        f"embedding.api_base={api_base}",
        "--set",
        "embedding.model=gemma-3-270m",
        "--set",
        "embedding.api_key_env=RAGCTL_TEST_EMBED_KEY",
        "--set",
        "embedding.batch_size=8",
        "--set",
        "ingestion.paths=[sample_docs/normans_crusades_and_arts.txt]",  # a third of the PDF's chunks
    ]
    result = CliRunner().invoke(app, ["ingest", "--json", *endpoint])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["summary"]["chunks"]["added"] == report["chunks_total"] > 8, "more than one batch of 8"
    import chromadb
    import mlflow

    collection = chromadb.PersistentClient(str(project / ".ragctl" / "chroma")).get_collection("ragctl")
    from ragctl.components.remote_embeddings import openai_compatible

    config = EmbeddingConfig(type="openai-compatible", api_base=api_base, api_key_env="RAGCTL_TEST_EMBED_KEY")
    query = openai_compatible(config).get_query_embedding("Who was Rollo?")
    assert len(query) == 640, "Gemma 3 270M's hidden size"
    got = collection.query(query_embeddings=[query], n_results=1, include=["embeddings"])
    assert len(got["embeddings"][0][0]) == 640, "the stored vectors are the endpoint's"
    mlflow.set_tracking_uri(f"sqlite:///{project}/.ragctl/mlflow.db")
    run = mlflow.get_run(report["run_id"])
    assert (
        key not in json.dumps(run.data.params) and run.data.params["embedding.api_key_env"] == "RAGCTL_TEST_EMBED_KEY"
    )
    monkeypatch.setenv("RAGCTL_TEST_EMBED_KEY", "wrong")
    refused = CliRunner().invoke(app, ["ingest", *endpoint[:-2], "--set", "ingestion.paths=[sample_docs/normans.pdf]"])
    assert refused.exit_code == 4 and "401" in refused.output


class _Flaky(BaseHTTPRequestHandler):
    failures_left = 2

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if _Flaky.failures_left > 0:
            _Flaky.failures_left -= 1
            self.send_response(503)
            self.end_headers()
            return
        data = [{"index": i, "embedding": [float(len(t)), 1.0]} for i, t in enumerate(body["input"])]
        payload = json.dumps({"data": data}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


def test_transient_failures_are_retried_and_order_is_kept() -> None:
    """Retry logic only: a tiny HTTP server that answers 503 twice, then echoes text lengths."""
    from ragctl.components.remote_embeddings import openai_compatible

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/v1"
        model = openai_compatible(EmbeddingConfig(type="openai-compatible", api_base=base, batch_size=2, concurrency=3))
        texts = ["a", "bbb", "cc", "dddd", "e"]
        assert [v[0] for v in model.embed_many(texts)] == [1.0, 3.0, 2.0, 4.0, 1.0]
        assert _Flaky.failures_left == 0
    finally:
        server.shutdown()
