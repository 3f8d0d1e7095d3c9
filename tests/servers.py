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


class Server:
    """A server process on a fixed loopback port that can be stopped (or killed) and started again there."""

    def __init__(self, args: list[str], health: str, env: dict[str, str] | None = None, cwd: str | None = None):
        self.args, self.health, self.env, self.cwd = args, health, env, cwd
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> int:
        self.proc = subprocess.Popen(
            [*self.args, "--host", "127.0.0.1", "--port", str(self.port)],
            env={**os.environ, **(self.env or {})},
            cwd=self.cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(self.url + self.health, timeout=2)
                return self.port
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"{self.args[0]} did not start") from None
                time.sleep(0.5)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=30)
        self.proc = None


@contextmanager
def serve(args: list[str], health: str, env: dict[str, str] | None = None, cwd: str | None = None) -> Iterator[int]:
    """Start a server on a free loopback port, wait for its health route, stop its process group after."""
    server = Server(args, health, env, cwd)
    try:
        yield server.start()
    finally:
        server.stop()
