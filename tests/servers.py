"""Real servers on loopback for the tests and benches: llama.cpp's OpenAI-compatible HTTP server
(xllamacpp) with the packaged Gemma GGUF, for the LLM, embedding and judge endpoints; and any server
command (`chroma run`, `mlflow server`, `mlflow models serve`) on a free port."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def llama_server(n_ctx: int = 4096, embedding: bool = False, rerank: bool = False) -> tuple[Any, str, str]:
    """(server, api_base, key): keep `server` referenced while in use; `del` it to stop."""
    import xllamacpp

    from ragctl.components.llms import resolve_gguf

    key = secrets.token_hex(8)
    params = xllamacpp.CommonParams()
    params.model.path = str(resolve_gguf("gemma-3-270m-q4_k_m"))
    params.n_ctx = n_ctx
    params.verbosity = -1
    params.api_keys = [key]
    params.n_predict = 512  # a judge that never stops would hold the server (and its teardown) for minutes
    if embedding:
        # /v1/embeddings answers 400 "Pooling type 'none' is not OAI compatible" without a pooling type.
        params.embedding = True
        params.pooling_type = xllamacpp.llama_pooling_type.LLAMA_POOLING_TYPE_MEAN
    if rerank:
        # /v1/rerank: the model scores (query, document) pairs; llama.cpp's rank pooling.
        params.embedding = True
        params.pooling_type = xllamacpp.llama_pooling_type.LLAMA_POOLING_TYPE_RANK
    server = xllamacpp.Server(params)
    return server, server.listening_address + "/v1", key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(args: list[str], health: str, env: dict[str, str] | None = None, cwd: str | None = None) -> Iterator[int]:
    """Start a server on a free loopback port, wait for its health route, stop its process group after."""
    port = free_port()
    proc = subprocess.Popen(
        [*args, "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, **(env or {})},
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{health}", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{args[0]} did not start") from None
                time.sleep(0.5)
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
