"""Spans around the chain's steps, as MLflow traces: a CHAIN root per question, a RETRIEVER span whose
documents carry file and page, an LLM span with the prompt and token counts.

`mlflow models serve` writes no traces unless the user sets MLFLOW_ENABLE_TRACE_IN_SERVING=true (the
switch MLflow's own flavors honour); everywhere else (`ragctl query`, `ragctl evaluate`, a notebook) the
chain traces to the active tracking URI.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

TOKEN_USAGE = "mlflow.chat.tokenUsage"  # mlflow.tracing.constant.SpanAttributeKey.CHAT_USAGE
# ragctl's span attributes (run and version tags live in records/tags.py).
SIMILARITY = "ragctl.best_similarity"  # on the RETRIEVER span: what retrieval.min_score abstains on
FILES = "ragctl.files"  # on the RETRIEVER span: the files the title filter restricted the search to
PARTS = "ragctl.parts"  # on the RETRIEVER span: the parts of documents the part filter searched (balance sheet)
ABSTAINED = "ragctl.abstained"  # on the CHAIN span: the chain declined without calling the LLM


# `ragctl serve` names the version it serves in the environment; each answer's trace carries it.
SERVED_MODEL_ENV, SERVED_VERSION_ENV = "RAGCTL_SERVED_MODEL", "RAGCTL_SERVED_VERSION"
SERVED_MODEL, SERVED_VERSION = "ragctl.served_model", "ragctl.served_version"  # trace tags


def served() -> dict[str, str]:
    """The trace tags of a served answer (model and version), or {} outside `ragctl serve`."""
    version = os.environ.get(SERVED_VERSION_ENV)
    if not version:
        return {}
    return {SERVED_MODEL: os.environ.get(SERVED_MODEL_ENV, ""), SERVED_VERSION: version}


def enabled() -> bool:
    serving = os.environ.get("_MLFLOW_IS_IN_SERVING_ENVIRONMENT", "").lower() == "true"
    return not serving or os.environ.get("MLFLOW_ENABLE_TRACE_IN_SERVING", "").lower() == "true"


class _NoSpan:
    def set_inputs(self, inputs: Any) -> None: ...
    def set_outputs(self, outputs: Any) -> None: ...
    def set_attribute(self, key: str, value: Any) -> None: ...
    def set_attributes(self, attributes: dict[str, Any]) -> None: ...


@contextmanager
def span(name: str, span_type: str, inputs: Any = None) -> Iterator[Any]:
    if not enabled():
        yield _NoSpan()
        return
    import mlflow

    with mlflow.start_span(name=name, span_type=span_type) as active:
        if inputs is not None:
            active.set_inputs(inputs)
        yield active


def documents(nodes: list[Any]) -> list[Any]:
    """llama-index NodeWithScore -> MLflow Documents (what retrieval judges and the UI read)."""
    from mlflow.entities import Document

    return [
        Document(
            page_content=n.node.get_content(),
            metadata={"file": n.node.metadata.get("file"), "page": n.node.metadata.get("page"), "score": n.score},
            id=n.node.node_id,
        )
        for n in nodes
    ]
