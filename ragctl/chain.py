"""The chain MLflow loads (models-from-code): a pyfunc that answers questions with their sources.

`ragctl assemble` logs this file with the ragctl package as code_paths, so stock MLflow loads it:
`mlflow.pyfunc.load_model(uri).predict(pd.DataFrame({"question": [...]}))` returns, per question,
{"answer": str, "citation": {"file", "page"} or None (the chunk the answer comes from),
"sources": [{"file", "page", "score"}]}.
"""

from __future__ import annotations

from typing import Any

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel


def questions_of(model_input: Any) -> list[str]:
    """Accept what callers naturally send: a DataFrame or dict with `question`, a list of str or dicts, a str."""
    if hasattr(model_input, "to_dict"):  # pandas DataFrame
        model_input = model_input.to_dict(orient="records")
    elif isinstance(model_input, dict):
        column = model_input.get("question")
        model_input = [{"question": q} for q in column] if isinstance(column, list) else [model_input]
    elif isinstance(model_input, str):
        model_input = [model_input]
    found = [item.get("question") if isinstance(item, dict) else item for item in model_input]
    # A JSON null arrives as None or NaN and would be asked as the text "None" or "nan"; a number or a list is
    # not a question either: the scoring server answers 400 for each, naming the first.
    bad = next(((i, q) for i, q in enumerate(found) if not isinstance(q, str) or not q.strip()), None)
    if bad is not None:
        from mlflow.exceptions import MlflowException
        from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

        index, value = bad
        if isinstance(value, str) or value is None or value != value:  # NaN is the one value unequal to itself
            said = f"question {index} is empty: give each question its text"
        else:
            said = f"question {index} is not text (got {type(value).__name__} {repr(value)[:40]})"
        raise MlflowException(said, INVALID_PARAMETER_VALUE)
    return [str(q) for q in found]  # every one a str here


class RagChain(PythonModel):
    def load_context(self, context: Any) -> None:
        from ragctl.rag import RagEngine

        self._engine = RagEngine(context.model_config)

    def refusal(self, question: str) -> str | None:
        """Why the chain refuses this question before answering (too long for its LLM), else None: evaluate
        lists such items as invalid instead of scoring an error as a wrong answer."""
        from mlflow.exceptions import MlflowException

        try:
            self._engine.refuse_if_too_long(question)
        except MlflowException as exc:
            return str(exc.message)
        return None

    # A DataFrame hint tells MLflow to keep the explicit signature (set by `ragctl assemble`) instead of
    # inferring one from type hints, which would change the serving payload format.
    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        return [self._engine.answer(q) for q in questions_of(model_input)]


mlflow.models.set_model(RagChain())
