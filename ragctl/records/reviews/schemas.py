"""ragctl's questions for a reviewer, as MLflow label schemas, and the names its records use."""

from __future__ import annotations

from ragctl.session import Session

CORRECT = "ragctl_correct"
SUPPORTED = "ragctl_sources_support"
EXPECTED = "ragctl_expected_answer"
SOURCE = "ragctl_right_source"
ITEMS_ARTIFACT = "review/items.json"
USER_RATING = "ragctl_user_rating"  # an end user's thumbs up (true) or down (false) on a served answer
VERDICTS = ("yes", "partly", "no")

# name -> (kind, options or None for free text, instruction, comment box)
SCHEMAS: dict[str, tuple[str, tuple[str, ...] | None, str, bool]] = {
    CORRECT: ("feedback", VERDICTS, "Is the answer correct? (a comment is welcome)", True),
    SUPPORTED: ("feedback", ("yes", "no"), "Do the cited sources support the answer?", False),
    EXPECTED: ("expectation", None, "The answer you expected, if this one is not fully correct.", False),
    SOURCE: ("expectation", None, "The right source: file and page, e.g. 'normans.pdf p. 2'.", False),
}


def schema_ids(session: Session) -> list[str]:
    """ragctl's label schemas in the experiment, created on first use."""
    from mlflow.exceptions import MlflowException
    from mlflow.genai import label_schemas as ls

    ids = []
    for name, (kind, options, instruction, comment) in SCHEMAS.items():
        answer = ls.InputCategorical(options=list(options)) if options else ls.InputText()
        try:
            schema = ls.create_label_schema(
                name,
                type=kind,  # type: ignore[arg-type]
                input=answer,
                instruction=instruction,
                enable_comment=comment,
                experiment_id=session.experiment_id,
            )
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
            schema = ls.get_label_schema(name, experiment_id=session.experiment_id)
        ids.append(str(schema.schema_id))
    return ids
