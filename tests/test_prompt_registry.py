"""The chain's prompt in MLflow's prompt registry (real MLflow on SQLite): registered once per distinct text,
`prompts:/NAME@ALIAS` pinned to one version, and a moved alias seen by `ragctl run` as a changed input."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragctl.config.load import load_config
from ragctl.config.model import DEFAULT_PROMPT
from ragctl.errors import ConfigError
from ragctl.records import prompts as prompt_registry
from ragctl.session import Session
from ragctl.stages import pipeline


@pytest.fixture
def config(project: Path):  # type: ignore[no-untyped-def]
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{project}/mlflow.db")
    return load_config(None, [f"tracking.uri=sqlite:///{project}/mlflow.db", "registry.model_name=team.chain"])


def test_syntax_converts_both_ways() -> None:
    assert prompt_registry.to_mlflow("C: {context} Q: {question}") == "C: {{context}} Q: {{question}}"
    assert prompt_registry.from_mlflow("C: {{ context }} Q: {{question}}") == "C: {context} Q: {question}"
    assert prompt_registry.from_mlflow(prompt_registry.to_mlflow(DEFAULT_PROMPT)) == DEFAULT_PROMPT


def test_an_inline_template_gets_a_new_version_only_when_its_text_changes(config) -> None:  # type: ignore[no-untyped-def]
    import mlflow

    first = prompt_registry.resolve(Session(config))
    assert first.uri == "prompts:/team.chain-prompt/1" and first.text == DEFAULT_PROMPT
    assert prompt_registry.resolve(Session(config)).uri == first.uri
    assert "{{context}}" in str(mlflow.genai.load_prompt(first.uri).template), "MLflow's syntax in the registry"
    changed = config.model_copy(deep=True)
    changed.prompt.template = "Context: {context}\nQuestion: {question}\nShort answer:"
    assert prompt_registry.resolve(Session(changed)).uri == "prompts:/team.chain-prompt/2"


def test_an_alias_is_pinned_and_its_move_changes_run_inputs(config) -> None:  # type: ignore[no-untyped-def]
    import mlflow

    one = mlflow.genai.register_prompt(name="shared", template="{{context}} -> {{question}}?")
    two = mlflow.genai.register_prompt(name="shared", template="Use {{context}}. {{question}} Answer:")
    mlflow.genai.set_prompt_alias("shared", "prod", one.version)
    aliased = load_config(None, [f"tracking.uri={config.tracking.uri}", "prompt.template=prompts:/shared@prod"])
    resolved = prompt_registry.resolve(Session(aliased))
    assert (resolved.uri, resolved.text) == ("prompts:/shared/1", "{context} -> {question}?")
    before = pipeline.assemble_inputs(Session(aliased))
    mlflow.genai.set_prompt_alias("shared", "prod", two.version)
    prompt_registry.resolve(Session(aliased))  # MLflow caches alias lookups for 60 s; ragctl asks past the cache
    assert prompt_registry.pinned(Session(aliased)) == "prompts:/shared/2"
    assert pipeline.assemble_inputs(Session(aliased)) != before


def test_a_registered_prompt_without_the_variables_is_refused(config) -> None:  # type: ignore[no-untyped-def]
    import mlflow

    mlflow.genai.register_prompt(name="bare", template="Answer: {{question}}")
    bare = load_config(None, [f"tracking.uri={config.tracking.uri}", "prompt.template=prompts:/bare/1"])
    with pytest.raises(ConfigError, match=r"lacks \{context\}"):
        prompt_registry.resolve(Session(bare))
