"""The query engine behind a logged chain: Chroma retriever (top_k) + prompt template + LLM, from config.

Built from the chain config stored in the MLflow model; packaged model files are resolved here, at load
time, so no path of the machine that logged the model is baked into it. The index location can be
overridden when loading: RAGCTL_CHROMA_PATH (embedded) or RAGCTL_CHROMA_HOST/RAGCTL_CHROMA_PORT (server),
see components/vector_stores.py, or `mlflow.pyfunc.load_model(uri, model_config={"vector_store": {...}})`.
"""

from __future__ import annotations

import re
from typing import Any

from ragctl.config.model import EmbeddingConfig, LLMConfig, PromptConfig, RetrievalConfig


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def cite(answer: str, nodes: list[Any]) -> dict[str, Any] | None:
    """The file and page an answer comes from: the first retrieved chunk that contains the answer's words
    (answers are mostly copied from the context), else the top chunk; None without an answer or chunks."""
    if not answer or not nodes:
        return None
    said = _words(answer)
    source = next((n for n in nodes if said and said in _words(n.node.get_content())), nodes[0])
    return {"file": source.node.metadata.get("file"), "page": source.node.metadata.get("page")}


class RagEngine:
    """Answers a question with its sources; one instance per loaded model."""

    def __init__(self, chain_config: dict[str, Any]) -> None:
        from ragctl.components import create
        from ragctl.components.vector_stores import (
            open_collection,
            refuse_while_ingesting,
            start_loading,
            with_overrides,
        )
        from ragctl.env import apply_offline_defaults
        from ragctl.retrieval import Retriever

        apply_offline_defaults()
        store = with_overrides(chain_config["vector_store"])
        refuse_while_ingesting(store)
        collection = open_collection(store)
        # Chroma's load of its vector index runs outside the GIL while the rest loads. The rest loads in
        # sequence: the packaged LLM's load (xllamacpp, ~2 s) holds the GIL throughout, so a thread overlapped
        # it only with OpenVINO's compile, which its cache (components/embeddings.py) removed.
        loading = start_loading(collection)
        # Imported once the load has started: llama-index's import (~1 s) holds the GIL, Chroma's load does not.
        from llama_index.core import PromptTemplate, get_response_synthesizer
        from llama_index.core.response_synthesizers import ResponseMode

        embed = create("embedding", EmbeddingConfig.model_validate(chain_config["embedding"]))
        llm = create("llm", LLMConfig.model_validate(chain_config["llm"]))
        template = PromptTemplate(
            PromptConfig.model_validate(chain_config["prompt"]).template,
            template_var_mappings={"context_str": "context", "query_str": "question"},
        )
        self.retrieval = RetrievalConfig.model_validate(chain_config["retrieval"])
        self.top_k = self.retrieval.top_k
        self.retriever = Retriever(self.retrieval, embed, collection, llm, store)
        loading.result()
        self._llm = llm
        self.synthesizer = get_response_synthesizer(
            llm=llm,
            text_qa_template=template,
            response_mode=ResponseMode.COMPACT,
        )

    def refuse_if_too_long(self, question: str) -> None:
        """A question that leaves no room in the LLM's context window for the prompt, the retrieved text and
        the answer is the caller's mistake: an MLflow INVALID_PARAMETER_VALUE (the scoring server's 400),
        not the synthesizer's ValueError about a negative chunk size once retrieval has run."""
        # The synthesizer's own packing of no text: the same prompts (the larger of answer and refine),
        # padding and arithmetic that would refuse the question after retrieval.
        pack = getattr(self.synthesizer, "_make_compact_text_chunks", None)
        try:
            if pack is not None:
                pack(question, [])
        except ValueError:
            from llama_index.core import Settings
            from mlflow.exceptions import MlflowException
            from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

            meta = self._llm.metadata
            raise MlflowException(
                f"the question is too long: about {len(Settings.tokenizer(question))} tokens, and the LLM's "
                f"context window of {meta.context_window} must also hold the prompt, the retrieved text and "
                f"{meta.num_output} tokens of answer; shorten it, or use an LLM with a larger llm.context_window",
                INVALID_PARAMETER_VALUE,
            ) from None

    def answer(self, question: str) -> dict[str, Any]:
        """One trace per question: chain -> retrieve (RETRIEVER) -> the LLM call(s) (LLM, in llms.py)."""
        from ragctl import tracing

        self.refuse_if_too_long(question)
        with tracing.span("ragctl_chain", "CHAIN", {"question": question}) as root:
            with tracing.span("retrieve", "RETRIEVER", {"query": question}) as retrieval:
                hits = self.retriever.search(question)
                nodes = hits.nodes
                if tracing.enabled():
                    retrieval.set_outputs(tracing.documents(nodes))
                    retrieval.set_attributes(
                        {tracing.SIMILARITY: hits.best_similarity, tracing.FILES: hits.files, tracing.PARTS: hits.parts}
                    )
            floor = self.retrieval.min_score
            citation = None
            if floor is not None and (hits.best_similarity is None or hits.best_similarity < floor):
                answer = self.retrieval.abstain_answer  # weak evidence: decline rather than guess
                root.set_attribute(tracing.ABSTAINED, True)
            else:
                response: Any = self.synthesizer.synthesize(question, nodes)  # a Response: streaming is off
                answer = str(response.response or "").strip()
                citation = cite(answer, nodes)
            sources = [
                {
                    "file": n.node.metadata.get("file"),
                    "page": n.node.metadata.get("page"),
                    "score": round(float(n.score or 0.0), 4),
                }
                for n in nodes
            ]
            result = {"answer": answer, "citation": citation, "sources": sources}
            root.set_outputs(result)
            if tracing.enabled() and (served := tracing.served()):
                import mlflow

                mlflow.update_current_trace(tags=served)
                # What an application passes to `ragctl feedback`; None for an answer sampling left untraced.
                sampled = root.trace_id and not str(root.trace_id).startswith("MLFLOW_NO_OP")
                result["trace_id"] = root.trace_id if sampled else None
        return result
