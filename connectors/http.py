"""One HTTP client for every connector: retries, rate limits, clear errors, no secrets in messages.

* 429, and 503 with ``Retry-After``: wait exactly what ``Retry-After`` says (seconds or an HTTP date), capped.
* 5xx and network errors: exponential backoff with jitter (``base * 2**attempt``, +/- ``jitter``), capped.
* After a success whose ``X-RateLimit-Remaining`` (Jira) or ``RateLimit-Remaining`` (GitLab) is at or below
  ``low_remaining``, pause before the next request (until ``RateLimit-Reset`` when given, capped).
* At most ``max_attempts`` attempts, then :class:`ConnectorError` naming the method and endpoint.
* Other 4xx: no retry; :class:`ConnectorError` with the status and the start of the body.
``sleep`` is injectable so tests can record waits instead of sleeping them all.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from warehouse.errors import HeimdallError


class ConnectorError(HeimdallError):
    """A source API call failed for good; the message names the endpoint, never a credential."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 60.0
    jitter: float = 0.25
    low_remaining: int = 5
    low_remaining_pause: float = 1.0


@dataclass
class ApiClient:
    """A thin, thread-safe wrapper over ``httpx.Client`` for one API (base URL + auth)."""

    base_url: str
    headers: dict[str, str] = field(default_factory=dict)
    auth: httpx.Auth | tuple[str, str] | None = None
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    timeout: float = 30.0
    seed: int | None = None

    def __post_init__(self) -> None:
        self._client = httpx.Client(
            base_url=self.base_url.rstrip("/"), headers=self.headers, auth=self.auth, timeout=self.timeout
        )
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()
        self.requests_made = 0
        self.waits: list[float] = []

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params).json()

    def post_json(self, path: str, body: Any) -> Any:
        return self.request("POST", path, json=body).json()

    def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None
    ) -> httpx.Response:
        endpoint = f"{method} {self.base_url.rstrip('/')}{path}"
        last = ""
        for attempt in range(1, self.policy.max_attempts + 1):
            try:
                response = self._client.request(method, path, params=params, json=json)
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
                delay = self._backoff(attempt)
            else:
                with self._lock:
                    self.requests_made += 1
                if response.is_success:
                    self._throttle(response)
                    return response
                status = response.status_code
                last = f"HTTP {status}"
                retry_after = _retry_after(response)
                if status == 429 or (status == 503 and retry_after is not None):
                    delay = retry_after if retry_after is not None else self._backoff(attempt)
                elif status >= 500:
                    delay = self._backoff(attempt)
                else:
                    raise ConnectorError(f"{endpoint} failed: HTTP {status}: {response.text[:300]}", status)
            if attempt == self.policy.max_attempts:
                break
            self._wait(min(delay, self.policy.max_delay))
        raise ConnectorError(f"{endpoint} failed after {self.policy.max_attempts} attempts (last: {last})")

    def _backoff(self, attempt: int) -> float:
        delay = self.policy.base_delay * 2 ** (attempt - 1)
        with self._lock:
            spread = self._rng.uniform(-self.policy.jitter, self.policy.jitter)
        return max(0.0, delay * (1 + spread))

    def _throttle(self, response: httpx.Response) -> None:
        headers = response.headers
        remaining = headers.get("X-RateLimit-Remaining") or headers.get("RateLimit-Remaining")
        if remaining is None or not remaining.strip().lstrip("-").isdigit():
            return
        if int(remaining) > self.policy.low_remaining:
            return
        pause = self.policy.low_remaining_pause
        reset = response.headers.get("RateLimit-Reset")
        if reset and reset.isdigit():
            pause = max(pause, int(reset) - time.time())
        self._wait(min(pause, self.policy.max_delay))

    def _wait(self, seconds: float) -> None:
        with self._lock:
            self.waits.append(seconds)
        self.sleep(seconds)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    if value.replace(".", "", 1).isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
