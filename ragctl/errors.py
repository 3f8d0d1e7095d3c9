"""One error hierarchy; the CLI maps each class to an exit code in exactly one place (cli/app.py)."""

from __future__ import annotations


class RagctlError(Exception):
    """An error the user can act on: `message` says what went wrong, `hint` what to do next."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class GateFailed(RagctlError):
    """A quality gate failed or a promotion was refused."""

    exit_code = 1


class UsageError(RagctlError):
    """Bad command-line usage or a request that cannot be satisfied as asked."""

    exit_code = 2


class ConfigError(UsageError):
    """The configuration file or an override is invalid."""


class DatasetError(UsageError):
    """An evaluation dataset is missing or malformed (exit 2, as a usage error: CI must not read it as a
    failed gate)."""


class DataError(RagctlError):
    """Input data (documents, QA set) is missing or unusable."""

    exit_code = 3


class ServiceError(RagctlError):
    """An external service (tracking server, vector store, LLM endpoint) failed."""

    exit_code = 4


class BusyError(RagctlError):
    """Another ragctl process holds what this command needs (an ingest into the same collection, an alias
    move of the same model)."""

    exit_code = 5


EXIT_CODES = {
    0: "success",
    1: "a quality gate failed or a promotion was refused",
    2: "usage, configuration or evaluation dataset error",
    3: "bad input data",
    4: "an external service failed",
    5: "busy: another ragctl process holds the collection or the model's aliases",
}


def lost_service(exc: BaseException) -> ServiceError | None:
    """A server that went away in the middle of a command (Chroma over httpx, MLflow over requests) as the
    ServiceError to show; None for any other exception. Looks only at modules already loaded: the CLI
    imports nothing for it."""
    import sys

    httpx, requests = sys.modules.get("httpx"), sys.modules.get("requests")
    seen: BaseException | None = exc
    while seen is not None:
        url = None
        if httpx is not None and isinstance(seen, httpx.TransportError):
            try:
                url = seen.request.url
            except RuntimeError:  # an error raised without a request
                url = "a server"
        elif requests is not None and isinstance(seen, requests.exceptions.ConnectionError):
            url = seen.request.url if seen.request is not None else "a server"
        if url is not None:
            where = str(url).split("/api/")[0].split("/ajax-api/")[0]
            return ServiceError(
                f"lost the connection to {where} mid-command: {type(seen).__name__}",
                "what was written is kept: run the command again once the server is back "
                "(an ingest resumes where it stopped, without duplicates)",
            )
        seen = seen.__cause__ or seen.__context__
    return None
