"""How `ragctl evaluate` scores, gates and compares a chain."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from ragctl.config import metrics
from ragctl.config.model.base import Endpoint, EnvVarName, Section

JudgeMetric = Literal["groundedness", "relevance", "correctness"]
JUDGE_METRICS: tuple[JudgeMetric, ...] = ("groundedness", "relevance", "correctness")


class JudgeConfig(Section):
    """An LLM judge behind any OpenAI-compatible /chat/completions endpoint, used through MLflow's judges."""

    api_base: Endpoint  # e.g. http://localhost:8080/v1
    model: str
    # The NAME of the environment variable holding the key (never the key itself).
    api_key_env: EnvVarName | None = None
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
        for name in value:
            metrics.split(name)
        return value


GENERATION_PROMPT = """Write a question that the passage answers, then the answer copied from the passage.

Passage: The Eiffel Tower in Paris was completed in 1889 as the entrance arch of the World's Fair.
Question: When was the Eiffel Tower completed?
Answer: 1889

Passage: {context}
Question:"""


class GenerationConfig(Section):
    """How `ragctl dataset generate` writes synthetic QA pairs from the collection with the configured LLM."""

    # Must contain {context} and end at "Question:"; the LLM writes a question on one line, then (given
    # the question and "Answer:") the answer on one line.
    prompt: str = GENERATION_PROMPT
    max_tokens: int = Field(default=96, ge=8)
    # Chunks shorter than this (characters) are not used: too little to ask about.
    min_chunk_chars: int = Field(default=200, ge=1)
    # Answers longer than this (words) are rejected: a gold answer is a short phrase.
    max_answer_words: int = Field(default=20, ge=1)
    # Chunks tried per requested question before giving up (the LLM's output may fail the checks).
    attempts_per_question: int = Field(default=4, ge=1)

    @field_validator("prompt")
    @classmethod
    def _has_context(cls, value: str) -> str:
        if "{context}" not in value:
            raise ValueError("the prompt must contain {context}")
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
        default_factory=lambda: [
            "i don't know",
            "i do not know",
            "cannot answer",
            "not in the context",
            "no answer",
            "not found in the documents",
        ]
    )
    judge: JudgeConfig | None = None
    # Compare every evaluation with the version this alias (or version number) names, as --baseline does,
    # once it exists; `--baseline` on the command line wins. None: only when asked.
    baseline: str | None = None
    regression: RegressionConfig = Field(default_factory=RegressionConfig)
    generation: GenerationConfig = Field(default_factory=GenerationConfig)

    @field_validator("thresholds")
    @classmethod
    def _valid_thresholds(cls, value: dict[str, str | float]) -> dict[str, str | float]:
        for name, spec in value.items():
            metrics.parse_threshold(name, spec)
        return value

    @field_validator("k")
    @classmethod
    def _positive_k(cls, value: list[int]) -> list[int]:
        if any(k < 1 for k in value):
            raise ValueError("every k must be at least 1")
        return sorted(set(value))
