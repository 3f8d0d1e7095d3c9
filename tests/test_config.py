from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragctl.cli.app import app
from ragctl.config.load import load_config
from ragctl.config.model import RagctlConfig
from ragctl.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return path


def test_builtin_defaults_and_shipped_config_are_valid() -> None:
    assert load_config(None) == RagctlConfig()
    shipped = load_config(ROOT / "configs" / "default.yaml")
    assert shipped.vector_store.collection == "sample-docs"
    assert shipped.evaluation.thresholds["hit_rate"] == ">= 0.8"


def test_a_bare_yaml_off_is_the_word_off(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "retrieval: {title_filter: off}\n")).retrieval.title_filter == "off"
    assert load_config(None, ["retrieval.title_filter=off"]).retrieval.title_filter == "off"


@pytest.mark.parametrize("layer", sorted((ROOT / "configs").glob("retrieval-*.yaml")), ids=lambda p: p.name)
def test_shipped_strategy_layers_apply_over_the_default(layer: Path) -> None:
    layered = load_config([ROOT / "configs" / "default.yaml", layer])
    assert layered.retrieval != load_config(ROOT / "configs" / "default.yaml").retrieval
    assert layered.vector_store.collection == "sample-docs"  # a layer changes only its own keys


def test_env_interpolation_with_and_without_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_TEST_EXP", "from-env")
    monkeypatch.delenv("RAG_TEST_UNSET", raising=False)
    cfg = load_config(write(tmp_path, "project:\n  experiment: ${RAG_TEST_EXP}\n  name: x-${RAG_TEST_UNSET:-dflt}\n"))
    assert cfg.project.experiment == "from-env"
    assert cfg.project.name == "x-dflt"


def test_missing_env_var_names_file_line_and_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAG_TEST_UNSET", raising=False)
    path = write(tmp_path, "project:\n  name: demo\nllm:\n  api_base: ${RAG_TEST_UNSET}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert f"{path}:4" in err.value.message
    assert "llm.api_base" in err.value.message and "RAG_TEST_UNSET" in err.value.message


def test_set_overrides_are_typed_and_nested() -> None:
    cfg = load_config(None, ["retrieval.top_k=7", "llm.stop=['###', 'Q:']", "llm.temperature=0.5"])
    assert cfg.retrieval.top_k == 7
    assert cfg.llm.stop == ["###", "Q:"]
    assert cfg.llm.temperature == 0.5


def test_unknown_key_suggests_nearest_and_names_line(tmp_path: Path) -> None:
    path = write(tmp_path, "project:\n  name: demo\nchunking:\n  chunk_size: 100\n  chunk_overlapp: 10\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert f"{path}:5: chunking.chunk_overlapp: unknown key 'chunk_overlapp'; did you mean 'chunk_overlap'?" in (
        err.value.message
    )


def test_unknown_section_suggests_nearest(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, "retreival:\n  top_k: 3\n"))
    assert "did you mean 'retrieval'?" in err.value.message


def test_wrong_type_names_line_and_value(tmp_path: Path) -> None:
    path = write(tmp_path, "retrieval:\n  top_k: many\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert f"{path}:2: retrieval.top_k" in err.value.message and "'many'" in err.value.message


def test_override_errors_point_at_set() -> None:
    with pytest.raises(ConfigError) as err:
        load_config(None, ["retrieval.topk=3"])
    assert "--set: retrieval.topk: unknown key 'topk'; did you mean 'top_k'?" in err.value.message
    with pytest.raises(ConfigError) as err:  # a template that YAML reads as a mapping: the hint says quote it
        load_config(None, ["prompt.template={context}"])
    assert err.value.hint and "quote text that starts with {" in err.value.hint
    quoted = load_config(None, ['prompt.template="{context} Q: {question}"'])
    assert quoted.prompt.template == "{context} Q: {question}"


def test_broken_yaml_names_line(tmp_path: Path) -> None:
    path = write(tmp_path, "project:\n  name: [unclosed\nllm:\n  model: x\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in err.value.message and "invalid YAML" in err.value.message


def test_a_config_that_is_not_utf8_or_not_a_file_is_named_plainly(tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes(b"project:\n  name: caf\xe9\n")
    with pytest.raises(ConfigError, match=r"latin1\.yaml:2: not UTF-8 text$"):
        load_config(latin1)
    with pytest.raises(ConfigError, match=r"cannot read config file .*: Is a directory$"):
        load_config(tmp_path)


def test_a_key_said_twice_is_refused_with_both_lines(tmp_path: Path) -> None:
    """PyYAML keeps the last of two equal keys: a second `retrieval:` section silently dropped the first's
    settings. Both places are named instead; the same key in different sections is fine."""
    path = write(tmp_path, "retrieval:\n  top_k: 3\nllm:\n  model: x\nretrieval:\n  mode: dense\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.message == f"{path}:5: retrieval is set twice (first at line 1)"
    path = write(tmp_path, "evaluation:\n  gates:\n    - {metric: hit_rate, min: 0.5, metric: mrr}\n")
    with pytest.raises(ConfigError, match=r"evaluation\.gates\.0\.metric is set twice"):
        load_config(path)
    path = write(tmp_path, "embedding: {type: onnx-minilm}\nllm: {type: llama-cpp}\nretrieval: {top_k: 3}\n")
    assert load_config(path).retrieval.top_k == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("evaluation:\n  thresholds:\n    hit_rat: 0.5\n", "unknown metric 'hit_rat'"),
        ("chunking:\n  chunk_size: 100\n  chunk_overlap: 100\n", "chunk_overlap must be smaller"),
        ("prompt:\n  template: 'no placeholders'\n", "must contain {context} and {question}"),
        ("- a\n- b\n", "top level must be a mapping"),
        ("vector_store:\n  collection: x\n", "vector_store.collection: String should match pattern"),
        ("ingestion:\n  fallback_encodings: [cp1252, latin-9x]\n", "'latin-9x' is not an encoding Python knows"),
        # MLflow reads a path as its folder store, refused since 3.x with a traceback (an empty uri too)
        ("tracking:\n  uri: mlruns\n", "c.yaml:2: tracking.uri: 'mlruns' is not a database or a tracking server"),
        ("tracking:\n  uri: ''\n", "tracking.uri: '' is not a database"),
        ("tracking: {uri: 'file:///tmp/mlruns'}\n", "'file:///tmp/mlruns' is not a database"),
        ("tracking: {uri: 'mlruns://u:pw@x'}\n", "'mlruns://u:***@x' is not a database"),
    ],
)
def test_semantic_errors(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    assert expected in err.value.message


def test_a_lone_path_or_format_is_a_list_of_one(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "ingestion: {paths: docs, formats: pdf, exclude: '*.txt'}\n"))
    assert (config.ingestion.paths, config.ingestion.formats, config.ingestion.exclude) == (
        ["docs"],
        ["pdf"],
        ["*.txt"],
    )
    for uri in ("sqlite:///x.db", "postgresql+psycopg://u@h/d", "http://h:5000", "databricks", "databricks://p"):
        assert load_config(None, [f"tracking.uri={uri}"]).tracking.uri == uri


def test_cli_reports_config_errors_with_exit_code_2(tmp_path: Path) -> None:
    path = write(tmp_path, "chunking:\n  chunk_sise: 100\n")
    result = CliRunner().invoke(app, ["config", "--config", str(path)])
    assert result.exit_code == 2
    assert "did you mean 'chunk_size'?" in result.output
    assert "Traceback" not in result.output


def test_cli_config_prints_resolved_values() -> None:
    result = CliRunner().invoke(app, ["config", "--json", "--set", "retrieval.top_k=9"])
    assert result.exit_code == 0, result.output
    assert '"top_k": 9' in result.output


def test_missing_config_file_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["config", "--config", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "config file not found" in result.output


@pytest.mark.parametrize(
    ("override", "said"),
    [
        # the key pasted where its variable's name belongs would be logged as a run parameter
        ("llm.api_key_env=sk-proj-abc123", "llm.api_key_env: names the environment variable"),
        ("embedding.api_key_env=my key", "embedding.api_key_env: names the environment variable"),
        ("evaluation.judge={api_base: 'http://h/v1', model: m, api_key_env: 'sk-1'}", "names the environment"),
        # an endpoint's address travels with the logged chain
        ("llm.api_base=https://bob:hunter2@llm.example/v1", "llm.api_base: holds a password"),
        ("retrieval.rerank={api_base: 'http://u:p@h/v1'}", "retrieval.rerank.api_base: holds a"),
    ],
)
def test_a_secret_where_a_name_or_address_belongs_is_refused(override: str, said: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_config(None, [override])
    assert said in refused.value.message
    assert not any(secret in refused.value.message for secret in ("hunter2", "sk-proj-abc123", "sk-1")), "not echoed"


def test_the_recorded_config_masks_a_uri_password_and_keeps_names() -> None:
    config = load_config(
        None,
        [
            "tracking.uri=postgresql://mlflow:s3cret@db.internal:5432/mlflow",
            "llm.api_key_env=OPENAI_API_KEY",
            "llm.api_base=https://bob@llm.example/v1",
        ],
    )
    assert config.tracking.uri.endswith(":s3cret@db.internal:5432/mlflow"), "MLflow connects with the real one"
    recorded = config.recorded()
    assert recorded["tracking"]["uri"] == "postgresql://mlflow:***@db.internal:5432/mlflow"
    assert (recorded["llm"]["api_key_env"], recorded["llm"]["api_base"]) == (
        "OPENAI_API_KEY",
        "https://bob@llm.example/v1",
    )
    shown = CliRunner().invoke(app, ["config", "--set", "tracking.uri=mysql://root:pw123@db/m"])
    assert shown.exit_code == 0 and "mysql://root:***@db/m" in shown.output and "pw123" not in shown.output
