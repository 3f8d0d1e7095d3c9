"""evaluate: run a logged chain over a QA set, score retrieval and answers, and gate on thresholds."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragctl import metrics as m
from ragctl.config.model import METRICS, RagctlConfig
from ragctl.errors import DataError, UsageError
from ragctl.stages import StageContext
from ragctl.stages.assemble import MODEL_URI_TAG

PASSED_TAG = "ragctl.eval_passed"


@dataclass
class Gate:
    metric: str
    value: float
    bound: float
    minimum: bool

    @property
    def passed(self) -> bool:
        return self.value >= self.bound if self.minimum else self.value <= self.bound


@dataclass
class EvalResult:
    run_id: str
    experiment_id: str
    model_uri: str
    questions: int
    metrics: dict[str, float]
    gates: list[Gate] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(g.passed for g in self.gates)


def load_qa(path: str, limit: int | None = None) -> list[dict[str, Any]]:
    """Read the JSONL QA set; every bad line is reported with its number."""
    file = Path(path)
    if not file.is_file():
        raise DataError(f"evaluation.dataset: file not found: {path}")
    items, problems = [], []
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item.get("question"), str) or not isinstance(
                item.get("answer", item.get("answers")), (str, list)
            ):
                raise ValueError("needs 'question' (string) and 'answer' (string) or 'answers' (list)")
            sources = item.get("sources", [])
            if not isinstance(sources, list) or not all(isinstance(s, dict) and "file" in s for s in sources):
                raise ValueError("'sources' must be a list of {file, page?}")
        except (ValueError, AttributeError) as exc:
            problems.append(f"{path}:{number}: {exc}")
            continue
        answers = item.get("answers") or [item["answer"]]
        items.append({**item, "answers": [str(a) for a in answers], "sources": sources})
    if problems:
        raise DataError("invalid QA set\n  " + "\n  ".join(problems[:10]), "one JSON object per line")
    if not items:
        raise DataError(f"{path}: the QA set is empty")
    return items[:limit] if limit else items


def default_model_uri(config: RagctlConfig) -> str:
    from ragctl import tracking

    assembled = tracking.latest_run(config, "assemble")
    if assembled is None or MODEL_URI_TAG not in assembled.data.tags:
        raise UsageError("no assembled chain found in this experiment", "run `ragctl assemble` or pass --model-uri")
    return assembled.data.tags[MODEL_URI_TAG]


def score(item: dict[str, Any], prediction: dict[str, Any], seconds: float) -> dict[str, Any]:
    rank = m.first_hit_rank(prediction["sources"], item["sources"])
    answer = prediction["answer"]
    return {
        "question": item["question"],
        "gold_answer": item["answers"][0],
        "answer": answer,
        "exact_match": m.exact_match(answer, item["answers"]),
        "token_f1": m.token_f1(answer, item["answers"]),
        "hit": float(rank is not None),
        "reciprocal_rank": 1.0 / rank if rank else 0.0,
        "latency_s": seconds,
        "gold_sources": json.dumps(item["sources"]),
        "retrieved": json.dumps([[s["file"], s.get("page")] for s in prediction["sources"]]),
    }


def aggregate(rows: list[dict[str, Any]]) -> dict[str, float]:
    n = len(rows)
    latencies = [r["latency_s"] for r in rows]
    return {
        "hit_rate": sum(r["hit"] for r in rows) / n,
        "mrr": sum(r["reciprocal_rank"] for r in rows) / n,
        "exact_match": sum(r["exact_match"] for r in rows) / n,
        "token_f1": sum(r["token_f1"] for r in rows) / n,
        "latency_p50": m.percentile(latencies, 50),
        "latency_p95": m.percentile(latencies, 95),
    }


def gates(values: dict[str, float], thresholds: dict[str, float]) -> list[Gate]:
    return [Gate(name, values[name], bound, METRICS[name]) for name, bound in thresholds.items()]


def run(config: RagctlConfig, ctx: StageContext, model_uri: str | None = None, limit: int | None = None) -> EvalResult:
    import mlflow
    import pandas as pd
    from mlflow.data.pandas_dataset import from_pandas

    from ragctl import tracking

    qa = load_qa(config.evaluation.dataset, limit or config.evaluation.limit)
    tracking.setup(config)
    model_uri = model_uri or default_model_uri(config)
    tags = {MODEL_URI_TAG: model_uri, "ragctl.dataset": config.evaluation.dataset}
    with tracking.stage_run(config, "evaluate", tags) as active:
        with ctx.reporter.task("Loading the chain", total=None):
            model = mlflow.pyfunc.load_model(model_uri)
        rows = []
        with ctx.reporter.task("Evaluating", total=len(qa)) as advance:
            for item in qa:
                started = time.perf_counter()
                prediction = model.predict(pd.DataFrame({"question": [item["question"]]}))[0]
                rows.append(score(item, prediction, time.perf_counter() - started))
                advance(1)
        values = aggregate(rows)
        result = EvalResult(
            active.info.run_id,
            active.info.experiment_id,
            model_uri,
            len(rows),
            values,
            gates(values, config.evaluation.thresholds),
            rows,
        )
        dataset = from_pandas(pd.DataFrame(qa).astype(str), name="qa", source=config.evaluation.dataset)
        mlflow.log_input(dataset, context="evaluation")
        # Also on the LoggedModel, so MLflow's model view compares chains by their evaluation.
        mlflow.log_metrics(
            {**values, "questions": len(rows)}, model_id=tracking.logged_model_id(model_uri), dataset=dataset
        )
        mlflow.log_table(pd.DataFrame(rows), "eval/per_question.json")
        mlflow.log_dict(report(result), "eval/report.json")
        mlflow.set_tag(PASSED_TAG, str(result.passed).lower())
    return result


def report(result: EvalResult) -> dict[str, Any]:
    return {
        "model_uri": result.model_uri,
        "questions": result.questions,
        "metrics": result.metrics,
        "passed": result.passed,
        "gates": [
            {
                "metric": g.metric,
                "value": g.value,
                "bound": g.bound,
                "kind": "min" if g.minimum else "max",
                "passed": g.passed,
            }
            for g in result.gates
        ],
    }
