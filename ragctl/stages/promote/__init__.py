"""promote: move a registry alias to a version under gates (promote/gates.py), or back to its previous holder
(rollback); every move is a promote run recording who, when, why, from, to and the evidence
(records/moves.py writes and reads them)."""

from __future__ import annotations

import getpass
from dataclasses import asdict, dataclass, field
from typing import Any

from ragctl.errors import GateFailed, UsageError
from ragctl.evaluation.statistics import Comparison
from ragctl.records import locks, models, moves
from ragctl.session import Session
from ragctl.stages.promote import gates


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
    action: str = "promote"  # promote | rollback | unchanged (the alias already held the version; no run)
    checks: list[gates.Check] = field(default_factory=list)
    # The per-question comparison with the alias's previous holder behind the regression gate.
    comparisons: list[Comparison] = field(default_factory=list)


# Naming a version or alias that is not there is the caller's mistake (exit 2); a refusal (exit 1) is a gate
# saying no to something that exists.
_SEE_MODELS = "`ragctl models` lists the versions and their aliases"


def _target(session: Session, name: str, version: str | None, from_alias: str | None) -> Any:
    if from_alias:
        found = models.holder(session, name, from_alias)
        if found is None:
            raise UsageError(f"--from {from_alias}: model '{name}' has no alias '{from_alias}'", _SEE_MODELS)
        return found
    if version is None:
        raise UsageError("say which version to promote: --version N (or latest) or --from ALIAS")
    known = models.versions(session, name)
    if version == "latest":
        if not known:
            raise UsageError(f"model '{name}' has no versions yet", "run `ragctl register` first")
        version = str(max(int(v.version) for v in known))
    found = models.version(session, models.ModelRef(f"models:/{name}/{version}", name=name, version=str(version)))
    if found is None:
        listing = ", ".join(sorted((str(v.version) for v in known), key=int)) or "none"
        raise UsageError(
            f"--version {version}: model '{name}' has no version {version} (versions: {listing})", _SEE_MODELS
        )
    return found


def _refusal(failed: list[gates.Check]) -> GateFailed:
    lines = "\n  ".join(
        f"{c.gate}: {c.detail}" + (f" (evidence: {', '.join(c.evidence)})" if c.evidence else "") for c in failed
    )
    flags = " ".join(sorted({c.override for c in failed}))
    return GateFailed(f"promotion refused:\n  {lines}", f"fix the cause, or pass {flags} with a --reason")


def _result(
    session: Session,
    run_id: str,
    alias: str,
    target: Any,
    previous: Any | None,
    reason: str,
    action: str,
    checks: list[gates.Check],
    comparisons: list[Comparison],
) -> PromoteResult:
    return PromoteResult(
        run_id,
        session.experiment_id,
        session.config.registry.model_name,
        alias,
        str(target.version),
        str(previous.version) if previous else None,
        getpass.getuser(),
        reason,
        action,
        checks,
        comparisons,
    )


def run(
    session: Session,
    alias: str,
    version: str | None = None,
    from_alias: str | None = None,
    reason: str = "",
    force: bool = False,
    allow: tuple[str, ...] = (),
    wait: float = 0.0,
) -> PromoteResult:
    """Check the gates (evaluation, collection, regression against the current holder), then move the alias,
    all under the model's lock: a second promote waits (or exits 5) and then compares with the new holder.
    `allow` names gates to override (see gates.OVERRIDES); `force` overrides them all."""
    models.check_alias(alias)
    name = session.config.registry.model_name
    with locks.moves_lock(session, name, wait):
        _reconcile(session, name)
        return _promote(session, name, alias, version, from_alias, reason, force, allow)


def _reconcile(session: Session, name: str) -> None:
    for run_id in moves.reconcile(session, name):
        session.reporter.note(f"settled the alias move of run {run_id}: its process ended mid-move")


def _promote(
    session: Session,
    name: str,
    alias: str,
    version: str | None,
    from_alias: str | None,
    reason: str,
    force: bool,
    allow: tuple[str, ...],
) -> PromoteResult:
    target = _target(session, name, version, from_alias)
    previous = models.holder(session, name, alias)
    if previous is not None and str(previous.version) == str(target.version):
        # Nothing moves, so nothing is recorded: a move from a version to itself would be the "earlier
        # holder" a rollback returns to.
        return _result(session, "", alias, target, previous, reason, "unchanged", [], [])
    with session.reporter.task(f"Checking the gates for {name} v{target.version} -> {alias}", total=None):
        checks = [gates.evaluation(target), gates.collection(session, target)]
        regression, comparisons = gates.regression(session, target, previous)
        checks.append(regression)
        reviewed = gates.review(session, target)
        if reviewed is not None:
            checks.append(reviewed)
    if not session.config.registry.require_passing_eval:
        checks[0].overridden = not checks[0].passed
    for check in checks:
        if not check.passed and (force or check.gate in allow):
            check.overridden = True
    failed = [c for c in checks if not c.passed and not c.overridden]
    if failed:
        raise _refusal(failed)
    by_flag = [c for c in checks if c.overridden and (force or c.gate in allow)]
    if by_flag and not reason.strip():  # a gate set aside leaves a record someone will read: it says why
        flags = " ".join(sorted({c.override for c in by_flag}))
        raise UsageError(
            f"{flags} sets aside the failed {', '.join(c.gate for c in by_flag)} gate: say why with --reason",
            "the reason is recorded with the move, for whoever reads `ragctl history`",
        )
    params = {"forced": force, "source_alias": from_alias or "-"}
    documents = {"comparisons": [asdict(c) for c in comparisons]}
    run_id = moves.record_move(session, alias, target, previous, "promote", reason, checks, params, documents)
    return _result(session, run_id, alias, target, previous, reason, "promote", checks, comparisons)


def rollback(session: Session, alias: str, reason: str = "", wait: float = 0.0) -> PromoteResult:
    """Return the alias to the version it pointed at before its latest move (no gates: that version held
    the alias before; the move is recorded like any other)."""
    models.check_alias(alias)
    name = session.config.registry.model_name
    with locks.moves_lock(session, name, wait):
        _reconcile(session, name)
        return _rollback(session, name, alias, reason)


def _rollback(session: Session, name: str, alias: str, reason: str) -> PromoteResult:
    current = models.holder(session, name, alias)
    if current is None:
        raise UsageError(f"--alias {alias}: model '{name}' has no alias '{alias}' to roll back", _SEE_MODELS)
    held = str(current.version)
    # The move that brought the alias to its holder from another version (stores may hold moves from a
    # version to itself, recorded before such a promote became a no-op).
    last = next((m for m in moves.moves(session, alias) if m.to_version == held and m.from_version != held), None)
    if last is None or last.from_version is None:
        raise GateFailed(
            f"rollback refused: no earlier holder of {name}@{alias} is recorded (it points at v{current.version})",
            "see `ragctl history --alias " + alias + "`; promote a version explicitly with --version",
        )
    target = models.version(session, models.parse(last.from_version, name))
    if target is None:
        raise GateFailed(f"rollback refused: version {last.from_version} of '{name}' no longer exists")
    params = {"forced": False, "source_alias": "-", "rolled_back_run": last.run_id}
    run_id = moves.record_move(session, alias, target, current, "rollback", reason, [], params, {})
    return _result(session, run_id, alias, target, current, reason, "rollback", [], [])
