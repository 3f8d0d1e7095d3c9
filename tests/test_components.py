from __future__ import annotations

from pathlib import Path

import pytest

from ragctl.chain import questions_of
from ragctl.components import create
from ragctl.components.llms import resolve_gguf
from ragctl.components.vector_stores import with_overrides
from ragctl.config.model import EmbeddingConfig, LLMConfig
from ragctl.errors import ConfigError


def test_unknown_component_type_suggests_the_closest() -> None:
    with pytest.raises(ConfigError) as err:
        create("llm", LLMConfig(type="llama_cpp"))
    assert "did you mean 'llama-cpp'?" in err.value.message


def test_gguf_must_be_packaged_or_existing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="neither a packaged model"):
        resolve_gguf(str(tmp_path / "missing.gguf"))


def test_openai_compatible_needs_api_base() -> None:
    with pytest.raises(ConfigError, match="api_base is required"):
        create("llm", LLMConfig(type="openai-compatible", model="m"))


def test_embedding_rejects_missing_model_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="model_path: file not found"):
        create("embedding", EmbeddingConfig(model_path=str(tmp_path / "none.onnx")))


def test_real_embedding_is_normalised_and_semantic() -> None:
    embed = create("embedding", EmbeddingConfig())
    query, near, far = embed.get_text_embedding_batch(
        ["Who founded Normandy?", "Rollo founded the duchy of Normandy.", "P vs NP"]
    )
    dot = lambda a, b: sum(x * y for x, y in zip(a, b))  # noqa: E731
    assert len(query) == 384 and abs(dot(query, query) - 1.0) < 1e-4
    assert dot(query, near) > dot(query, far) + 0.2


def test_the_compiled_embedding_model_is_cached_and_gives_the_same_vectors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OpenVINO writes the compiled model to ragctl's cache once and later loads read it (a blob it cannot
    read is compiled again); a cache folder that cannot be made compiles as without one. Same vectors."""
    from ragctl.components.embeddings import compiled_models

    texts = ["Who founded Normandy?", "Rollo founded the duchy of Normandy. " * 20]
    monkeypatch.setenv("RAGCTL_CACHE_DIR", str(tmp_path / "cache"))
    first = create("embedding", EmbeddingConfig()).embed_many(texts)
    (blob,) = compiled_models().iterdir()
    written = blob.stat().st_mtime_ns
    assert create("embedding", EmbeddingConfig()).embed_many(texts) == first
    assert blob.stat().st_mtime_ns == written, "read, not written again"
    blob.chmod(0o600)
    blob.write_bytes(b"not a compiled model")
    assert create("embedding", EmbeddingConfig()).embed_many(texts) == first
    assert blob.stat().st_size > 1_000_000, "compiled again and rewritten"
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("RAGCTL_CACHE_DIR", str(tmp_path / "a-file" / "cache"))
    assert create("embedding", EmbeddingConfig()).embed_many(texts) == first


def test_chain_accepts_the_usual_input_shapes() -> None:
    import pandas as pd

    assert questions_of(pd.DataFrame({"question": ["a", "b"]})) == ["a", "b"]
    assert questions_of({"question": ["a"]}) == ["a"]
    assert questions_of({"question": "a"}) == ["a"]
    assert questions_of([{"question": "a"}, "b"]) == ["a", "b"]
    assert questions_of("a") == ["a"]
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException, match="question 1 is empty") as refused:
        questions_of(["a", " ", "c"])
    assert refused.value.get_http_status_code() == 400, "the scoring server's answer to it"
    # a JSON null used to be asked as the text "None" (the packaged LLM answered "Yes")
    for nothing in ([{"question": None}], pd.DataFrame({"question": [None]}), [{"q": "x"}], [float("nan")]):
        with pytest.raises(MlflowException, match="question 0 is empty"):
            questions_of(nothing)
    with pytest.raises(MlflowException, match=r"question 1 is not text \(got int 42\)"):
        questions_of([{"question": "a"}, {"question": 42}])


def test_chroma_location_can_be_overridden_at_load_time(monkeypatch: pytest.MonkeyPatch) -> None:
    stored = {"mode": "persistent", "path": ".ragctl/chroma", "collection": "docs"}
    monkeypatch.setenv("RAGCTL_CHROMA_PATH", "/srv/index")
    assert with_overrides(stored).path == "/srv/index"
    monkeypatch.delenv("RAGCTL_CHROMA_PATH")
    monkeypatch.setenv("RAGCTL_CHROMA_HOST", "chroma.internal")
    monkeypatch.setenv("RAGCTL_CHROMA_PORT", "8123")
    over = with_overrides(stored)
    assert (over.mode, over.host, over.port, over.collection) == ("http", "chroma.internal", 8123, "docs")


def test_a_chain_pointed_at_no_store_says_where_it_looked_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loading a chain from another folder used to create an empty Chroma store there, then report its
    collection missing under the relative path."""
    from ragctl.components.vector_stores import open_collection
    from ragctl.config.model import VectorStoreConfig
    from ragctl.errors import DataError

    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError) as err:
        open_collection(VectorStoreConfig(path=".ragctl/chroma", collection="docs"))
    assert err.value.message == f"collection 'docs' not found: there is no Chroma store at {tmp_path}/.ragctl/chroma"
    assert not (tmp_path / ".ragctl").exists()
