"""Real servers on loopback for the tests: llama.cpp's OpenAI-compatible HTTP server (xllamacpp) with the
packaged Gemma GGUF, for the LLM, embedding and judge endpoints."""

from __future__ import annotations

import secrets
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
