"""What the logged chain is made of: embedding model, vector store, LLM, retrieval and prompt."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from ragctl.config.model.base import Endpoint, EnvVarName, Section

DEFAULT_PROMPT = """Answer the question with a short phrase copied from the context.

Context: The Eiffel Tower in Paris was completed in 1889 as the entrance arch of the World's Fair.
Question: When was the Eiffel Tower completed?
Answer: 1889

Context: {context}
Question: {question}
Answer:"""


class EmbeddingConfig(Section):
    type: str = "onnx-minilm"
    # The model name; for openai-compatible, the name the endpoint serves.
    model: str = "all-MiniLM-L6-v2"
    # Texts per forward pass or request. On this CPU one at a time is fastest for MiniLM (bench/README.md).
    batch_size: int = Field(default=1, ge=1)
    # Only for type onnx-minilm: an .onnx file or tokenizer.json instead of the packaged ones.
    model_path: str | None = None
    tokenizer_path: str | None = None
    max_length: int = Field(default=256, ge=8)
    # Only for type onnx-minilm: what runs the ONNX file. OpenVINO embeds ~1.9x faster here (AVX-512/AMX,
    # bf16) with the same vectors (cosine >= 0.9996, bench/README.md); onnxruntime is the portable fallback.
    runtime: Literal["openvino", "onnxruntime"] = "openvino"
    # Only for type openai-compatible: the endpoint (`.../v1`), the NAME of the environment variable that
    # holds the key (the key never enters the config or MLflow), requests in flight, seconds per request.
    api_base: Endpoint | None = None
    api_key_env: EnvVarName | None = None
    concurrency: int = Field(default=4, ge=1)
    timeout: float = Field(default=60.0, gt=0)

    def identity(self) -> dict[str, object]:
        """The settings that decide the vectors (not where or how fast they are computed)."""
        return self.model_dump(include={"type", "model", "model_path", "tokenizer_path", "max_length"})


class VectorStoreConfig(Section):
    type: Literal["chroma"] = "chroma"
    mode: Literal["persistent", "http"] = "persistent"
    path: str = ".ragctl/chroma"
    host: str = "localhost"
    port: int = Field(default=8000, ge=1, le=65535)
    ssl: bool = False
    # Chroma's rule: 3-512 characters of [a-zA-Z0-9._-], starting and ending with a letter or digit.
    collection: str = Field(default="ragctl", pattern=r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,510}[a-zA-Z0-9]$")


class LLMConfig(Section):
    type: str = "llama-cpp"
    # For llama-cpp: a packaged model name (see components/llms.py) or a path to a .gguf file.
    # For openai-compatible: the model name the endpoint serves.
    model: str = "gemma-3-270m-q4_k_m"
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    max_tokens: int = Field(default=48, ge=1)
    stop: list[str] = Field(default_factory=lambda: ["\n"])
    repeat_penalty: float = Field(default=1.1, gt=0.0)
    context_window: int = Field(default=4096, ge=256)
    threads: int | None = Field(default=None, ge=1)
    # Endpoint settings (openai-compatible). The key itself never enters the config: only the name of
    # the environment variable that holds it, read when the chain is loaded.
    api_base: Endpoint | None = None
    api_key_env: EnvVarName | None = None
    timeout: float = Field(default=120.0, gt=0)


class RerankConfig(Section):
    # endpoint: a Cohere/Jina-style POST {api_base}/rerank (llama.cpp's server with a reranker model and
    # --reranking, vLLM, Jina, Cohere). llm: the chain's own LLM reads each candidate and is asked whether it
    # answers the question; the score is the log-odds of "Yes" over "No" (needs an LLM that returns
    # logprobs: llama.cpp, vLLM; one LLM call per candidate).
    type: Literal["endpoint", "llm"] = "endpoint"
    api_base: Endpoint | None = None  # endpoint: e.g. http://localhost:8080/v1
    model: str = "reranker"
    # The NAME of the environment variable holding the endpoint's key; the key never enters the config.
    api_key_env: EnvVarName | None = None
    # The best fused candidates sent to the reranker; it orders them, the chain keeps top_k.
    candidates: int = Field(default=20, ge=1, le=200)
    timeout: float = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def _endpoint_has_address(self) -> RerankConfig:
        if self.type == "endpoint" and not self.api_base:
            raise ValueError("api_base is required for rerank type 'endpoint' (or use type: llm)")
        return self


class RetrievalConfig(Section):
    top_k: int = Field(default=3, ge=1, le=100)
    # dense: the embedding index alone; hybrid: dense and BM25 keyword candidates, fused by reciprocal rank.
    mode: Literal["dense", "hybrid"] = "hybrid"
    # Candidates each search contributes to the fusion.
    candidates: int = Field(default=20, ge=1, le=1000)
    # Reciprocal rank fusion's constant: larger flattens the difference between ranks.
    rrf_k: int = Field(default=60, ge=1)
    # When a question names documents by the words of their titles (company, year, quarter, file name):
    # restrict: retrieve from those documents only; boost: fuse their candidates in a second time; off.
    title_filter: Literal["off", "boost", "restrict"] = "restrict"
    # When a question names parts of a document (the balance sheet, the cash flow statement, Note 7, Item 7):
    # boost: fuse in the candidates of the pages under each part's heading; restrict: only those pages; off.
    # Needs chunking.sections (the headings are the index), else nothing is named (retrieval/parts.py).
    part_filter: Literal["off", "boost", "restrict"] = "off"
    # chunk: the top_k best chunks; page: the top_k best pages, each ranked and shown by its best chunk
    # (retrieval/pages.py).
    unit: Literal["chunk", "page"] = "chunk"
    # Decline without asking the LLM when the best dense similarity (cosine) is below this; None: never.
    min_score: float | None = Field(default=None, ge=-1.0, le=1.0)
    # The answer given when declining.
    abstain_answer: str = "Not found in the documents."
    # Rerank the fused candidates with an endpoint; none configured means no reranking (said at assemble).
    rerank: RerankConfig | None = None

    @field_validator("title_filter", "part_filter", mode="before")
    @classmethod
    def _yaml_off(cls, value: object) -> object:
        return "off" if value is False else value  # YAML reads a bare `off` as false


class PromptConfig(Section):
    # The text, with {context} and {question}; or a registered MLflow prompt: prompts:/NAME@ALIAS or /VERSION.
    template: str = DEFAULT_PROMPT

    @field_validator("template")
    @classmethod
    def _has_placeholders(cls, value: str) -> str:
        if value.startswith("prompts:/"):
            return value
        missing = [p for p in ("{context}", "{question}") if p not in value]
        if missing:
            raise ValueError(f"the template must contain {' and '.join(missing)}")
        return value
