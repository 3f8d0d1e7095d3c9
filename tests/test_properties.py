"""Property-based tests (hypothesis) where input is open-ended: configs and --set paths, QA sets, file names,
and cleaning and chunking. Each property: a clear error of ragctl's own or a good result, never a crash."""

from __future__ import annotations

import json
import os
import string
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ragctl.config.load import load_config
from ragctl.config.model import IngestionConfig, RagctlConfig
from ragctl.errors import ConfigError, DataError, DatasetError

QUICK = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

KEYS = [
    "retrieval.top_k",
    "chunking.chunk_size",
    "evaluation.thresholds.hit_rate",
    "llm.temperature",
    "ingestion.paths",
    "vector_store.collection",
    "evaluation.judge",
    "registry.model_name",
    "project",
]
segment = st.text(alphabet=string.ascii_letters + "_-[]*.0123456789", min_size=0, max_size=12)
path = st.one_of(st.sampled_from(KEYS), st.lists(segment, min_size=1, max_size=4).map(".".join))
value = st.one_of(st.text(max_size=30), st.integers().map(str), st.sampled_from(["{}", "[]", "null", "{a: 1", "-1"]))


@QUICK
@given(st.lists(st.tuples(path, value), max_size=4))
def test_set_overrides_give_a_config_or_a_config_error(overrides: list[tuple[str, str]]) -> None:
    try:
        config = load_config(None, [f"{k}={v}" for k, v in overrides])
    except ConfigError as exc:
        assert exc.message.strip()
    else:
        assert isinstance(config, RagctlConfig)


yaml_text = st.text(alphabet=string.printable, max_size=200)


@QUICK
@given(yaml_text)
def test_any_yaml_file_gives_a_config_or_an_error_naming_the_file(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "ragctl.yaml"
        config.write_text(text)
        try:
            load_config(config)
        except ConfigError as exc:
            assert "ragctl.yaml" in exc.message


json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
record = st.fixed_dictionaries(
    {},
    optional={
        "question": st.one_of(st.text(max_size=30), json_value),
        "answer": st.one_of(st.text(max_size=20), json_value),
        "answers": json_value,
        "sources": st.one_of(
            st.lists(st.fixed_dictionaries({"file": st.text(max_size=10)}, optional={"page": json_value}), max_size=2),
            json_value,
        ),
        "answerable": json_value,
        "tags": json_value,
        "id": json_value,
    },
)
line = st.one_of(record.map(json.dumps), st.text(max_size=40))


@QUICK
@given(st.lists(line, min_size=1, max_size=6), st.sampled_from(["jsonl", "csv"]))
def test_any_qa_set_gives_items_or_an_error_naming_file_and_line(lines: list[str], kind: str) -> None:
    from ragctl.evaluation import datasets

    with tempfile.TemporaryDirectory() as folder:
        qa = Path(folder) / f"qa.{kind}"
        if kind == "jsonl":
            qa.write_text("\n".join(lines) + "\n", encoding="utf-8")
        else:
            qa.write_text("question,answer,sources\n" + "\n".join(lines) + "\n", encoding="utf-8")
        try:
            loaded = datasets.load(str(qa))
        except DatasetError as exc:
            assert f"qa.{kind}" in exc.message
        else:
            assert loaded.items and all(i.question.strip() for i in loaded.items)
            assert len({i.id for i in loaded.items}) == len(loaded.items)


name_text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="/\x00"), min_size=1, max_size=40
)
name_bytes = st.binary(min_size=1, max_size=40).filter(lambda b: b"/" not in b and b"\x00" not in b)


@QUICK
@given(st.lists(st.one_of(name_text.map(os.fsencode), name_bytes), min_size=1, max_size=5, unique=True))
def test_any_file_name_is_found_once_under_a_name_that_can_be_stored(names: list[bytes]) -> None:
    from ragctl.documents import discover

    names = [n for n in names if n not in (b".", b"..") and len(n + b".txt") <= 255]
    if not names:
        return
    with tempfile.TemporaryDirectory() as folder:
        for raw in names:
            with open(os.fsencode(folder) + b"/" + raw + b".txt", "w") as handle:
                handle.write("text")
        found = discover(IngestionConfig(paths=[folder]))
    assert len(found) == len(names) == len({f.name for f in found})
    for f in found:
        assert f.name.encode("utf-8") and "\udcff" not in f.name  # valid UTF-8: Chroma and MLflow store it
        assert not f.refused


words = st.lists(
    st.one_of(
        st.text(alphabet=string.ascii_letters, min_size=1, max_size=12),
        st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=30, max_size=400),
        st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), min_size=1, max_size=6),
        st.sampled_from([".", ",", "\n", "\n\n", "  ", "# Heading\n", "- item\n"]),
    ),
    min_size=1,
    max_size=150,
)


@settings(max_examples=60, deadline=None)
@given(words, st.sampled_from([32, 64, 200]), st.booleans())
def test_every_chunk_is_within_chunk_size_and_no_word_is_lost(parts: list[str], size: int, sections: bool) -> None:
    from ragctl.components.embeddings import token_counter
    from ragctl.documents.clean import clean
    from ragctl.stages.ingest.work import Keys, job, prepare

    text = " ".join(parts)
    config = RagctlConfig.model_validate(
        {"chunking": {"chunk_size": size, "chunk_overlap": 8, "context": False, "sections": sections}}
    )
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "doc.md"
        source.write_text(text, encoding="utf-8")
        digest = "0" * 64
        prepared = prepare(job(source, "doc.md", digest, Keys.of(config).ingest_key(digest), config))
    if prepared.outcome == "empty":
        assert len("".join(clean(text).split())) < config.ingestion.min_chars
        return
    assert prepared.outcome == "ok", prepared.reason
    count = token_counter(config.embedding)
    assert all(len(count(c.text)) <= size for c in prepared.chunks)
    # Nothing lost but whitespace: the chunks, in order and overlapping, cover the cleaned text exactly.
    # (Each chunk is placed as far right as it can start without leaving a gap: repetitive text matches in
    # many places.)
    flat, start, covered = "".join(clean(text).split()), -1, 0
    for chunk in prepared.chunks:
        piece = "".join(chunk.text.split())
        found = flat.rfind(piece, start + 1, covered + len(piece))
        assert found != -1, (piece, covered)
        start, covered = found, max(covered, found + len(piece))
    assert covered == len(flat)


# --- the manifest: any sequence of edits and crashed ingests ends as one clean ingest --------------------------

SENTENCES = [
    "The Normans settled in the north of France.",
    "Rollo was granted land by the Frankish king in 911.",
    "Castles of stone replaced wooden towers over the next century.",
    "Trade along the river brought silver and wine to the towns.",
    "The abbey kept records of every harvest and every tithe.",
    "Knights owed forty days of service each year.",
]
edit = st.one_of(
    st.tuples(st.just("write"), st.integers(0, 4), st.lists(st.integers(0, 5), min_size=1, max_size=8)),
    st.tuples(st.just("delete"), st.integers(0, 4), st.just([])),
)
# Some edits, then an ingest that crashes at its Nth write to Chroma, chunks or manifest (0: it does not).
step = st.tuples(st.lists(edit, min_size=1, max_size=3), st.integers(0, 10))


class Crash(BaseException):
    """A process that stops here: no `except Exception` in ragctl can tidy up after it."""


class FakeEmbedding:
    """Vectors from the text's hash: the property is about what is written, not what it means."""

    def embed_many(self, texts: list[str]) -> list[list[float]]:
        import hashlib

        return [[b / 255 for b in hashlib.sha256(text.encode()).digest()[:8]] for text in texts]


def _contents(collection) -> dict[str, tuple[str, str]]:  # type: ignore[no-untyped-def]
    got = collection.get(include=["documents", "metadatas"])
    return {i: (d, json.dumps(m, sort_keys=True)) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])}


class InProcessReaders:
    """pipeline.Readers without worker processes: each file read when asked for, in this process."""

    def __init__(self, jobs: list, workers: int | None, timeout: float) -> None:  # type: ignore[type-arg]
        self.jobs = jobs

    def results(self, stopped=lambda: False):  # type: ignore[no-untyped-def]
        from ragctl.stages.ingest.work import prepare

        return (prepare(j) for j in self.jobs if not stopped())

    def busy(self) -> int:
        return 0

    def close(self) -> None:
        pass


@pytest.mark.slow
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(step, min_size=1, max_size=4))
def test_any_edits_and_crashes_then_an_ingest_equal_one_clean_ingest(monkeypatch, steps) -> None:  # type: ignore[no-untyped-def]
    """Random adds, changes, deletes and ingests that crash at any write (chunks or manifest); the ingest
    after them gives the collection and manifest one clean ingest of the final files gives."""
    import uuid

    from chromadb.api.models.Collection import Collection

    import ragctl.components.embeddings as embeddings
    import ragctl.stages.ingest.pipeline as pipeline
    from ragctl.records.manifest import Manifest
    from ragctl.session import Session
    from ragctl.stages import ingest

    monkeypatch.setattr(embeddings, "onnx_minilm", lambda config: FakeEmbedding())
    monkeypatch.setattr(pipeline, "Readers", InProcessReaders)
    countdown = [0]
    for method in ("add", "upsert", "update", "delete"):
        original = getattr(Collection, method)

        def crashing(self, *args, __original=original, **kwargs):  # type: ignore[no-untyped-def]
            countdown[0] -= 1
            if countdown[0] == 0:
                raise Crash
            return __original(self, *args, **kwargs)

        monkeypatch.setattr(Collection, method, crashing)

    state, docs = STORE / "state", STORE / uuid.uuid4().hex
    docs.mkdir()

    def session(collection: str) -> Session:
        config = {
            "ingestion": {"paths": [str(docs)], "min_chars": 1},
            "chunking": {"chunk_size": 24, "chunk_overlap": 4},
            "vector_store": {"path": str(state / "chroma"), "collection": collection},
            "tracking": {"uri": f"sqlite:///{state}/mlflow.db", "artifact_location": str(state / "artifacts")},
        }
        return Session(RagctlConfig.model_validate(config))

    name = "c" + uuid.uuid4().hex[:12]
    for edits, crash_at in steps:
        for kind, file, sentences in edits:
            path = docs / f"doc {file}.txt"
            if kind == "write":
                path.write_text(" ".join(SENTENCES[i] for i in sentences))
            else:
                path.unlink(missing_ok=True)
        countdown[0] = crash_at
        try:
            ingest.run(session(name))
        except Crash:
            event("an ingest crashed")
        except DataError:  # no files left to ingest: the collection is untouched
            pass
        countdown[0] = 0
    (docs / "last.txt").write_text(SENTENCES[0])  # an ingest needs a file to find
    final = ingest.run(session(name))
    clean = ingest.run(session(name + "-clean"))
    assert final.chunks_total == clean.chunks_total
    dirty, fresh = session(name), session(name + "-clean")
    assert _contents(dirty.chroma.get_collection(name)) == _contents(fresh.chroma.get_collection(name + "-clean"))
    entries = [
        {f: (e.sha256, e.state, e.chunk_ids) for f, e in Manifest.load(s.chroma, c, create=False).entries.items()}
        for s, c in ((dirty, name), (fresh, name + "-clean"))
    ]
    assert entries[0] == entries[1]
    assert all(state == "ok" for _, state, _ in entries[0].values())


STORE = Path(tempfile.mkdtemp(prefix="ragctl-manifest-property-"))
