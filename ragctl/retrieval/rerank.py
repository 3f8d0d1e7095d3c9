"""Reranking the fused candidates: a relevance score per candidate, from

- any Cohere/Jina-style `POST {api_base}/rerank` endpoint (llama.cpp's server started with rank pooling,
  vLLM, Jina, Cohere, and others that speak it): the question and the candidates go out, scores come back;
- or the chain's own LLM, asked of each candidate whether it answers the question (a few-shot prompt, as
  base models need): the score is the log-odds of "Yes" over "No" for the next token."""

from __future__ import annotations

from typing import Any, Protocol

from ragctl.config.model import RerankConfig
from ragctl.errors import ConfigError

JUDGE_PROMPT = """Does the passage answer the question? Answer Yes or No.

Passage: The Eiffel Tower in Paris was completed in 1889 as the entrance arch of the World's Fair.
Question: When was the Eiffel Tower completed?
Answer: Yes

Passage: The Louvre is the world's most-visited museum, with 8.9 million visitors in 2023.
Question: When was the Eiffel Tower completed?
Answer: No

Passage: {passage}
Question: {question}
Answer:"""


class Reranker(Protocol):
    config: RerankConfig

    def scores(self, question: str, texts: list[str]) -> list[float]: ...


def create(config: RerankConfig, llm: Any) -> Reranker:
    if config.type == "llm":
        if llm is None:
            raise ConfigError("retrieval.rerank type 'llm' needs the chain's LLM", "use it inside a chain")
        return LLMReranker(config, llm)
    return EndpointReranker(config)


class EndpointReranker:
    def __init__(self, config: RerankConfig) -> None:
        import httpx

        assert config.api_base  # the config model requires it for endpoints
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


class LLMReranker:
    def __init__(self, config: RerankConfig, llm: Any) -> None:
        self.config = config
        self._llm = llm  # a ragctl completion LLM (components/llms.py): next_token_logprobs()

    def scores(self, question: str, texts: list[str]) -> list[float]:
        return [self.score(question, text) for text in texts]

    def score(self, question: str, text: str) -> float:
        top = self._llm.next_token_logprobs(JUDGE_PROMPT.format(passage=text, question=question))
        return yes_no_margin(top)


def yes_no_margin(top: dict[str, float]) -> float:
    """log P(yes) - log P(no) over the next token's alternatives (any case, any leading space). An answer
    missing from the alternatives counts as a little less likely than the least likely one listed."""
    floor = min(top.values(), default=0.0) - 1.0
    best: dict[str, float] = {}
    for token, logprob in top.items():
        word = token.strip().lower()
        if word in ("yes", "no"):
            best[word] = max(best.get(word, floor), logprob)
    return best.get("yes", floor) - best.get("no", floor)
