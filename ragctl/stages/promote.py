"""promote: move a registry alias to a version, under gates, and record who/why/from/to."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from typing import Any

from ragctl.config.model import RagctlConfig
from ragctl.errors import GateFailed, UsageError
from ragctl.stages import StageContext
from ragctl.stages.evaluate import PASSED_TAG


@dataclass
class PromoteResult:
    run_id: str
    experiment_id: str
    model_name: str
    alias: str
    version: str
    previous: str | None
    who: str
    reason: str


def _version_by_alias(client: Any, name: str, alias: str) -> Any | None:
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def _target(client: Any, name: str, version: str | None, from_alias: str | None) -> Any:
    from mlflow.exceptions import MlflowException

    if from_alias:
        found = _version_by_alias(client, name, from_alias)
        if found is None:
            raise GateFailed(f"promotion refused: model '{name}' has no alias '{from_alias}'")
        return found
    if version is None:
        raise UsageError("say which version to promote: --version N (or latest) or --from ALIAS")
    if version == "latest":
        versions = client.search_model_versions(f"name = '{name}'")
        if not versions:
            raise GateFailed(f"promotion refused: model '{name}' has no versions", "run `ragctl register` first")
        version = str(max(int(v.version) for v in versions))
    try:
        return client.get_model_version(name, str(version))
    except MlflowException:
        known = [v.version for v in client.search_model_versions(f"name = '{name}'")]
        listing = ", ".join(sorted(map(str, known), key=int)) or "none"
        raise GateFailed(f"promotion refused: model '{name}' has no version {version} (versions: {listing})") from None


def run(
    config: RagctlConfig,
    ctx: StageContext,
    alias: str,
    version: str | None = None,
    from_alias: str | None = None,
    reason: str = "",
    force: bool = False,
) -> PromoteResult:
    import mlflow
    from mlflow.tracking import MlflowClient

    from ragctl import tracking

    tracking.setup(config)
    client = MlflowClient()
    name = config.registry.model_name
    target = _target(client, name, version, from_alias)
    verdict = target.tags.get(PASSED_TAG, "unevaluated")
    if config.registry.require_passing_eval and verdict != "true" and not force:
        raise GateFailed(
            f"promotion refused: version {target.version} of '{name}' has evaluation status '{verdict}'",
            "evaluate and register a passing chain, or pass --force with a --reason",
        )
    previous = _version_by_alias(client, name, alias)
    who = getpass.getuser()
    tags = {"ragctl.model_name": name, "ragctl.alias": alias}
    with tracking.stage_run(config, "promote", tags) as active:
        client.set_registered_model_alias(name, alias, target.version)
        tracking.record_model_output(f"models:/{name}/{target.version}")
        mlflow.log_params(
            {
                "alias": alias,
                "to_version": target.version,
                "from_version": previous.version if previous else "none",
                "who": who,
                "reason": reason or "-",
                "forced": force,
                "source_alias": from_alias or "-",
            }
        )
        client.set_model_version_tag(name, target.version, f"ragctl.promoted_to.{alias}", f"by {who}: {reason or '-'}")
        return PromoteResult(
            active.info.run_id,
            active.info.experiment_id,
            name,
            alias,
            str(target.version),
            str(previous.version) if previous else None,
            who,
            reason,
        )
