"""One JSON POST to an endpoint with retries: connection trouble, 429 and 5xx are retried with exponential
backoff (tenacity); any other 4xx, or retries used up, is a ServiceError (exit 4) naming the endpoint.

Before a command writes anything it checks the endpoints it will call (`check_endpoints`): one request
each, in seconds, so a server that is down or a key that is wrong stops it before a run or a collection
exists."""

from __future__ import annotations

import os
from typing import Any

from ragctl.errors import ConfigError, ServiceError

RETRIES = 5
CHECK_SECONDS = 10.0


class _Transient(Exception):
    """A failure worth retrying: connection trouble, 429, 5xx."""


def bearer(api_key_env: str | None, key: str) -> dict[str, str]:
    """The Authorization header from the environment variable the config names (`key`: its config key)."""
    if not api_key_env:
        return {}
    value = os.environ.get(api_key_env)
    if not value:
        raise ConfigError(f"{key}: environment variable {api_key_env} is not set")
    return {"Authorization": f"Bearer {value}"}


def post_json(client: Any, url: str, payload: dict[str, Any], headers: dict[str, str], what: str) -> Any:
    """POST `payload` to `url` and return the decoded JSON answer; `what` names the endpoint in errors."""
    import httpx
    from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

    @retry(
        retry=retry_if_exception_type(_Transient),
        stop=stop_after_attempt(RETRIES),
        wait=wait_exponential(multiplier=0.5, max=8),
        reraise=True,
    )
    def attempt() -> Any:
        try:
            response = client.post(url, json=payload, headers=headers)
        except httpx.TransportError as exc:
            raise _Transient(f"{type(exc).__name__}: {exc}") from None
        if response.status_code == 429 or response.status_code >= 500:
            raise _Transient(f"HTTP {response.status_code}: {response.text[:200]}")
        if response.status_code >= 400:
            raise ServiceError(f"{what} endpoint {url} answered {response.status_code}: {response.text[:300]}")
        return response.json()

    try:
        return attempt()
    except _Transient as exc:
        raise ServiceError(
            f"{what} endpoint {url} failed after {RETRIES} attempts: {exc}",
            "check its api_base and that the server is up",
        ) from None


def reachable(api_base: str, what: str, api_key_env: str | None, key: str) -> None:
    """One GET of {api_base}/models: a refused connection, a timeout or a refused key is a ServiceError; any
    other answer (a server without that route says 404) means the endpoint is there."""
    import httpx

    try:
        response = httpx.get(api_base.rstrip("/") + "/models", headers=bearer(api_key_env, key), timeout=CHECK_SECONDS)
    except httpx.HTTPError as exc:
        raise ServiceError(
            f"{what} endpoint {api_base} is unreachable: {type(exc).__name__}: {exc}",
            "check its api_base and that the server is up",
        ) from None
    if response.status_code in (401, 403):
        raise ServiceError(
            f"{what} endpoint {api_base} refused the key (HTTP {response.status_code})",
            f"check the key in ${api_key_env}" if api_key_env else "set the key's variable in api_key_env",
        )


def endpoints(sections: dict[str, Any]) -> list[tuple[str, str, str | None, str]]:
    """(what, api_base, api_key_env, config key) of every endpoint a chain or config calls: its embedding,
    LLM, reranker and judge sections (dumped as dicts), those that have an api_base."""
    found = []
    rerank = (sections.get("retrieval") or {}).get("rerank") or {}
    judge = (sections.get("evaluation") or {}).get("judge") or {}
    for what, section, key in (
        ("embedding", sections.get("embedding") or {}, "embedding"),
        ("LLM", sections.get("llm") or {}, "llm"),
        ("reranking", rerank if rerank.get("type") == "endpoint" else {}, "retrieval.rerank"),
        ("judge", judge, "evaluation.judge"),
    ):
        if section.get("api_base"):
            found.append((what, str(section["api_base"]), section.get("api_key_env"), f"{key}.api_key_env"))
    return found


def check_endpoints(sections: dict[str, Any]) -> None:
    """Fail in seconds, before anything is written, when an endpoint the command will call is not there."""
    for what, api_base, api_key_env, key in endpoints(sections):
        reachable(api_base, what, api_key_env, key)
