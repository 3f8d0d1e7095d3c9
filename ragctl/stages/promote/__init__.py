"""promote: move a registry alias to a version under gates (promote/gates.py), or back to its previous holder
(rollback); every move is a promote run recording who, when, why, from, to and the evidence
(promote/history.py reads them back)."""

from __future__ import annotations

import getpass
from dataclasses import asdict, dataclass, field
from typing import Any

from ragctl.config.model import RagctlConfig
from ragctl.errors import GateFailed, UsageError
from ragctl.stages import StageContext
from ragctl.stages.promote import gates, history


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
    action: str = "promote"
    checks: list[gates.Check] = field(default_factory=list)


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


def _holder(client: Any, name: str, alias: str) -> Any | None:
    return _version_by_alias(client, name, alias)


def _refusal(failed: list[gates.Check]) -> GateFailed:
    lines = "\n  ".join(
        f"{c.gate}: {c.detail}" + (f" (evidence: {', '.join(c.evidence)})" if c.evidence else "") for c in failed
    )
    flags = " ".join(sorted({c.override for c in failed}))
    return GateFailed(f"promotion refused:\n  {lines}", f"fix the cause, or pass {flags} with a --reason")


def _move(
    config: RagctlConfig,
    client: Any,
    alias: str,
    target: Any,
    previous: Any | None,
    action: str,
    reason: str,
    checks: list[gates.Check],
    extra: dict[str, Any],
) -> PromoteResult:
    """Move the alias in one registry call, inside a promote run that records who, why, from, to and the
    evidence; tag the version too."""
    import mlflow

    from ragctl import tracking

    name = config.registry.model_name
    who = getpass.getuser()
    overrides = [c.override for c in checks if c.overridden]
    evidence = sorted({run for c in checks for run in c.evidence})
    tags = {
        "ragctl.model_name": name,
        "ragctl.alias": alias,
        "ragctl.action": action,
        "ragctl.from_version": str(previous.version) if previous else "none",
        "ragctl.to_version": str(target.version),
        "ragctl.who": who,
        "ragctl.reason": reason or "-",
        "ragctl.overrides": ",".join(overrides),
        "ragctl.evidence": ",".join(evidence),
    }
    with tracking.stage_run(config, "promote", tags) as active:
        client.set_registered_model_alias(name, alias, target.version)
        tracking.record_model_output(f"models:/{name}/{target.version}")
        mlflow.log_params(
            {
                "alias": alias,
                "to_version": target.version,
                "from_version": tags["ragctl.from_version"],
                "who": who,
                "reason": reason or "-",
                "action": action,
                **extra,
            }
        )
        mlflow.log_dict({"checks": [asdict(c) for c in checks]}, "promote/checks.json")
        stamp = f"{action} by {who} in run {active.info.run_id}: {reason or '-'}"
        client.set_model_version_tag(name, target.version, f"ragctl.promoted_to.{alias}", stamp)
        return PromoteResult(
            active.info.run_id,
            active.info.experiment_id,
            name,
            alias,
            str(target.version),
            str(previous.version) if previous else None,
            who,
            reason,
            action,
            checks,
        )


def run(
    config: RagctlConfig,
    ctx: StageContext,
    alias: str,
    version: str | None = None,
    from_alias: str | None = None,
    reason: str = "",
    force: bool = False,
    allow: tuple[str, ...] = (),
) -> PromoteResult:
    """Check the gates (evaluation, collection, regression against the current holder), then move the alias.
    `allow` names gates to override (see gates.OVERRIDES); `force` overrides them all."""
    from mlflow.tracking import MlflowClient

    from ragctl import tracking

    tracking.setup(config)
    client = MlflowClient()
    name = config.registry.model_name
    target = _target(client, name, version, from_alias)
    previous = _holder(client, name, alias)
    with ctx.reporter.task(f"Checking the gates for {name} v{target.version} -> {alias}", total=None):
        checks = [gates.evaluation(target), gates.collection(config, target)]
        regression, _comparisons = gates.regression(config, target, previous)
        checks.append(regression)
    if not config.registry.require_passing_eval:
        checks[0].overridden = not checks[0].passed
    for check in checks:
        if not check.passed and (force or check.gate in allow):
            check.overridden = True
    failed = [c for c in checks if not c.passed and not c.overridden]
    if failed:
        raise _refusal(failed)
    extra = {"forced": force, "source_alias": from_alias or "-"}
    return _move(config, client, alias, target, previous, "promote", reason, checks, extra)


def rollback(config: RagctlConfig, ctx: StageContext, alias: str, reason: str = "") -> PromoteResult:
    """Return the alias to the version it pointed at before its latest move (no gates: that version held
    the alias before; the move is recorded like any other)."""
    from mlflow.tracking import MlflowClient

    from ragctl import tracking

    tracking.setup(config)
    client = MlflowClient()
    name = config.registry.model_name
    current = _holder(client, name, alias)
    if current is None:
        raise GateFailed(f"rollback refused: '{name}' has no alias '{alias}'")
    last = next((m for m in history.moves(config, alias) if m.to_version == str(current.version)), None)
    if last is None or last.from_version is None:
        raise GateFailed(
            f"rollback refused: no earlier holder of {name}@{alias} is recorded (it points at v{current.version})",
            "see `ragctl history --alias " + alias + "`; promote a version explicitly with --version",
        )
    try:
        target = client.get_model_version(name, last.from_version)
    except Exception:
        raise GateFailed(f"rollback refused: version {last.from_version} of '{name}' no longer exists") from None
    extra = {"forced": False, "source_alias": "-", "rolled_back_run": last.run_id}
    return _move(config, client, alias, target, current, "rollback", reason, [], extra)
