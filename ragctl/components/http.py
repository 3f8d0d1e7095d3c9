"""One JSON POST to an endpoint with retries: connection trouble, 429 and 5xx are retried with exponential
backoff (tenacity); any other 4xx, or retries used up, is a ServiceError (exit 4) naming the endpoint."""

from __future__ import annotations

import os
from typing import Any

from ragctl.errors import ConfigError, ServiceError

RETRIES = 5


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
