"""The one configuration model. Every default of ragctl lives here and nowhere else."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

DEFAULT_PROMPT = """Answer the question with a short phrase copied from the context.

Context: The Eiffel Tower in Paris was completed in 1889 as the entrance arch of the World's Fair.
Question: When was the Eiffel Tower completed?
Answer: 1889

Context: {context}
Question: {question}
Answer:"""

Format = Literal["pdf", "txt", "md", "html", "docx"]


def _all_formats() -> list[Format]:
    return ["pdf", "txt", "md", "html", "docx"]


class Section(BaseModel):
    """Base of every section: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ProjectConfig(Section):
    name: str = "ragctl-demo"
    experiment: str = "ragctl"


class TrackingConfig(Section):
    uri: str = "sqlite:///.ragctl/mlflow.db"
    # Where runs store artifacts when the experiment is created; ignored for a remote tracking server.
    artifact_location: str = ".ragctl/artifacts"


class PdfLimitsConfig(Section):
    """pypdf's safety limits (pypdf.Configuration). None keeps pypdf's own default."""

    # pypdf's default (100,000) refuses real SEC filings (MSFT 10-Qs need ~150,000); 1,000,000 opens them
    # and still stops a hostile array long before memory runs out.
    array_maximum_element_count: int | None = Field(default=1_000_000, ge=1)
    dictionary_maximum_element_count: int | None = Field(default=None, ge=1)
    zlib_maximum_output_length: int | None = Field(default=None, ge=1)
    stream_parsing_work_maximum_count: int | None = Field(default=None, ge=1)
    page_tree_maximum_page_entries: int | None = Field(default=None, ge=1)


class PdfConfig(Section):
    # File glob (relative path or file name) -> password; write `${ENV_VAR}`, never the password itself.
    # Masked in every dump, so it never reaches MLflow params, artifacts or `ragctl config`.
    passwords: dict[str, SecretStr] = Field(default_factory=dict)
    limits: PdfLimitsConfig = Field(default_factory=PdfLimitsConfig)
    # OCR of pages without a text layer (RapidOCR; `pip install 'ragctl[ocr]'`).
    ocr: bool = False


class IngestionConfig(Section):
    paths: list[str] = Field(default_factory=lambda: ["sample_docs"], min_length=1)
    formats: list[Format] = Field(default_factory=_all_formats, min_length=1)
    exclude: list[str] = Field(default_factory=list)
    # Less extracted text than this many characters counts as "empty" (e.g. a scanned PDF without OCR).
    min_chars: int = Field(default=20, ge=0)
    # Larger files are not parsed (outcome too-large).
    max_file_mb: float = Field(default=100.0, gt=0)
    # Seconds one file may take to read and chunk before its worker is stopped (outcome timeout).
    timeout: float = Field(default=300.0, gt=0)
    # Worker processes that read and chunk while the main process embeds; None: half the CPUs, at least 1.
    workers: int | None = Field(default=None, ge=1)
    pdf: PdfConfig = Field(default_factory=PdfConfig)


class ChunkingConfig(Section):
    strategy: Literal["sentence", "token"] = "sentence"
    # Measured in tokens of the embedding model's own tokenizer, so a chunk is never truncated at embed time.
    chunk_size: int = Field(default=200, ge=16)
    chunk_overlap: int = Field(default=20, ge=0)

    @model_validator(mode="after")
    def _overlap_smaller(self) -> ChunkingConfig:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("chunk_overlap must be smaller than chunk_size")
        return self


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
    # Only for type openai-compatible: the endpoint (`.../v1`), the NAME of the environment variable that
    # holds the key (the key never enters the config or MLflow), requests in flight, seconds per request.
    api_base: str | None = None
    api_key_env: str | None = None
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
    api_base: str | None = None
    api_key_env: str | None = None
    timeout: float = Field(default=120.0, gt=0)


class RetrievalConfig(Section):
    top_k: int = Field(default=3, ge=1, le=100)


class PromptConfig(Section):
    template: str = DEFAULT_PROMPT

    @field_validator("template")
    @classmethod
    def _has_placeholders(cls, value: str) -> str:
        missing = [p for p in ("{context}", "{question}") if p not in value]
        if missing:
            raise ValueError(f"the template must contain {' and '.join(missing)}")
        return value


JudgeMetric = Literal["groundedness", "relevance", "correctness"]
JUDGE_METRICS: tuple[JudgeMetric, ...] = ("groundedness", "relevance", "correctness")


class JudgeConfig(Section):
    """An LLM judge behind any OpenAI-compatible /chat/completions endpoint, used through MLflow's judges."""

    api_base: str  # e.g. http://localhost:8080/v1
    model: str
    # The NAME of the environment variable holding the key (never the key itself).
    api_key_env: str | None = None
    metrics: list[JudgeMetric] = Field(default_factory=lambda: list(JUDGE_METRICS), min_length=1)
    # Share of verdicts that may fail or be unparseable ("unmeasured") before the gate fails.
    max_unmeasured: float = Field(default=0.1, ge=0.0, le=1.0)


class RegressionConfig(Section):
    """How `ragctl evaluate --baseline` decides that a change is a regression and not noise."""

    # Compared per question; without @k a retrieval metric is taken at each chain's own top_k.
    metrics: list[str] = Field(default_factory=lambda: ["hit_rate", "mrr", "token_f1", "exact_match", "rouge_l"])
    # Confidence of the paired bootstrap interval (continuous metrics) and of McNemar's test (pass/fail ones).
    confidence: float = Field(default=0.95, gt=0.5, lt=1.0)
    # A mean drop no larger than this is never a regression, however significant.
    tolerance: float = Field(default=0.0, ge=0.0)
    resamples: int = Field(default=2000, ge=100)
    seed: int = 0

    @field_validator("metrics")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        from ragctl.evaluation import names

        for name in value:
            names.split(name)
        return value


DEFAULT_THRESHOLDS: dict[str, str | float] = {
    "hit_rate": ">= 0.8",
    "mrr": ">= 0.6",
    "token_f1": ">= 0.2",
    "latency_p95": "<= 20",
}


class EvaluationConfig(Section):
    # JSONL or CSV (question, answer|answers, sources, answerable, tags), or the name of an MLflow
    # GenAI evaluation dataset.
    dataset: str = "sample_docs/qa.jsonl"
    # Metric -> comparison: ">= 0.8", "<= 10"; a bare number is a minimum (a maximum for latencies/tokens).
    thresholds: dict[str, str | float] = Field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    limit: int | None = Field(default=None, ge=1)
    # Cut-offs for the retrieval metrics (each capped at the chain's top_k, which is always included).
    k: list[int] = Field(default_factory=lambda: [1, 3, 5], min_length=1)
    # Questions in flight at once for an endpoint LLM; the in-process llama.cpp LLM always runs one at a time.
    workers: int = Field(default=4, ge=1)
    semantic_similarity: bool = True
    # An answer containing one of these (normalised) counts as declining; so does an empty answer.
    decline_phrases: list[str] = Field(
        default_factory=lambda: ["i don't know", "i do not know", "cannot answer", "not in the context", "no answer"]
    )
    judge: JudgeConfig | None = None
    regression: RegressionConfig = Field(default_factory=RegressionConfig)

    @field_validator("thresholds")
    @classmethod
    def _valid_thresholds(cls, value: dict[str, str | float]) -> dict[str, str | float]:
        from ragctl.evaluation import gates

        for name, spec in value.items():
            gates.parse(name, spec)
        return value

    @field_validator("k")
    @classmethod
    def _positive_k(cls, value: list[int]) -> list[int]:
        if any(k < 1 for k in value):
            raise ValueError("every k must be at least 1")
        return sorted(set(value))


class RegistryConfig(Section):
    model_name: str = "ragctl-demo-chain"
    # promote refuses a version whose evaluation did not pass, unless --force.
    require_passing_eval: bool = True


class RagctlConfig(Section):
    project: ProjectConfig = Field(default_factory=ProjectConfig)
    tracking: TrackingConfig = Field(default_factory=TrackingConfig)
    ingestion: IngestionConfig = Field(default_factory=IngestionConfig)
    chunking: ChunkingConfig = Field(default_factory=ChunkingConfig)
    embedding: EmbeddingConfig = Field(default_factory=EmbeddingConfig)
    vector_store: VectorStoreConfig = Field(default_factory=VectorStoreConfig)
    llm: LLMConfig = Field(default_factory=LLMConfig)
    retrieval: RetrievalConfig = Field(default_factory=RetrievalConfig)
    prompt: PromptConfig = Field(default_factory=PromptConfig)
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)
    registry: RegistryConfig = Field(default_factory=RegistryConfig)

    def chain_config(self) -> dict:
        """The part of the config the logged chain needs at load time (no secrets: only env var names)."""
        return self.model_dump(include={"embedding", "vector_store", "llm", "retrieval", "prompt"})
