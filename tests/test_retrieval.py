"""Retrieval: document titles carried into chunks, BM25 + dense fused, questions that name documents by title,
and abstaining on weak evidence. Pure parts directly; the retriever through the real embedding and Chroma."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragctl.cli.app import app
from ragctl.config.model import RagctlConfig, RetrievalConfig
from ragctl.documents.title import compose, file_part, markdown_heading, period, registrant
from ragctl.retrieval.fusion import rrf
from ragctl.retrieval.titles import TitleMatcher, terms

SAMPLE = Path(__file__).resolve().parent.parent / "sample_docs"
COVER = """UNITED STATES\nSECURITIES AND EXCHANGE COMMISSION\nFORM 10-Q\n
For the quarterly period ended December 31, 2022\nor\nCommission File Number: 001-36743\n\nApple Inc.\n
(Exact name of Registrant as specified in its charter)\nCalifornia 94-2404110"""


def test_title_from_file_name_metadata_and_an_sec_cover() -> None:
    assert file_part("filings/2023_Q1-AAPL.pdf") == "2023 Q1 AAPL"
    assert registrant(COVER) == "Apple Inc." and period(COVER) == "quarterly period ended December 31, 2022"
    title = compose("2023 Q1 AAPL.pdf", ["0000320193-23-000006", "(unspecified)", registrant(COVER), period(COVER)])
    assert (
        title == "2023 Q1 AAPL | Apple Inc. | quarterly period ended December 31, 2022"
    )  # the accession id is dropped
    # A part that contains an earlier one replaces it; repeats are dropped.
    assert compose("normans.pdf", ["The Normans", "the normans"]) == "The Normans"
    assert markdown_heading("intro\n# Release notes 2.0\ntext") == "Release notes 2.0"


def test_terms_keep_years_quarters_and_names_and_drop_filler() -> None:
    assert terms("For Q3 2023, what was NVIDIA's revenue in the third quarter?") == {"q3", "2023", "nvidia", "revenue"}
    assert terms("Form 10-Q filed 01/24/2023 for Microsoft Corp") == {"2023", "microsoft"}


def test_title_matcher_picks_the_documents_a_question_names() -> None:
    titles = {
        "2023 Q1 AAPL.pdf": "2023 Q1 AAPL | Apple Inc. | quarterly period ended December 31, 2022",
        "2022 Q3 AAPL.pdf": "2022 Q3 AAPL | Apple Inc. | quarterly period ended June 25, 2022",
        "2023 Q3 NVDA.pdf": "2023 Q3 NVDA | NVIDIA CORPORATION | quarterly period ended October 29, 2023",
    }
    matcher = TitleMatcher(titles)
    assert matcher.files("What was Apple's revenue in Q3 2022?") == ["2022 Q3 AAPL.pdf"]
    assert matcher.files("How did Apple's margins change?") == ["2022 Q3 AAPL.pdf", "2023 Q1 AAPL.pdf"]
    assert matcher.files("For Q3 2023, what share of NVIDIA's revenue came from data centers?") == ["2023 Q3 NVDA.pdf"]
    assert matcher.files("What is the weighted average cost of capital?") == []  # names no document
    # Words every title has tell nothing apart.
    assert TitleMatcher({"a.pdf": "Quarterly report Acme", "b.pdf": "Quarterly report Acme"}).files("Acme") == []


def test_reciprocal_rank_fusion_rewards_agreement() -> None:
    fused = rrf([["a", "b", "c"], ["b", "c", "d"]], k=60)
    assert [item for item, _ in fused] == ["b", "c", "a", "d"]  # found by both beats first in one
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)


def test_chunk_context_is_embedded_but_not_stored() -> None:
    from ragctl.stages.ingest.work import prepare

    with_context = prepare(SAMPLE / "normans.pdf", "normans.pdf", "0" * 64, RagctlConfig())
    chunk = with_context.chunks[3]
    assert chunk.embed_text == f"title: The Normans\n\n{chunk.text}"
    assert chunk.metadata["title"] == "The Normans"
    plain = prepare(
        SAMPLE / "normans.pdf", "normans.pdf", "0" * 64, RagctlConfig.model_validate({"chunking": {"context": False}})
    )
    assert all(c.embed_text == c.text and "title" not in c.metadata for c in plain.chunks)
    assert chunk.id not in {c.id for c in plain.chunks}  # another kind of vectors: other ids


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sample_docs ingested by `ragctl ingest` with the default config (the real embedding and Chroma): the
    index folder, collection `retrieval`."""
    root = tmp_path_factory.mktemp("retrieval")
    shutil.copytree(SAMPLE, root / "docs")
    config = root / "ragctl.yaml"
    config.write_text(
        f"ingestion: {{paths: [{root / 'docs'}], exclude: [README.md, LICENSE]}}\n"
        f"vector_store: {{path: {root / 'chroma'}, collection: retrieval}}\n"
        f'tracking: {{uri: "sqlite:///{root}/mlflow.db", artifact_location: {root}/artifacts}}\n'
    )
    result = CliRunner().invoke(app, ["ingest", "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"]["chunks"]["total"] > 50
    return root / "chroma"


@pytest.fixture(scope="module")
def collection(store: Path):  # type: ignore[no-untyped-def]
    from ragctl.components.vector_stores import open_collection
    from ragctl.config.model import VectorStoreConfig

    return open_collection(VectorStoreConfig(path=str(store), collection="retrieval"))


@pytest.fixture(scope="module")
def embed():  # type: ignore[no-untyped-def]
    from ragctl.components import create
    from ragctl.config.model import EmbeddingConfig

    return create("embedding", EmbeddingConfig())


def retrieved(collection, embed, question: str, **settings):  # type: ignore[no-untyped-def]
    from ragctl.retrieval import Retriever

    hits = Retriever(RetrievalConfig.model_validate(settings), embed, collection).search(question)
    return hits, [(n.node.metadata["file"], n.node.metadata.get("page")) for n in hits.nodes]


def test_hybrid_finds_a_rare_word_the_dense_search_misses(collection, embed) -> None:  # type: ignore[no-untyped-def]
    question = "Pechenegs"  # a people named once: BM25 matches the word, a sentence embedding of it does not
    dense_hits, _ = retrieved(collection, embed, question, mode="dense", title_filter="off", top_k=3)
    hits, hybrid = retrieved(collection, embed, question, mode="hybrid", title_filter="off", top_k=3)
    assert not any(question in n.node.get_content() for n in dense_hits.nodes)
    assert any(question in n.node.get_content() for n in hits.nodes), hybrid
    assert len(hybrid) == 3 and all(0 < n.score < 0.1 for n in hits.nodes)  # fused scores: sums of 1 / (60 + rank)
    assert hits.best_similarity == pytest.approx(dense_hits.nodes[0].score)  # the dense evidence is kept


def test_a_question_naming_a_document_retrieves_from_it(collection, embed) -> None:  # type: ignore[no-untyped-def]
    question = "What is a reduction in computational complexity theory?"
    hits, found = retrieved(collection, embed, question, title_filter="restrict", top_k=5)
    assert hits.files == ["complexity_theory.pdf"]
    assert {f for f, _ in found} == {"complexity_theory.pdf"}
    hits, _ = retrieved(collection, embed, "Who was Guy's rival?", title_filter="restrict", top_k=5)
    assert hits.files == []  # names no document: nothing is filtered


def test_the_chain_abstains_on_weak_evidence_without_calling_the_llm(store: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from ragctl.rag import RagEngine

    config = RagctlConfig.model_validate({"vector_store": {"path": str(store), "collection": "retrieval"}})
    chain = config.chain_config()
    chain["retrieval"]["min_score"] = 0.99
    engine = RagEngine(chain)
    monkeypatch.setattr(engine.synthesizer, "synthesize", lambda *a, **k: pytest.fail("the LLM was asked"))
    result = engine.answer("What is the airspeed velocity of an unladen swallow?")
    assert result["answer"] == "Not found in the documents." and len(result["sources"]) == 3


def test_the_answer_cites_the_chunk_it_was_copied_from() -> None:
    from llama_index.core.schema import NodeWithScore, TextNode

    from ragctl.rag import cite

    nodes = [
        NodeWithScore(node=TextNode(text="Rollo was a Viking leader.", metadata={"file": "a.pdf", "page": 2})),
        NodeWithScore(node=TextNode(text="Guy's rival was Conrad of Montferrat.", metadata={"file": "b.txt"})),
    ]
    assert cite("Conrad of  Montferrat.", nodes) == {"file": "b.txt", "page": None}
    assert cite("someone else", nodes) == {"file": "a.pdf", "page": 2}  # not copied: the top chunk
    assert cite("", nodes) is None and cite("x", []) is None


def test_abstention_threshold_separates_what_it_can() -> None:
    from ragctl.evaluation.abstention import calibrate, rates

    evidence = [(0.8, True), (0.7, True), (0.4, True), (0.3, False), (0.5, False)]
    found = calibrate(evidence)
    assert found is not None and found.min_score == 0.7  # 4 in 5 right at best: the two rates balanced
    assert (found.declined, found.answered) == (1.0, pytest.approx(2 / 3))
    assert rates(evidence, 0.0) == (0.0, 1.0)
    assert calibrate([(0.8, True), (0.1, True)]) is None  # needs both kinds


def test_rerank_endpoint_orders_the_fused_candidates(collection, embed, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Against llama.cpp's server in rank-pooling mode on loopback (the packaged Gemma: the plumbing, not a
    good reranker), with its key from the environment."""
    from ragctl.errors import ServiceError
    from tests.servers import llama_server

    server, api_base, key = llama_server(rerank=True)
    monkeypatch.setenv("RERANK_KEY", key)
    rerank = {"api_base": api_base, "model": "gemma", "api_key_env": "RERANK_KEY", "candidates": 4}
    question = "When was the Duchy of Normandy founded?"
    fused, _ = retrieved(collection, embed, question, top_k=4)
    hits, _ = retrieved(collection, embed, question, top_k=3, rerank=rerank)
    scores = [n.score for n in hits.nodes]
    assert len(scores) == 3 and scores == sorted(scores, reverse=True)
    assert scores[-1] > 0.1  # the endpoint's relevance scores, not fused ones (< 0.05)
    assert {n.node.node_id for n in hits.nodes} <= {n.node.node_id for n in fused.nodes}  # reordered, not new
    monkeypatch.setenv("RERANK_KEY", "wrong")
    with pytest.raises(ServiceError, match=r"rerank endpoint .* answered 401"):
        retrieved(collection, embed, question, top_k=3, rerank=rerank)
    del server


def test_assemble_says_what_retrieval_does_and_does_not() -> None:
    from ragctl.stages.assemble import retrieval_summary

    assert retrieval_summary(RetrievalConfig()) == "hybrid, title filter restrict, no rerank, never abstains"
    configured = RetrievalConfig.model_validate(
        {"mode": "dense", "min_score": 0.4, "rerank": {"api_base": "http://r:8080/v1", "model": "bge"}}
    )
    assert (
        retrieval_summary(configured)
        == "dense, title filter restrict, rerank bge at http://r:8080/v1, abstain below 0.4"
    )
