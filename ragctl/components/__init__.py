"""A small registry: config `type:` name -> factory. Heavy imports happen inside the factories.

Third parties add entries through the `ragctl.components` entry-point group, named `KIND.TYPE`
(e.g. `llm.my-llm = my_pkg.llms:create`); a factory takes the section's config model.
"""

from __future__ import annotations

import difflib
from importlib import import_module
from typing import Any

from ragctl.errors import ConfigError

BUILTIN: dict[str, dict[str, str]] = {
    "embedding": {
        "onnx-minilm": "ragctl.components.embeddings:onnx_minilm",
        "openai-compatible": "ragctl.components.remote_embeddings:openai_compatible",
    },
    "llm": {
        "llama-cpp": "ragctl.components.llms:llama_cpp",
        "openai-compatible": "ragctl.components.llms:openai_compatible",
    },
}


def available(kind: str) -> dict[str, str]:
    """Built-in plus entry-point components of one kind."""
    from importlib.metadata import entry_points

    found = dict(BUILTIN.get(kind, {}))
    for ep in entry_points(group="ragctl.components"):
        ep_kind, _, name = ep.name.partition(".")
        if ep_kind == kind:
            found[name] = ep.value
    return found


def create(kind: str, config: Any) -> Any:
    """Build the component named by `config.type`; an unknown name suggests the closest known one."""
    known = available(kind)
    target = known.get(config.type)
    if target is None:
        close = difflib.get_close_matches(config.type, list(known), n=1)
        suggestion = f"; did you mean '{close[0]}'?" if close else ""
        raise ConfigError(
            f"{kind}.type: unknown {kind} type '{config.type}'{suggestion}", f"known types: {', '.join(sorted(known))}"
        )
    module, _, attr = target.partition(":")
    return getattr(import_module(module), attr)(config)
