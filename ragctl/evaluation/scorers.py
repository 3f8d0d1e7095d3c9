"""ragctl's metrics as MLflow GenAI scorers, so every per-question value is an assessment on the question's
trace (what the UI's Traces and Evaluation runs views show) and aggregates are logged by MLflow itself.

Feedback names are MLflow keys (`hit_rate_at_3`); `metrics.mlflow_key` maps the user-facing `hit_rate@3`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ragctl.config import metrics
from ragctl.config.model import EvaluationConfig
from ragctl.evaluation import answers, retrieval
from ragctl.tracing import SIMILARITY, TOKEN_USAGE

JUDGES = {  # config name -> (MLflow judge class, the assessment name it writes)
    "groundedness": ("RetrievalGroundedness", "retrieval_groundedness"),
    "relevance": ("RelevanceToQuery", "relevance_to_query"),
    "correctness": ("Correctness", "correctness"),
}


def judge_settings(judge: Any) -> dict[str, str]:
    """The environment MLflow's judges read their OpenAI-compatible endpoint from (the key never logged)."""
    import os

    key = os.environ.get(judge.api_key_env) if judge.api_key_env else None
    base = judge.api_base
    return {"OPENAI_API_BASE": base, "OPENAI_BASE_URL": base, "OPENAI_API_KEY": key or "unused"}


def judge_of(judge: Any, metric: str) -> Any:
    """One of MLflow's built-in judges (`JUDGES`) on the configured endpoint."""
    from mlflow.genai import scorers as builtin

    return getattr(builtin, JUDGES[metric][0])(model=f"openai:/{judge.model}")


def _feedbacks(values: dict[str, float]) -> list[Any]:
    from mlflow.entities import Feedback

    return [Feedback(name=metrics.mlflow_key(name), value=value) for name, value in values.items()]


def _spans(trace: Any, span_type: str) -> list[Any]:
    return [s for s in (trace.data.spans if trace else []) if s.span_type == span_type]


def _seconds(span: Any) -> float:
    return (span.end_time_ns - span.start_time_ns) / 1e9


def timing(trace: Any) -> dict[str, float]:
    """End-to-end, retrieval and generation seconds, token counts and the retrieval's best similarity, read
    from the question's trace."""
    values: dict[str, float] = {}
    roots = [s for s in (trace.data.spans if trace else []) if s.parent_id is None]
    if roots:
        values["latency"] = _seconds(roots[0])
    if retrievers := _spans(trace, "RETRIEVER"):
        values["retrieval_seconds"] = sum(_seconds(s) for s in retrievers)
        similarity = retrievers[0].attributes.get(SIMILARITY)
        if isinstance(similarity, (int, float)):
            values["retrieval_similarity"] = float(similarity)
    if llms := _spans(trace, "LLM"):
        values["generation_seconds"] = sum(_seconds(s) for s in llms)
        usage = [s.attributes.get(TOKEN_USAGE) or {} for s in llms]
        if any(usage):
            values["tokens_in"] = float(sum(u.get("input_tokens", 0) for u in usage))
            values["tokens_out"] = float(sum(u.get("output_tokens", 0) for u in usage))
    return values


def build(config: EvaluationConfig, ks: Sequence[int], embed: Any | None) -> list[Any]:
    """The scorer list for `mlflow.genai.evaluate`."""
    from mlflow.genai.scorers import scorer

    @scorer(name="retrieval")
    def retrieval_scorer(outputs: dict[str, Any], expectations: dict[str, Any]) -> list[Any]:
        if not expectations.get("sources"):
            return []
        return _feedbacks(retrieval.all_scores(outputs.get("sources") or [], expectations["sources"], ks))

    @scorer(name="answer")
    def answer_scorer(outputs: dict[str, Any], expectations: dict[str, Any]) -> list[Any]:
        text = str(outputs.get("answer") or "")
        if not expectations.get("answerable", True):
            return _feedbacks({"declined": answers.declined(text, config.decline_phrases)})
        gold = expectations["answers"]
        values = {
            "exact_match": answers.exact_match(text, gold),
            "token_f1": answers.token_f1(text, gold),
            "rouge_l": answers.rouge_l(text, gold),
        }
        if embed is not None:
            values["semantic_similarity"] = answers.semantic_similarity(text, gold, embed)
        if outputs.get("citation") and expectations.get("sources"):
            cited = outputs["citation"]
            values["citation_hit"] = float(
                any(retrieval.matches(cited, g, by_page=True) for g in expectations["sources"])
            )
        return _feedbacks(values)

    @scorer(name="timing")
    def timing_scorer(trace: Any) -> list[Any]:
        return _feedbacks(timing(trace))

    scorers = [retrieval_scorer, answer_scorer, timing_scorer]
    if config.judge:
        scorers += [judge_of(config.judge, m) for m in config.judge.metrics]
    return scorers
