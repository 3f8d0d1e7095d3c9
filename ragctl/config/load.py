"""YAML files (layered, later wins) -> ${ENV} interpolation -> --set overrides -> validation, with errors that
name file, line and key."""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from ragctl.config.model import RagctlConfig
from ragctl.errors import ConfigError

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
Loc = tuple[str | int, ...]


def load_config(
    paths: str | Path | list[str | Path] | list[Path] | None = None, overrides: list[str] | None = None
) -> RagctlConfig:
    """Load, layer (later files win, section by section), override and validate; no path means the
    built-in defaults. Errors name the file and line that set the offending value."""
    sources = [] if paths is None else [paths] if isinstance(paths, (str, Path)) else list(paths)
    layers: list[tuple[Path, yaml.Node | None]] = []
    data: dict[str, Any] = {}
    for source in sources:
        path = Path(source)
        root = _compose(_read(path), path)
        # Values come from the same node tree the error messages take their line numbers from.
        layer = _construct(root, path) if root is not None else {}
        if not isinstance(layer, dict):
            raise ConfigError(f"{_where(path, root, ())}: the top level must be a mapping of sections")
        _merge(data, _interpolate(layer, (), path, root))
        layers.append((path, root))
    override_locs: set[Loc] = set()
    for item in overrides or []:
        override_locs.add(_apply_override(data, item))
    try:
        return RagctlConfig.model_validate(data)
    except ValidationError as exc:
        raise _config_error(exc, layers, override_locs) from None


def _merge(base: dict[str, Any], layer: dict[str, Any]) -> None:
    """Mappings merge key by key; any other value (a list included) replaces what was there."""
    for key, value in layer.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


def _located(layers: list[tuple[Path, yaml.Node | None]], loc: Loc) -> str:
    """The file:line that set `loc`: the last layer that holds it, else the nearest section of the last one."""
    for path, root in reversed(layers):
        if _node_at(root, loc, exact=True) is not None:
            return _where(path, root, loc)
    return _where(*layers[-1], loc) if layers else "<defaults>"


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"config file not found: {path}", "pass --config PATH, or run `ragctl init` to write ragctl.yaml"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: not UTF-8 text", "save the config as UTF-8") from None


def _compose(text: str, path: Path | None) -> yaml.Node | None:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}{line}: invalid YAML: {problem}", "check indentation and quoting") from None
    _refuse_duplicates(root, path, ())
    return root


def _refuse_duplicates(node: yaml.Node | None, path: Path | None, loc: Loc) -> None:
    """YAML lets a later key silently replace an earlier one in the same mapping (two `retrieval:`
    sections, the first one's settings gone); a config that says a thing twice is refused instead."""
    if isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _refuse_duplicates(item, path, (*loc, index))
    if not isinstance(node, yaml.MappingNode):
        return
    first: dict[str, int] = {}
    for key, value in node.value:
        name = str(key.value)
        if name in first and name != "<<":
            dotted = ".".join(str(p) for p in (*loc, name))
            raise ConfigError(
                f"{path}:{key.start_mark.line + 1}: {dotted} is set twice (first at line {first[name]})",
                "keep one: YAML would silently drop the first",
            )
        first[name] = key.start_mark.line + 1
        _refuse_duplicates(value, path, (*loc, name))


def _construct(root: yaml.Node, path: Path) -> Any:
    try:
        return yaml.SafeLoader("").construct_document(root)
    except yaml.YAMLError as exc:  # e.g. a tag no safe loader knows (`!python/object`, `!0`)
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}{line}: invalid YAML: {problem}", "plain YAML only: no tags") from None


def _node_at(root: yaml.Node | None, loc: Loc, exact: bool = False) -> yaml.Node | None:
    """The deepest YAML node along `loc`: the value at `loc`, or (unless `exact`) the nearest mapping that
    exists."""
    node = root
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = [(k, v) for k, v in node.value if k.value == part]
            if not match:
                return None if exact else node
            _, value = match[0]
            node = value
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            return None if exact else node
    return node


def _where(path: Path | None, root: yaml.Node | None, loc: Loc) -> str:
    node = _node_at(root, loc)
    name = str(path) if path else "<defaults>"
    return f"{name}:{node.start_mark.line + 1}" if node is not None else name


def _interpolate(value: Any, loc: Loc, path: Path | None, root: yaml.Node | None) -> Any:
    if isinstance(value, dict):
        return {k: _interpolate(v, (*loc, k), path, root) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, (*loc, i), path, root) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise ConfigError(
            f"{_where(path, root, loc)}: {_dotted(loc)}: environment variable {name} is not set",
            f"export {name}=... or write ${{{name}:-default}}",
        )

    return _VAR.sub(replace, value)


def _apply_override(data: dict, item: str) -> Loc:
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. --set retrieval.top_k=5")
    parts = key.strip().split(".")
    target = data
    for part in parts[:-1]:
        nxt = target.setdefault(part, {})
        if not isinstance(nxt, dict):
            raise ConfigError(f"--set {key}: {part} is not a section")
        target = nxt
    try:
        value = yaml.safe_load(raw) if raw.strip() else raw
    except yaml.YAMLError:
        value = raw
    target[parts[-1]] = value
    return tuple(parts)


def _dotted(loc: Loc) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def _fields_at(loc: Loc) -> list[str]:
    """The valid field names of the section that `loc` points into."""
    model: type[BaseModel] = RagctlConfig
    for part in loc:
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def _config_error(
    exc: ValidationError, layers: list[tuple[Path, yaml.Node | None]], override_locs: set[Loc]
) -> ConfigError:
    lines, hints = [], []
    for err in exc.errors():
        loc: Loc = tuple(p for p in err["loc"] if p not in ("function-after",))
        from_override = any(loc[: len(o)] == o or o[: len(loc)] == loc for o in override_locs)
        where = "--set" if from_override else _located(layers, loc)
        if err["type"] == "extra_forbidden":
            valid = _fields_at(loc[:-1])
            close = difflib.get_close_matches(str(loc[-1]), valid, n=1)
            message = f"unknown key '{loc[-1]}'" + (f"; did you mean '{close[0]}'?" if close else "")
            hints.append(f"valid keys in {_dotted(loc[:-1])}: {', '.join(valid)}")
        else:
            message = err["msg"].removeprefix("Value error, ")
            if err["type"] not in ("value_error",) and "input" in err and not isinstance(err["input"], dict):
                message += f" (got {err['input']!r})"
            if from_override and err["type"] == "string_type" and isinstance(err.get("input"), (dict, list)):
                # `--set 'prompt.template={context}'` is a YAML mapping before it is a template
                example = f"--set '{_dotted(loc)}=\"{{context}} …\"'"
                hints.append(f"--set values are YAML: quote text that starts with {{ or [, e.g. {example}")
        lines.append(f"{where}: {_dotted(loc)}: {message}")
    return ConfigError("invalid configuration\n  " + "\n  ".join(lines), hints[0] if hints else None)
