"""The chain's prompt as a versioned MLflow prompt. `assemble` registers `prompt.template` (a new version
only when the text changed) or, when the template is `prompts:/NAME@ALIAS` (or `/VERSION`), resolves it to
one version. The chain stores that version's text and URI, so a later alias move cannot change a logged
chain; `ragctl run` sees a moved alias as a changed input.

ragctl templates use `{context}` and `{question}`; MLflow's prompt syntax is `{{context}}`: the text is
converted both ways, so the UI shows the two variables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ragctl.config.model import RagctlConfig
from ragctl.errors import ConfigError
from ragctl.session import Session

_MLFLOW_VAR = re.compile(r"\{\{\s*(context|question)\s*\}\}")


@dataclass
class ResolvedPrompt:
    text: str  # in ragctl's {context}/{question} form
    uri: str  # prompts:/NAME/VERSION


def to_mlflow(template: str) -> str:
    return template.replace("{context}", "{{context}}").replace("{question}", "{{question}}")


def from_mlflow(template: str) -> str:
    return _MLFLOW_VAR.sub(r"{\1}", template)


def prompt_name(config: RagctlConfig) -> str:
    """The registered prompt of an inline template: named after the registered model."""
    return re.sub(r"[^a-zA-Z0-9_.-]+", "-", config.registry.model_name) + "-prompt"


def _load(uri: str) -> ResolvedPrompt:
    import mlflow

    try:
        # No cache: an alias may have moved a moment ago; the model is linked by log_model, not here.
        found = mlflow.genai.load_prompt(uri, link_to_model=False, cache_ttl_seconds=0)
    except Exception as exc:
        raise ConfigError(f"prompt.template: cannot load {uri}: {exc}", "check the prompt's name and alias") from None
    text = from_mlflow(str(found.template))
    missing = [p for p in ("{context}", "{question}") if p not in text]
    if missing:
        raise ConfigError(f"prompt.template: {uri} lacks {' and '.join(missing)} (as {{{{context}}}}/{{{{question}}}})")
    return ResolvedPrompt(text, f"prompts:/{found.name}/{found.version}")


def pinned(session: Session) -> str | None:
    """The version a `prompts:/` template points at now (no registering); None for an inline template."""
    _ = session.experiment_id
    spec = session.config.prompt.template
    return _load(spec).uri if spec.startswith("prompts:/") else None


def resolve(session: Session) -> ResolvedPrompt:
    """The prompt the chain will carry, registering the inline template's text as a new version if needed."""
    import mlflow

    _ = session.experiment_id
    config = session.config
    spec = config.prompt.template
    if spec.startswith("prompts:/"):
        return _load(spec)
    name = prompt_name(config)
    try:
        latest = mlflow.genai.load_prompt(
            f"prompts:/{name}@latest", allow_missing=True, link_to_model=False, cache_ttl_seconds=0
        )
    except Exception:  # no such prompt yet
        latest = None
    if latest is not None and from_mlflow(str(latest.template)) == spec:
        return ResolvedPrompt(spec, f"prompts:/{name}/{latest.version}")
    created = mlflow.genai.register_prompt(
        name=name, template=to_mlflow(spec), commit_message="registered by ragctl assemble"
    )
    return ResolvedPrompt(spec, f"prompts:/{name}/{created.version}")
