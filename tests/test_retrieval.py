"""Retrieval: document titles carried into chunks, BM25 + dense fused, questions that name documents by title,
and abstaining on weak evidence. Pure parts directly; the retriever through the real embedding and Chroma."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ragctl.cli.app import app
from ragctl.config.model import RagctlConfig, RetrievalConfig
from ragctl.documents.title import compose, file_part, markdown_heading, period, registrant
from ragctl.errors import ConfigError
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
    assert terms("What is the FY2019 - FY2021 average for Corning?") == {"2019", "2021", "average", "corning"}
    assert terms("JPMORGAN 2023Q2 10Q") == {"jpmorgan", "2023", "q2"}


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
    # A file name that runs a company's words together still names it.
    glued = TitleMatcher({"MGMRESORTS_2018_10K.pdf": "", "MGMRESORTS_2022_10K.pdf": "", "BOEING_2018_10K.pdf": ""})
    assert glued.files("What were MGM Resorts' accounts payable at the end of FY2018?") == ["MGMRESORTS_2018_10K.pdf"]
    # Words every title has tell nothing apart.
    assert TitleMatcher({"a.pdf": "Quarterly report Acme", "b.pdf": "Quarterly report Acme"}).files("Acme") == []


def test_reciprocal_rank_fusion_rewards_agreement() -> None:
    fused = rrf([["a", "b", "c"], ["b", "c", "d"]], k=60)
    assert [item for item, _ in fused] == ["b", "c", "a", "d"]  # found by both beats first in one
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)


def prepare_file(path: Path, config: RagctlConfig):  # type: ignore[no-untyped-def]
    """One file through the worker's function, as ingest hands it over (a Job with its key)."""
    from ragctl.stages.ingest.work import Keys, job, prepare

    digest = "0" * 64
    return prepare(job(path, path.name, digest, Keys.of(config).ingest_key(digest), config))


def test_pages_are_ranked_by_their_best_chunk() -> None:
    from ragctl.retrieval.pages import best_pages

    metadata = {
        "a": {"file": "10k.pdf", "page": 1},
        "b": {"file": "10k.pdf", "page": 2},
        "c": {"file": "10k.pdf", "page": 1},
        "d": {"file": "notes.md"},
        "e": {"file": "10q.pdf", "page": 1},  # the same page number in another file is another page
    }
    ranked = [("a", 0.5), ("c", 0.45), ("b", 0.3), ("e", 0.25), ("d", 0.1)]
    assert best_pages(ranked, metadata.__getitem__) == [("a", 0.5), ("b", 0.3), ("e", 0.25), ("d", 0.1)]


BALANCE_SHEET_PAGE = "ACME CORPORATION | CONSOLIDATED BALANCE SHEETS | CURRENT ASSETS | CURRENT LIABILITIES"


def test_parts_of_a_document_by_any_of_their_names() -> None:
    from ragctl.retrieval.parts import PartIndex, named

    question = "Using the statement of financial position and the cash flows statement, what is the quick ratio?"
    assert named(question) == {"balance sheet", "cash flow statement"}
    assert named("CONSOLIDATED STATEMENTS OF OPERATIONS") == {"income statement"}
    assert named("Item 8. Financial Statements > CONSOLIDATED STATEMENTS OF COMPREHENSIVE INCOME") == {
        "item 8",
        "comprehensive income",
    }
    assert named("Note 7 – Benefit Plans > Restricted Stock Units") == {"note 7"}
    assert named("Consolidated Statements of Shareholders’ Equity") == {"equity statement"}
    assert named("Off-Balance Sheet Arrangements") == set()
    assert named("What was the operating income in fiscal 2021?") == set()
    index = PartIndex(
        [
            {"file": "10k.pdf", "page": 4, "section": "Item 7. MD&A"},
            # the statement's title is a heading on the page, though no chunk's path keeps it
            {"file": "10k.pdf", "page": 5, "section": "Item 8 > CURRENT ASSETS", "headings": BALANCE_SHEET_PAGE},
            {"file": "10k.pdf", "page": 5, "section": "Item 8 > CURRENT LIABILITIES", "headings": BALANCE_SHEET_PAGE},
            {"file": "10k.pdf", "page": 6, "section": "Item 8 > CONSOLIDATED STATEMENTS OF CASH FLOWS"},
        ]
    )
    found = index.positions("What were total current liabilities on the balance sheet?")
    assert {part: list(positions) for part, positions in found.items()} == {"balance sheet": [1, 2]}  # the page
    assert list(index.positions("Per Note 9, what is the lease term?")) == []  # a part this collection lacks


def test_chunk_context_is_embedded_but_not_stored() -> None:
    with_context = prepare_file(SAMPLE / "normans.pdf", RagctlConfig())
    chunk = with_context.chunks[3]
    assert chunk.embed_text == f"title: The Normans\n\n{chunk.text}"
    assert chunk.metadata["title"] == "The Normans"
    plain = prepare_file(SAMPLE / "normans.pdf", RagctlConfig.model_validate({"chunking": {"context": False}}))
    assert all(c.embed_text == c.text and "title" not in c.metadata for c in plain.chunks)
    assert chunk.id not in {c.id for c in plain.chunks}  # another kind of vectors: other ids


# Lines as pypdf extracts them from a 10-Q (Apple, Q1 2023; SEC filings are public domain), page-header-free.
FILING_PAGE = """Note 5 – Debt
Commercial Paper
The Company issues unsecured short-term promissory notes pursuant to a commercial paper program. The Company uses net
proceeds from the commercial paper program for general corporate purposes, including dividends and share repurchases.
Three Months Ended
December 31,
2022
Proceeds from/(Repayments of) commercial paper, net $ (8,214) $ 1,000
Term Debt
As of December 31, 2022 and September 24, 2022, the Company had outstanding fixed-rate notes with varying maturities
for an aggregate carrying amount of $109.4 billion and $110.1 billion, respectively (collectively the "Notes")."""


def test_headings_are_found_on_extracted_lines_and_placed_in_the_cleaned_text() -> None:
    from ragctl.documents.clean import clean
    from ragctl.documents.headings import clean_with_headings, level

    text, headings = clean_with_headings(FILING_PAGE)
    assert text == clean(FILING_PAGE)  # finding headings changes no text
    assert [(depth, heading) for _, depth, heading in headings] == [
        (2, "Note 5 – Debt"),
        (4, "Commercial Paper"),
        (4, "Term Debt"),
    ]  # "Three Months Ended" heads a table, not prose: no heading
    assert all(text[offset:].startswith(heading) for offset, _, heading in headings)
    assert level("PART II — OTHER INFORMATION", "") == 1 and level("Item 1A.    Risk Factors", "") == 2
    assert level("CONDENSED CONSOLIDATED BALANCE SHEETS (Unaudited)", "") == 3
    assert level("Total net sales 117,154 123,945", "x" * 80) is None  # a table row
    assert level("The Normans (Norman: Nourmands; French: Normands)", "the " * 30) is None
    markdown, found = clean_with_headings("# Guide\n\nIntro text.\n\n## Install\n\nRun it.", markdown=True)
    assert [(d, h) for _, d, h in found] == [(1, "Guide"), (2, "Install")]
    assert all(markdown[o:].startswith("#" * d + " " + h) for o, d, h in found)


def test_sections_cut_pages_at_headings_and_carry_the_heading_path(tmp_path: Path) -> None:
    """Through the real reader and splitter: a Markdown file and an HTML file with headings."""

    body = "Sentences about the topic at hand keep going for a while here. " * 8
    (tmp_path / "guide.md").write_text(
        f"# Operations guide\n\n{body}\n\n## Backups\n\nNightly snapshots go to cold storage. {body}\n\n"
        f"## Restores\n\nA restore takes four hours. {body}\n"
    )
    config = RagctlConfig.model_validate({"chunking": {"sections": True}})
    prepared = prepare_file(tmp_path / "guide.md", config)
    sections = [c.metadata["section"] for c in prepared.chunks]
    assert sections[0] == "Operations guide" and "Operations guide > Restores" in sections
    assert prepared.chunks[0].metadata["headings"] == "Operations guide | Backups | Restores"
    assert "Backups" not in prepared.chunks[0].embed_text  # kept for the part filter, not embedded
    restore = next(c for c in prepared.chunks if "four hours" in c.text)
    assert restore.embed_text.startswith("title: Operations guide\nsection: Operations guide > Restores\n\n")
    assert not any("four hours" in c.text and "cold storage" in c.text for c in prepared.chunks)  # cut at the heading
    (tmp_path / "page.html").write_text(
        f"<html><body><h1>Release notes</h1><p>{body}</p><h2>Known Issues</h2><p>The exporter drops empty "
        f"rows on Windows. {body}</p></body></html>"
    )
    html = prepare_file(tmp_path / "page.html", config)
    assert next(c for c in html.chunks if "drops empty" in c.text).metadata["section"] == "Known Issues"
    off = prepare_file(tmp_path / "guide.md", RagctlConfig())
    assert all("section" not in c.metadata for c in off.chunks)


def test_tables_carry_their_statement_and_lose_their_dot_leaders(tmp_path: Path) -> None:
    rows = "Cash and cash equivalents.............................. $ 876,560 $ 1,117,400\n"
    rows += "Total current assets . . . . . . . . . . . . . . 4,821,892 4,602,328\n"
    (tmp_path / "acme.txt").write_text(f"ACME CORPORATION\nCONSOLIDATED BALANCE SHEETS\n(In thousands)\n{rows}")
    chunk = prepare_file(tmp_path / "acme.txt", RagctlConfig.model_validate({"chunking": {"tables": True}})).chunks[0]
    assert chunk.metadata["statement"] == "CONSOLIDATED BALANCE SHEETS"
    assert "statement: CONSOLIDATED BALANCE SHEETS\n\n" in chunk.embed_text
    assert "Cash and cash equivalents $ 876,560 $ 1,117,400 Total current assets 4,821,892 4,602,328" in chunk.text
    off = prepare_file(tmp_path / "acme.txt", RagctlConfig()).chunks[0]
    assert "......" in off.text and "statement" not in off.metadata


def ingest_copy(root: Path, docs: Path, collection: str, settings: str = "") -> dict:
    """`docs` copied under `root` and ingested by `ragctl ingest` (the real embedding and Chroma) into
    `root/chroma`, collection `collection`, with the given YAML lines on top of the default config."""
    shutil.copytree(docs, root / "docs")
    config = root / "ragctl.yaml"
    config.write_text(
        f"ingestion: {{paths: [{root / 'docs'}], exclude: [README.md, LICENSE]}}\n{settings}"
        f"vector_store: {{path: {root / 'chroma'}, collection: {collection}}}\n"
        f'tracking: {{uri: "sqlite:///{root}/mlflow.db", artifact_location: {root}/artifacts}}\n'
    )
    result = CliRunner().invoke(app, ["ingest", "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["summary"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sample_docs ingested with the default config: the index folder, collection `retrieval`."""
    root = tmp_path_factory.mktemp("retrieval")
    assert ingest_copy(root, SAMPLE, "retrieval")["chunks"]["total"] > 50
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


def test_chromas_vector_index_loads_on_another_thread_and_its_errors_reach_the_waiter(store, collection) -> None:  # type: ignore[no-untyped-def]
    """The chain starts Chroma's load of its vectors first and waits for it after the rest has loaded."""
    import threading

    from ragctl.components.vector_stores import open_collection, start_loading
    from ragctl.config.model import VectorStoreConfig

    class Spy:
        def __init__(self, real: Any, fail: bool = False) -> None:
            self.real, self.fail, self.calls = real, fail, []

        def get(self, **kwargs: Any) -> Any:
            self.calls.append(("get", threading.current_thread().name))
            if self.fail:
                raise RuntimeError("segment unreadable")
            return self.real.get(**kwargs)

        def query(self, **kwargs: Any) -> Any:
            self.calls.append(("query", threading.current_thread().name))
            return self.real.query(**kwargs)

    spy = Spy(collection)
    assert start_loading(spy).result() is None
    assert [call for call, _ in spy.calls] == ["get", "query"]
    assert all(name.startswith("ragctl-chroma-load") for _, name in spy.calls)
    empty = Spy(open_collection(VectorStoreConfig(path=str(store), collection="empty-for-loading"), create=True))
    start_loading(empty).result()
    assert [call for call, _ in empty.calls] == ["get"]  # nothing to load, no query
    with pytest.raises(RuntimeError, match="segment unreadable"):
        start_loading(Spy(collection, fail=True)).result()


def retrieved(collection, embed, question: str, llm=None, **settings):  # type: ignore[no-untyped-def]
    from ragctl.retrieval import Retriever

    hits = Retriever(RetrievalConfig.model_validate(settings), embed, collection, llm).search(question)
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


def test_page_unit_retrieves_the_best_distinct_pages(collection, embed) -> None:  # type: ignore[no-untyped-def]
    question = "What is a reduction in computational complexity theory?"
    _, chunks = retrieved(collection, embed, question, top_k=20, title_filter="off")
    assert len(set(chunks)) < len(chunks)  # the chunk ranking shows some page twice
    _, pages = retrieved(collection, embed, question, top_k=5, title_filter="off", unit="page")
    assert pages == list(dict.fromkeys(chunks))[:5]  # the pages in the order of their best chunks


class Reads:
    """The real collection, noting the ids whose text each call reads."""

    def __init__(self, collection: Any) -> None:
        self.collection = collection
        self.read: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.collection, name)

    def query(self, **kwargs: Any) -> Any:
        got = self.collection.query(**kwargs)
        if "documents" in kwargs.get("include", ["documents"]):
            self.read += got["ids"][0]
        return got

    def get(self, **kwargs: Any) -> Any:
        got = self.collection.get(**kwargs)
        if "documents" in kwargs.get("include", ["documents"]):
            self.read += got["ids"]
        return got


def test_a_wide_search_reads_no_text_from_chroma_and_the_kept_chunks_only_without_records(  # type: ignore[no-untyped-def]
    tmp_path: Path, store: Path, collection, embed
) -> None:
    """Twenty candidates ranked, three kept: their text and metadata come from the index's records, none
    from Chroma (at 1,000,000 chunks each read is pages of its SQLite file), and they are the collection's.
    An index saved without records (by an older ragctl) reads exactly the three kept texts from Chroma."""
    from ragctl.components.vector_stores import open_collection
    from ragctl.config.model import VectorStoreConfig
    from ragctl.retrieval import Retriever

    question = "Who was Guy's rival in the Holy Land?"
    found = {}
    for unit in ("chunk", "page"):
        config = RetrievalConfig(top_k=3, candidates=20, title_filter="off", unit=unit)
        reads = Reads(collection)
        retriever = Retriever(config, embed, reads, store=VectorStoreConfig(path=str(store), collection="retrieval"))
        kept = found[unit] = retriever.search(question).nodes
        assert len(kept) == 3 and reads.read == [], unit
        stored = collection.get(ids=[n.node.id_ for n in kept], include=["documents", "metadatas"])
        by_id = {i: (d, m) for i, d, m in zip(stored["ids"], stored["documents"], stored["metadatas"])}
        assert {n.node.id_: n.node.get_content() for n in kept} == {i: d for i, (d, _) in by_id.items()}
        assert all(n.node.metadata["file"] == by_id[n.node.id_][1]["file"] for n in kept)

    older = tmp_path / "chroma"
    shutil.copytree(store, older)
    (described,) = older.glob("ragctl-index/retrieval/*/index.json")
    meta = json.loads(described.read_text())
    meta.pop("texts")  # as ragctl wrote it before the records were kept
    described.write_text(json.dumps(meta))
    where = VectorStoreConfig(path=str(older), collection="retrieval")
    reads = Reads(open_collection(where))
    config = RetrievalConfig(top_k=3, candidates=20, title_filter="off")
    retriever = Retriever(config, embed, reads, store=where)
    assert retriever.index_source == "saved" and retriever._index is not None and retriever._index.texts is None
    older_hits = retriever.search(question).nodes
    kept_ids = [n.node.id_ for n in older_hits]
    assert len(kept_ids) == 3 and sorted(reads.read) == sorted(kept_ids)
    assert [(n.node.id_, n.node.get_content(), n.node.metadata) for n in older_hits] == [
        (n.node.id_, n.node.get_content(), n.node.metadata) for n in found["chunk"]
    ]


def test_a_dense_search_reads_its_text_from_an_index_on_this_machine_and_never_builds_one(  # type: ignore[no-untyped-def]
    tmp_path: Path, store: Path, collection, embed, caplog
) -> None:
    """Dense mode searches Chroma alone: it reads the kept chunks' text from the saved index when this
    machine has it, and from Chroma when it has none, without building one or warning."""
    from ragctl.components.vector_stores import open_collection
    from ragctl.config.model import VectorStoreConfig
    from ragctl.retrieval import Retriever

    question = "Who was Guy's rival in the Holy Land?"
    config = RetrievalConfig(top_k=3, mode="dense", title_filter="off")
    reads = Reads(collection)
    retriever = Retriever(config, embed, reads, store=VectorStoreConfig(path=str(store), collection="retrieval"))
    assert retriever.index_source == "saved"
    kept = retriever.search(question).nodes
    assert len(kept) == 3 and reads.read == []
    stored = collection.get(ids=[n.node.id_ for n in kept], include=["documents", "metadatas"])
    assert {n.node.id_: (n.node.get_content(), n.node.metadata["file"]) for n in kept} == {
        i: (d, m["file"]) for i, d, m in zip(stored["ids"], stored["documents"], stored["metadatas"])
    }

    bare = tmp_path / "chroma"
    shutil.copytree(store, bare)
    shutil.rmtree(bare / "ragctl-index")
    where = VectorStoreConfig(path=str(bare), collection="retrieval")
    reads = Reads(open_collection(where))
    with caplog.at_level("WARNING", logger="ragctl"):
        retriever = Retriever(config, embed, reads, store=where)
        hits = retriever.search(question).nodes
    assert retriever._index is None and retriever.index_source == "" and caplog.records == []
    assert sorted(reads.read) == sorted(n.node.id_ for n in hits)
    assert [(n.node.id_, n.node.get_content(), n.score) for n in hits] == [
        (n.node.id_, n.node.get_content(), n.score) for n in kept
    ]


def _same(hits):  # type: ignore[no-untyped-def]
    return [(n.node.id_, round(n.score, 6), n.node.get_content(), n.node.metadata) for n in hits.nodes], hits.files


def test_the_saved_search_index_retrieves_as_one_built_in_memory(store: Path, collection, embed) -> None:  # type: ignore[no-untyped-def]
    """The index ingest saved (memory-mapped here) and one built from the collection at load give the same
    hits, texts and scores for every sample question, in every mode that uses it."""
    import numpy as np

    from ragctl.config.model import VectorStoreConfig
    from ragctl.retrieval import Retriever
    from ragctl.retrieval.index.disk import will_need

    where = VectorStoreConfig(path=str(store), collection="retrieval")
    questions = [json.loads(line)["question"] for line in (SAMPLE / "qa.jsonl").read_text().splitlines() if line]
    for settings in ({"mode": "dense", "title_filter": "restrict"}, {}, {"title_filter": "boost"}, {"unit": "page"}):
        config = RetrievalConfig(top_k=5, **settings)
        saved, built = Retriever(config, embed, collection, store=where), Retriever(config, embed, collection)
        assert (saved.index_source, built.index_source) == ("saved", "built")
        assert isinstance(saved._index.vectors, np.memmap)  # read from disk as needed, not held
        # the files every query reads (BM25 postings, ids, pages) are mapped too, and can be read ahead
        assert will_need(*saved._index.keyword.postings(), saved._index.ids, saved._index.pages[1:]) == 5
        assert will_need(np.zeros(3)) == 0
        for question in questions:
            assert _same(saved.search(question)) == _same(built.search(question)), (settings, question)


def test_bm25_scores_are_bm25s_own(collection) -> None:  # type: ignore[no-untyped-def]
    """The score matrix ragctl computes from token ids is the one bm25s' BM25().index builds, bit for bit."""
    import bm25s
    import numpy as np
    import Stemmer

    from ragctl.retrieval import corpus
    from ragctl.retrieval.bm25 import score_matrix
    from ragctl.retrieval.keyword import KeywordIndex, tokenize

    chunks = [t for page in corpus.pages(collection) for t in page.texts]
    texts = [*chunks, "", "the of and", "Normans normans NORMANS"]
    ours = KeywordIndex.of_tokens(*tokenize(texts, batch=7))._bm25  # batches: one vocabulary across them
    theirs = bm25s.BM25()
    theirs.index(bm25s.tokenize(texts, stopwords="en", stemmer=Stemmer.Stemmer("english"), show_progress=False))
    assert set(ours.vocab_dict) == set(theirs.vocab_dict) - {""}  # bm25s adds an empty word no text has
    for word in ["norman", "rollo", "complex", "reduct"]:
        assert word in ours.vocab_dict
        np.testing.assert_array_equal(ours.get_scores([word]), theirs.get_scores([word]))
    assert ours.scores["num_docs"] == theirs.scores["num_docs"] == len(texts)
    for word, number in ours.vocab_dict.items():  # each word's column: the same rows, bit for bit the same scores
        theirs_at = theirs.vocab_dict[word]
        for key in ("indices", "data"):
            np.testing.assert_array_equal(
                ours.scores[key][ours.scores["indptr"][number] : ours.scores["indptr"][number + 1]],
                theirs.scores[key][theirs.scores["indptr"][theirs_at] : theirs.scores["indptr"][theirs_at + 1]],
                err_msg=f"{word}: {key}",
            )
    tokens, starts, vocabulary = tokenize(texts)
    whole = score_matrix(tokens, starts, len(vocabulary) + 2)  # two ids no text has: empty columns
    for block in (1, 7, 1000):  # scored a few vocabulary ids at a time: the same matrix
        parts = score_matrix(tokens, starts, len(vocabulary) + 2, block=block)
        for key in ("data", "indices", "indptr"):
            assert parts[key].dtype == whole[key].dtype
            np.testing.assert_array_equal(parts[key], whole[key], err_msg=f"block {block}: {key}")
    assert whole["indptr"][-1] == whole["indptr"][-3] == len(whole["data"])


def test_the_best_bm25_scores_are_found_without_sorting_them_all() -> None:
    """The threshold from a sample never loses one of the best k positive scores (ties: earlier first),
    whatever the share of zeros, ties or k."""
    import numpy as np

    from ragctl.retrieval.keyword import _above

    rng = np.random.default_rng(7)
    for size, share, levels in [(1_000_000, 0.3, 0), (200_000, 0.001, 0), (100_000, 0.5, 3), (50_000, 0.0001, 0)]:
        scores = np.zeros(size, dtype=np.float32)
        hit = rng.random(size) < share
        values = rng.integers(1, levels + 1, hit.sum()) if levels else rng.random(hit.sum()) * 10
        scores[hit] = values.astype(np.float32)
        for k in (1, 5, 50, 200):
            every = np.flatnonzero(scores > 0)
            expected = every[np.lexsort((every, -scores[every]))][:k]
            found = _above(scores, k)
            assert np.array_equal(found[np.lexsort((found, -scores[found]))][:k], expected), (size, share, k)


def test_bm25_within_named_chunks_scores_as_over_all_of_them(collection) -> None:  # type: ignore[no-untyped-def]
    """Scoring the chunks of named documents from slices of the postings gives exactly the scores bm25s
    gives them when it scores every chunk: one document, several, out of order, none."""
    import bm25s
    import numpy as np

    from ragctl.retrieval.index.build import build

    index = build(collection)
    keyword = index.keyword
    rows = [index.rows(index.files[:1]), index.rows(index.files[-1:] + index.files[:1]), index.rows(index.files)]
    rows += [np.asarray([5, 2, 9, 2 + len(index) // 2]), np.zeros(0, dtype=np.int64)]
    for question in ["Who was Guy's rival?", "Normans Normandy Rollo", "complexity class reductions Norman"]:
        words = [w for w in bm25s.tokenize(question, stopwords="en", return_ids=False, show_progress=False,
                                             stemmer=keyword._stemmer)[0] if w in keyword._bm25.vocab_dict]  # fmt: skip
        assert words
        every = keyword._bm25.get_scores(words)
        for positions in rows:
            np.testing.assert_array_equal(keyword.scores_within(words, positions), every[positions])


class Reversed:
    """A collection that lists its ids in the reverse of Chroma's order."""

    def __init__(self, collection: Any) -> None:
        self.collection = collection

    def get(self, **query: Any) -> Any:
        got = self.collection.get(**query)
        if query.get("include") == []:
            got["ids"] = got["ids"][::-1]
        return got


@pytest.mark.slow
def test_an_updated_index_is_the_index_built_from_scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a file is added, or deleted, the earlier index updated with that file's chunks alone equals
    the index built from the whole collection (ids, pages, vectors, parts, titles, token ids, BM25)."""
    from ragctl.components.vector_stores import open_collection
    from ragctl.config.model import VectorStoreConfig
    from ragctl.retrieval.index import disk
    from ragctl.retrieval.index.build import build
    from ragctl.retrieval.index.update import update
    from tests.indexes import assert_same_index, index_of_sorted_chunks

    docs = tmp_path / "source"
    docs.mkdir()
    shutil.copy(Path(__file__).parent / "data/financebench/COSTCO_2021_10K_excerpt.pdf", docs)  # has parts
    shutil.copy(SAMPLE / "normans_crusades_and_arts.txt", docs / "0-normans.txt")  # sorts before it
    shutil.copy(SAMPLE / "normans.pdf", docs)
    ingest_copy(tmp_path, docs, "update", TABLES)
    collection = open_collection(VectorStoreConfig(path=str(tmp_path / "chroma"), collection="update"))
    full = build(collection)
    assert full.files[0] == "0-normans.txt" and full.parts
    assert_same_index(full, index_of_sorted_chunks(collection))
    # pages of 7 chunks, read in Chroma's order and in the reverse of it: the same index
    assert_same_index(build(collection, page=7), full)
    assert_same_index(build(Reversed(collection), page=7), full)

    def updated(base: Any, changed: set[str], digest: str) -> Any:
        return disk.load(update(base, collection, changed, digest, tmp_path / "indexes" / digest))

    added = full.files[0]  # before the others: every later row and part moves
    before = build(collection, files=full.files[1:])
    assert_same_index(updated(before, {added}, "d1"), full)
    # the earlier index as an ingest has it, saved, and read from its files a few rows at a time
    monkeypatch.setattr("ragctl.retrieval.index.update.ROWS", 5)
    monkeypatch.setattr("ragctl.retrieval.index.update.TOKENS", 97)
    saved = disk.load(disk.save(before, tmp_path / "indexes" / "d0"))
    assert_same_index(updated(saved, {added}, "d1-saved"), full)
    deleted = full.files[1]
    collection.delete(where={"file": deleted})
    saved = disk.load(disk.save(full, tmp_path / "indexes" / "d1-full"))
    assert_same_index(updated(saved, {deleted}, "d2"), build(collection))
    assert_same_index(updated(full, {deleted}, "d2-memory"), build(collection))
    assert_same_index(updated(full, set(full.files), "d3"), build(collection))  # all read again


def test_a_chain_without_a_current_search_index_says_so_and_still_answers(  # type: ignore[no-untyped-def]
    store: Path, embed, tmp_path: Path, caplog
) -> None:
    from ragctl.components.vector_stores import open_collection
    from ragctl.config.model import VectorStoreConfig
    from ragctl.retrieval import Retriever
    from ragctl.retrieval.index import marker

    shutil.copytree(store, tmp_path / "chroma")  # a copy: the module's store stays as ingest left it
    where = VectorStoreConfig(path=str(tmp_path / "chroma"), collection="retrieval")
    copy = open_collection(where)
    question = "What is a reduction in computational complexity theory?"
    expected = _same(Retriever(RetrievalConfig(), embed, copy, store=where).search(question))
    shutil.rmtree(tmp_path / "chroma" / "ragctl-index")  # deleted behind ragctl's back
    retriever = Retriever(RetrievalConfig(), embed, copy, store=where)
    assert retriever.index_source == "built" and "is not at" in retriever.index_note
    assert "building it in memory" in caplog.text and _same(retriever.search(question)) == expected
    marker.unmark(copy)  # as ingest leaves it when it stops between its first write and the new index
    retriever = Retriever(RetrievalConfig(), embed, copy, store=where)
    assert "no current search index" in retriever.index_note and _same(retriever.search(question)) == expected


TABLES = "chunking: {sections: true, tables: true}\n"


@pytest.fixture(scope="module")
def statements(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Seven real pages of a 10-K (MD&A prose about cash flows, then the five statements) ingested with
    sections and tables on: the collection."""
    from ragctl.components.vector_stores import open_collection
    from ragctl.config.model import VectorStoreConfig

    root = tmp_path_factory.mktemp("statements")
    summary = ingest_copy(root, Path(__file__).parent / "data/financebench", "statements", TABLES)
    assert summary["files"]["added"] == 1 and summary["pages"] == 7
    return open_collection(VectorStoreConfig(path=str(root / "chroma"), collection="statements"))


def test_a_question_naming_statements_searches_the_pages_under_them(statements, embed) -> None:  # type: ignore[no-untyped-def]
    question = "According to the cash flow statement, what were Costco's capital expenditures in FY2021?"
    hits, pages = retrieved(statements, embed, question, top_k=3, part_filter="restrict", unit="page")
    assert hits.parts == ["cash flow statement"] and pages == [("COSTCO_2021_10K_excerpt.pdf", 7)]
    assert all(n.node.metadata["statement"] == "CONSOLIDATED STATEMENTS OF CASH FLOWS" for n in hits.nodes)
    # A ratio of two statements: each named part's pages are searched, so both come first.
    question = "Using the balance sheet and the statement of operations, what is Costco's FY2021 return on assets?"
    hits, pages = retrieved(statements, embed, question, top_k=3, part_filter="boost", unit="page")
    assert hits.parts == ["balance sheet", "income statement"]
    assert {page for _, page in pages[:2]} == {3, 5}
    hits, pages = retrieved(statements, embed, question, top_k=3, part_filter="restrict", unit="page")
    assert sorted(page for _, page in pages) == [3, 5]
    hits, _ = retrieved(statements, embed, "What were Costco's dividends per share?", top_k=3, part_filter="restrict")
    assert hits.parts == []  # names no part: nothing is filtered


@pytest.mark.e2e
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


@pytest.mark.e2e
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


def test_yes_no_margin_and_both_logprob_shapes() -> None:
    from ragctl.components.llms import top_logprobs
    from ragctl.errors import ServiceError
    from ragctl.retrieval.rerank import yes_no_margin

    assert yes_no_margin({" Yes": -0.5, " No": -2.0, "yes": -3.0}) == pytest.approx(1.5)  # the likelier spelling
    assert yes_no_margin({" No": -0.1, " The": -4.0}) == pytest.approx(-5.0 + 0.1)  # Yes unlisted: below the last
    assert yes_no_margin({}) == 0.0
    llama_cpp_shape = {"choices": [{"logprobs": {"content": [{"top_logprobs": [{"token": " Yes", "logprob": -1}]}]}}]}
    openai_shape = {"choices": [{"logprobs": {"top_logprobs": [{" Yes": -1.0}], "tokens": [" Yes"]}}]}
    assert top_logprobs(llama_cpp_shape) == top_logprobs(openai_shape) == {" Yes": -1.0}
    with pytest.raises(ServiceError, match="no logprobs"):
        top_logprobs({"choices": [{"text": "Yes"}]})
    with pytest.raises(ValueError, match="api_base is required"):
        RetrievalConfig.model_validate({"rerank": {"model": "bge"}})


@pytest.mark.e2e
def test_rerank_with_the_chains_llm(collection, embed, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The packaged Gemma (in-process) judges each fused candidate; the order follows its Yes/No log-odds.
    The same call through llama.cpp's HTTP server returns the same log-probabilities."""
    from llama_index.core.schema import MetadataMode

    from ragctl.components.llms import llama_cpp, openai_compatible
    from ragctl.config.model import LLMConfig, RerankConfig
    from ragctl.errors import ServiceError
    from ragctl.retrieval.rerank import JUDGE_PROMPT, LLMReranker
    from tests.servers import llama_server

    llm = llama_cpp(LLMConfig())
    question = "When was the Duchy of Normandy founded?"
    fused, _ = retrieved(collection, embed, question, top_k=4)
    hits, _ = retrieved(collection, embed, question, llm=llm, top_k=4, rerank={"type": "llm", "candidates": 4})
    assert {n.node.node_id for n in hits.nodes} == {n.node.node_id for n in fused.nodes}  # the same four, reordered
    judge = LLMReranker(RerankConfig(type="llm"), llm)
    for node in hits.nodes:
        text = node.node.get_content(MetadataMode.EMBED)  # what the reranker read: title and chunk
        assert node.score == pytest.approx(judge.score(question, text), abs=1e-3)
    assert text.startswith("title: ")
    assert [n.score for n in hits.nodes] == sorted((n.score for n in hits.nodes), reverse=True)
    with pytest.raises(ConfigError, match="needs the chain's LLM"):
        retrieved(collection, embed, question, top_k=4, rerank={"type": "llm"})

    server, api_base, key = llama_server()
    monkeypatch.setenv("RAGCTL_TEST_LLM_KEY", key)
    remote = openai_compatible(
        LLMConfig(type="openai-compatible", api_base=api_base, api_key_env="RAGCTL_TEST_LLM_KEY", model="gemma")
    )
    prompt = JUDGE_PROMPT.format(passage=text, question=question)
    here, there = llm.next_token_logprobs(prompt, 5), remote.next_token_logprobs(prompt, 5)
    assert list(here) == list(there) and len(here) == 5
    # Not bit-equal: the server batches the prompt differently (~0.1 apart on this 400-token prompt).
    assert list(here.values()) == pytest.approx(list(there.values()), abs=0.3)
    monkeypatch.setenv("RAGCTL_TEST_LLM_KEY", "wrong")
    with pytest.raises(ServiceError, match=r"LLM endpoint .*/completions answered 401"):
        remote.next_token_logprobs(prompt)
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
    pages = RetrievalConfig.model_validate({"part_filter": "boost", "unit": "page"})
    assert (
        retrieval_summary(pages)
        == "hybrid, title filter restrict, part filter boost, top 3 pages, no rerank, never abstains"
    )
    by_llm = RetrievalConfig.model_validate({"rerank": {"type": "llm", "candidates": 10}})
    assert retrieval_summary(by_llm) == (
        "hybrid, title filter restrict, rerank 10 candidates with the chain's LLM, never abstains"
    )
