"""Embeddings from any OpenAI-compatible `/v1/embeddings` endpoint: TEI, vLLM, Ollama, OpenAI, Databricks,
llama.cpp's server. Batches go out `concurrency` at a time, transient failures are retried with
exponential backoff (components/http.py), and the key is read from the environment variable named in the
config."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from ragctl.config.model import EmbeddingConfig
from ragctl.errors import ConfigError


class OpenAICompatibleEmbedding(BaseEmbedding):
    api_base: str
    api_key_env: str | None = None
    concurrency: int = 4
    timeout: float = 60.0
    _client: Any = PrivateAttr()

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        import httpx

        self._client = httpx.Client(timeout=self.timeout)

    def _post(self, texts: list[str]) -> list[list[float]]:
        from ragctl.components.http import bearer, post_json

        url = self.api_base.rstrip("/") + "/embeddings"
        headers = bearer(self.api_key_env, "embedding.api_key_env")
        answer = post_json(self._client, url, {"model": self.model_name, "input": texts}, headers, "embedding")
        return [d["embedding"] for d in sorted(answer["data"], key=lambda d: d["index"])]

    def embed_many(self, texts: list[str]) -> list[list[float]]:
        return self._get_text_embeddings(texts)

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        size = max(1, self.embed_batch_size)
        batches = [texts[i : i + size] for i in range(0, len(texts), size)]
        if len(batches) == 1:
            return self._post(batches[0])
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return [vector for batch in pool.map(self._post, batches) for vector in batch]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._post([text])[0]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._post([query])[0]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


def openai_compatible(config: EmbeddingConfig) -> OpenAICompatibleEmbedding:
    if not config.api_base:
        raise ConfigError("embedding.api_base is required for embedding.type 'openai-compatible'")
    return OpenAICompatibleEmbedding(
        model_name=config.model,
        embed_batch_size=config.batch_size,
        api_base=config.api_base,
        api_key_env=config.api_key_env,
        concurrency=config.concurrency,
        timeout=config.timeout,
    )
