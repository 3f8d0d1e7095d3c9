"""Embeddings from any OpenAI-compatible `/v1/embeddings` endpoint: TEI, vLLM, Ollama, OpenAI, Databricks,
llama.cpp's server. Batches go out `concurrency` at a time, transient failures are retried with
exponential backoff (tenacity), and the key is read from the environment variable named in the config."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from ragctl.config.model import EmbeddingConfig
from ragctl.errors import ConfigError, ServiceError

RETRIES = 5


class _Transient(Exception):
    """A failure worth retrying: connection trouble, 429, 5xx."""


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

    def _headers(self) -> dict[str, str]:
        if not self.api_key_env:
            return {}
        key = os.environ.get(self.api_key_env)
        if not key:
            raise ConfigError(f"embedding.api_key_env: environment variable {self.api_key_env} is not set")
        return {"Authorization": f"Bearer {key}"}

    def _post(self, texts: list[str]) -> list[list[float]]:
        import httpx
        from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

        url = self.api_base.rstrip("/") + "/embeddings"

        @retry(
            retry=retry_if_exception_type(_Transient),
            stop=stop_after_attempt(RETRIES),
            wait=wait_exponential(multiplier=0.5, max=8),
            reraise=True,
        )
        def attempt() -> list[list[float]]:
            try:
                response = self._client.post(
                    url, json={"model": self.model_name, "input": texts}, headers=self._headers()
                )
            except httpx.TransportError as exc:
                raise _Transient(f"{type(exc).__name__}: {exc}") from None
            if response.status_code == 429 or response.status_code >= 500:
                raise _Transient(f"HTTP {response.status_code}: {response.text[:200]}")
            if response.status_code >= 400:
                raise ServiceError(f"embedding endpoint {url} answered {response.status_code}: {response.text[:300]}")
            data = sorted(response.json()["data"], key=lambda d: d["index"])
            return [d["embedding"] for d in data]

        try:
            return attempt()
        except _Transient as exc:
            raise ServiceError(
                f"embedding endpoint {url} failed after {RETRIES} attempts: {exc}",
                "check embedding.api_base and that the server is up",
            ) from None

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
