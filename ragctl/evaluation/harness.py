"""Run a loaded chain over a dataset through `mlflow.genai.evaluate`: one trace per question, ragctl's
scorers as assessments, linked to the chain's LoggedModel; returns one plain row per question."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ragctl.config.model import RagctlConfig
from ragctl.env import patched
from ragctl.errors import RagctlError
from ragctl.evaluation import scorers
from ragctl.evaluation.datasets import Dataset, Item
from ragctl.progress import Advance

# On each record handed to mlflow.genai.evaluate: joins its result row back to the QA item.
ITEM_TAG = "ragctl.item"
_VERDICTS = {"yes": 1.0, "no": 0.0, "true": 1.0, "false": 0.0}


@dataclass
class Row:
    """One evaluated question: what was asked, answered, retrieved, and every per-question value."""

    id: str
    question: str
    answer: str
    gold: list[str]
    answerable: bool
    sources: list[dict[str, Any]]
    gold_sources: list[dict[str, Any]]
    tags: dict[str, str]
    trace_id: str = ""
    values: dict[str, float] = field(default_factory=dict)  # user-facing names: hit_rate@3, latency, ...
    unmeasured: dict[str, str] = field(default_factory=dict)  # judge metric -> why there is no verdict


@contextlib.contextmanager
def _environment(config: RagctlConfig) -> Iterator[None]:
    """Concurrency, the judge's endpoint for MLflow, and quiet: ragctl draws its own progress bar, and MLflow's
    closing banner (printed to stdout) would corrupt `--json`."""
    import io

    from mlflow.genai.evaluation import harness as mlflow_harness

    serial = config.llm.type == "llama-cpp"  # one in-process model: questions one at a time
    settings = {
        "MLFLOW_GENAI_EVAL_MAX_WORKERS": "1" if serial else str(config.evaluation.workers),
        # The chain traces itself (ragctl/tracing.py); skip MLflow's probe, which would call the LLM once more.
        "MLFLOW_GENAI_EVAL_SKIP_TRACE_VALIDATION": "true",
    }
    if config.evaluation.judge:
        settings |= scorers.judge_settings(config.evaluation.judge)  # "unused" key: a local server ignores it
    # The chain traces its own steps; MLflow's llama-index autologging would add a dozen internal spans per
    # question and a stray trace per scorer embedding call. Explicitly disabled, evaluate leaves it off.
    import mlflow.llama_index

    mlflow.llama_index.autolog(disable=True, silent=True)
    progress_bar = mlflow_harness.tqdm
    mlflow_harness.tqdm = None  # MLflow draws no bar when tqdm is missing
    try:
        with patched(settings), contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        mlflow_harness.tqdm = progress_bar


def _record(item: Item) -> dict[str, Any]:
    expectations: dict[str, Any] = item.expectations()
    if item.answerable and item.answers:
        expectations["expected_response"] = item.answers[0]  # what MLflow's Correctness judge reads
    return {"inputs": {"question": item.question}, "expectations": expectations, "tags": {ITEM_TAG: item.id}}


def _from_mlflow(key: str) -> str:
    return key.replace("_at_", "@")


def _missing(value: Any) -> bool:
    """None, or the NaN a pandas frame holds for a missing cell."""
    return value is None or (isinstance(value, float) and value != value)


def _row(item: Item, result: dict[str, Any], judged: Mapping[str, str]) -> Row:
    response = result.get("response") or {}
    row = Row(
        id=item.id,
        question=item.question,
        answer=str(response.get("answer", "")) if isinstance(response, dict) else str(response),
        gold=item.answers,
        answerable=item.answerable,
        sources=list(response.get("sources") or []) if isinstance(response, dict) else [],
        gold_sources=item.sources,
        tags=item.tags,
        trace_id=str(result.get("trace_id") or ""),
    )
    # Correctness needs a gold answer: not asked of `answerable: false` items.
    judges = {key: m for key, m in judged.items() if m != "correctness" or item.answerable}
    for column, value in result.items():
        if not column.endswith("/value"):
            continue
        key = column.removesuffix("/value")
        if key in judged:
            if key not in judges:
                continue
            metric = judges[key]
            if _missing(value):  # MLflow's frame has NaN where the judge wrote nothing: counted below
                continue
            verdict = _VERDICTS.get(str(value).strip().lower())
            if verdict is None:
                error = result.get(f"{key}/error_message")
                row.unmeasured[metric] = str(error) if not _missing(error) else f"unparseable verdict {value!r}"
            else:
                row.values[metric] = verdict
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and value == value:
            row.values[_from_mlflow(key)] = float(value)
    for metric in judges.values():  # a judge that wrote nothing at all is unmeasured too
        if metric not in row.values and metric not in row.unmeasured:
            row.unmeasured[metric] = "no verdict"
    return row


def refusals(model: Any, items: list[Item]) -> list[tuple[Item, str]]:
    """The items a loaded chain refuses before answering (a question too long for its LLM), each with the
    chain's reason. A chain logged before it could say so has no `refusal`: it answers them as it did."""
    try:
        refusal = getattr(model.unwrap_python_model(), "refusal", None)
    except Exception:  # not a python model: nothing to ask
        return []
    if refusal is None:
        return []
    return [(item, reason) for item in items if (reason := refusal(item.question))]


def run(
    config: RagctlConfig,
    model: Any,
    dataset: Dataset,
    ks: list[int],
    model_id: str | None,
    embed: Any | None,
    advance: Advance,
) -> list[Row]:
    """Evaluate the valid items; returns their rows in dataset order. `embed`: the embedding model for
    semantic similarity, or None."""
    import mlflow
    import pandas as pd

    items = dataset.valid

    failures: list[RagctlError] = []

    def predict_fn(question: str) -> dict[str, Any]:
        try:
            answer = model.predict(pd.DataFrame({"question": [question]}))[0]
        except RagctlError as exc:  # MLflow would record it per row and go on; ragctl reports it (exit 4)
            failures.append(exc)
            raise
        finally:
            advance(1)
        return answer

    judged = {scorers.JUDGES[m][1]: m for m in (config.evaluation.judge.metrics if config.evaluation.judge else [])}
    with _environment(config):
        result = mlflow.genai.evaluate(
            data=[_record(i) for i in items],
            scorers=scorers.build(config.evaluation, ks, embed),
            predict_fn=predict_fn,
            model_id=model_id,
        )
    if failures:
        raise failures[0]
    frame = result.result_df
    by_id: dict[str, dict[str, Any]] = {}
    if frame is not None:
        for record in frame.to_dict(orient="records"):
            tags = record.get("tags") or {}
            by_id[str(tags.get(ITEM_TAG, ""))] = record
    return [_row(i, by_id.get(i.id, {}), judged) for i in items]
