"""Reranking the fused candidates with any Cohere/Jina-style `POST {api_base}/rerank` endpoint (llama.cpp's
server started with rank pooling, vLLM, Jina, Cohere, and others that speak it): the question and the
candidates' embedded texts go out, a relevance score per candidate comes back."""

from __future__ import annotations

from typing import Any

from ragctl.config.model import RerankConfig


class EndpointReranker:
    def __init__(self, config: RerankConfig) -> None:
        import httpx

        self.config = config
        self._client = httpx.Client(timeout=config.timeout)
        self._url = config.api_base.rstrip("/") + "/rerank"

    def scores(self, question: str, texts: list[str]) -> list[float]:
        """One relevance score per text, in the texts' order."""
        from ragctl.components.http import bearer, post_json

        if not texts:
            return []
        headers = bearer(self.config.api_key_env, "retrieval.rerank.api_key_env")
        payload: dict[str, Any] = {"model": self.config.model, "query": question, "documents": texts}
        answer = post_json(self._client, self._url, payload, headers, "rerank")
        scores = [float("-inf")] * len(texts)
        for result in answer["results"] if isinstance(answer, dict) else answer:  # a bare list: TEI's shape
            scores[int(result["index"])] = float(result.get("relevance_score", result.get("score", 0.0)))
        return scores
