"""An end user's thumbs up or down on a served answer: a HUMAN feedback assessment on its trace."""

from __future__ import annotations

from typing import Any

from ragctl.errors import UsageError
from ragctl.records.reviews.schemas import USER_RATING
from ragctl.session import Session


def rate(session: Session, trace_id: str, up: bool, comment: str | None, user: str) -> Any:
    """Record an end user's verdict on an answer as a HUMAN feedback assessment on its trace."""
    import mlflow
    from mlflow.entities import AssessmentSource
    from mlflow.exceptions import MlflowException

    _ = session.experiment_id  # the tracking store is set up
    try:
        session.mlflow.get_trace(trace_id)
    except MlflowException:
        raise UsageError(
            f"no trace {trace_id!r} in the tracking store", "pass the trace_id a served answer returned"
        ) from None
    source = AssessmentSource(source_type="HUMAN", source_id=user)
    return mlflow.log_feedback(trace_id=trace_id, name=USER_RATING, value=up, rationale=comment or None, source=source)
