"""Property-based tests (hypothesis) where input is open-ended: configs and --set paths, QA sets, file names,
and cleaning and chunking. Each property: a clear error of ragctl's own or a good result, never a crash."""

from __future__ import annotations

import json
import os
import string
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ragctl.config.load import load_config
from ragctl.config.model import IngestionConfig, RagctlConfig
from ragctl.errors import ConfigError, DatasetError

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
