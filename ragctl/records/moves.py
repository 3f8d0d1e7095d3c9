"""Alias moves and registry versions. Every move of an alias is one promote run whose tags say who, when,
why, from, to, the overrides and the evidence; the version moved to is tagged too. `history`, `--rollback`
and lineage read the moves back from those runs.

A move is a transaction under the model's lock (records/locks.py): its run is started (pending, RUNNING)
before the alias changes and finished after. A process killed between the two leaves a RUNNING run; the
next command that takes the lock reconciles it: FINISHED if the alias did move, KILLED if it did not."""

from __future__ import annotations

import getpass
from dataclasses import asdict, dataclass
from typing import Any

from ragctl.records import filters, locks, models, runs
from ragctl.records import tags as t
from ragctl.session import Session


@dataclass
class Move:
    when: str
    alias: str
    action: str  # promote | rollback
    from_version: str | None
    to_version: str
    who: str
    reason: str
    overrides: list[str]
    evidence: list[str]
    run_id: str


@dataclass
class VersionRow:
    version: str
    aliases: list[str]
    eval_passed: str
    metrics: dict[str, float]
    collection: str
    collection_digest: str
    created: str
    model_uri: str


def _move(run: Any) -> Move:
    tags = run.data.tags
    previous = tags.get(t.FROM_VERSION, t.NONE)
    return Move(
        when=runs.when(run.info.start_time),
        alias=tags.get(t.ALIAS, "?"),
        action=tags.get(t.ACTION, "promote"),
        from_version=None if previous == t.NONE else previous,
        to_version=tags.get(t.TO_VERSION, run.data.params.get("to_version", "?")),
        who=tags.get(t.WHO, run.data.params.get("who", "?")),
        reason=tags.get(t.REASON, run.data.params.get("reason", "")),
        overrides=[o for o in tags.get(t.OVERRIDES, "").split(",") if o],
        evidence=[e for e in tags.get(t.EVIDENCE, "").split(",") if e],
        run_id=run.info.run_id,
    )


RECONCILED = "ragctl.reconciled"


def reconcile(session: Session, name: str) -> list[str]:
    """Settle the moves of `name` that a dead process left pending (the caller holds the model's lock, so
    no live process is in the middle of one). Returns their run ids."""
    settled = []
    pending = session.mlflow.search_runs(
        [session.experiment_id], filters.runs("promote", "RUNNING", {t.MODEL_NAME: name}), max_results=100
    )
    for run in pending:
        tags = run.data.tags
        held = models.holder(session, name, tags.get(t.ALIAS, ""))
        moved = held is not None and str(held.version) == tags.get(t.TO_VERSION)
        who = f"process {tags.get(t.PID, '?')} on {tags.get(t.HOST, '?')}"
        if moved and held is not None:
            session.mlflow.set_tag(run.info.run_id, RECONCILED, f"the alias moved; {who} ended before recording it")
            stamp = f"{tags.get(t.ACTION, 'promote')} by {tags.get(t.WHO, '?')} in run {run.info.run_id}"
            session.mlflow.set_model_version_tag(name, held.version, f"{t.PROMOTED_TO_PREFIX}{tags[t.ALIAS]}", stamp)
        else:
            session.mlflow.set_tag(run.info.run_id, t.ERROR, f"killed: {who} ended before moving the alias")
        session.mlflow.set_terminated(run.info.run_id, "FINISHED" if moved else "KILLED")
        settled.append(run.info.run_id)
    return settled


def moves(session: Session, alias: str, limit: int = 100) -> list[Move]:
    """The moves of one alias of the configured model, newest first."""
    name = session.config.registry.model_name
    return [_move(r) for r in runs.search(session, "promote", {t.ALIAS: alias, t.MODEL_NAME: name}, limit)]


def history(session: Session, alias: str) -> list[Move]:
    """`moves`, after settling the pending moves a dead process left, unless another move is in progress."""
    from ragctl.errors import BusyError

    name = session.config.registry.model_name
    if models.versions(session, name):  # nothing to settle (nor to lock) before the first version
        try:
            with locks.moves_lock(session, name, 0.0):
                reconcile(session, name)
        except BusyError:
            pass  # a live move holds the lock: show what is recorded so far
    return moves(session, alias)


def moves_to(session: Session, name: str, version: str) -> list[Move]:
    """The moves of any alias of a model onto one version, newest first."""
    return [_move(r) for r in runs.search(session, "promote", {t.TO_VERSION: version, t.MODEL_NAME: name})]


def record_move(
    session: Session,
    alias: str,
    target: Any,
    previous: Any | None,
    action: str,
    reason: str,
    checks: list[Any],
    params: dict[str, Any],
    documents: dict[str, Any],
) -> str:
    """Move the alias in one registry call, inside a promote run that records who, why, from, to and the
    evidence (`checks`: the gates' findings); tag the version too. Returns the run id."""
    import mlflow

    name = session.config.registry.model_name
    who = getpass.getuser()
    overrides = [c.override for c in checks if c.overridden]
    evidence = sorted({run for c in checks for run in c.evidence})
    tags = {
        t.MODEL_NAME: name,
        t.ALIAS: alias,
        t.ACTION: action,
        t.FROM_VERSION: str(previous.version) if previous else t.NONE,
        t.TO_VERSION: str(target.version),
        t.WHO: who,
        t.REASON: reason or "-",
        t.OVERRIDES: ",".join(overrides),
        t.EVIDENCE: ",".join(evidence),
    }
    with runs.stage_run(session, "promote", tags) as active:
        session.mlflow.set_registered_model_alias(name, alias, target.version)
        models.record_output(session, f"models:/{name}/{target.version}")
        mlflow.log_params(
            {
                "alias": alias,
                "to_version": target.version,
                "from_version": tags[t.FROM_VERSION],
                "who": who,
                "reason": reason or "-",
                "action": action,
                **params,
            }
        )
        mlflow.log_dict({"checks": [asdict(c) for c in checks], **documents}, "promote/checks.json")
        stamp = f"{action} by {who} in run {active.info.run_id}: {reason or '-'}"
        session.mlflow.set_model_version_tag(name, target.version, f"{t.PROMOTED_TO_PREFIX}{alias}", stamp)
    return str(active.info.run_id)


def versions(session: Session) -> list[VersionRow]:
    """Every version of the configured model, newest first, with aliases and its registered evaluation."""
    name = session.config.registry.model_name
    held: dict[str, list[str]] = {}
    for alias, number in models.aliases(session, name).items():
        held.setdefault(number, []).append(alias)
    rows = []
    for v in sorted(models.versions(session, name), key=lambda v: -int(v.version)):
        metrics = {
            k.removeprefix(t.EVAL_METRIC_PREFIX): float(x)
            for k, x in v.tags.items()
            if k.startswith(t.EVAL_METRIC_PREFIX)
        }
        rows.append(
            VersionRow(
                version=str(v.version),
                aliases=sorted(held.get(str(v.version), [])),
                eval_passed=v.tags.get(t.EVAL_PASSED, "unevaluated"),
                metrics=metrics,
                collection=v.tags.get(t.COLLECTION, ""),
                collection_digest=v.tags.get(t.COLLECTION_DIGEST, ""),
                created=runs.when(v.creation_timestamp),
                model_uri=f"models:/{name}/{v.version}",
            )
        )
    return rows
