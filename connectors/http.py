"""One HTTP client for every connector: retries, rate limits, clear errors, no secrets in messages or reprs.

* 429, and a 5xx with ``Retry-After``: wait exactly what ``Retry-After`` says (seconds or an HTTP date), as
  sent. Only ``retry_after_max`` (``HEIMDALL_CONNECTOR_RETRY_AFTER_MAX_SECONDS``, 900 s by default) bounds it:
  a longer ``Retry-After`` is a :class:`ConnectorError` saying so, never a silently shorter wait.
* 5xx (without ``Retry-After``) and network errors: exponential backoff with jitter (``base * 2**attempt``,
  +/- ``jitter``), capped at ``max_delay``.
* A success whose body is not JSON (a proxy's HTML page, a truncated body) is retried like a network error.
* After a success whose ``X-RateLimit-Remaining`` (Jira) or ``RateLimit-Remaining`` (GitLab) is at or below
  ``low_remaining``, pause before the next request (until ``RateLimit-Reset`` when given, capped).
* At most ``max_attempts`` attempts, then :class:`ConnectorError` naming the method and endpoint, with the
  status of the last answer when it was an HTTP error (``status``; None after a network error).
* Other 4xx, and 501 Not Implemented (the server does not support the call: asking again cannot help, and a
  caller may fall back to another endpoint): no retry; :class:`ConnectorError` with the status and the start
  of the body.

Credentials (``auth``, an ``Authorization`` or token header) are handed to ``httpx`` at construction and not
kept on the :class:`ApiClient`: its repr, a traceback's local variables and error messages cannot show them.
``sleep`` is injectable so tests can record waits instead of sleeping them all.
"""

from __future__ import annotations

import json as jsonlib
import random
import threading
import time
from collections.abc import Callable
from dataclasses import InitVar, dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from warehouse.errors import HeimdallError
from warehouse.settings import ConnectorSettings, get_settings, redact_url

RETRY_AFTER_MAX_VARIABLE = "HEIMDALL_CONNECTOR_RETRY_AFTER_MAX_SECONDS"
# 5xx answers that are final: the server says it does not implement the call, so a retry gets the same answer
FINAL_SERVER_ERRORS = frozenset({501})


class ConnectorError(HeimdallError):
    """A source API call failed for good; the message names the endpoint, never a credential."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def _configured_retry_after_max() -> float:
    """The documented maximum Retry-After of this process's settings (so every policy follows it)."""
    return float(get_settings().connectors.retry_after_max_seconds)


@dataclass
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 60.0  # the cap of exponential backoff and of low-remaining pauses, not of Retry-After
    jitter: float = 0.25
    low_remaining: int = 5
    low_remaining_pause: float = 1.0
    retry_after_max: float = field(default_factory=_configured_retry_after_max)

    @classmethod
    def from_settings(cls, behaviour: ConnectorSettings, **overrides: Any) -> RetryPolicy:
        """The policy the settings describe (attempts and the Retry-After maximum)."""
        values: dict[str, Any] = {
            "max_attempts": behaviour.max_attempts,
            "retry_after_max": float(behaviour.retry_after_max_seconds),
        }
        return cls(**{**values, **overrides})


class _NotJson(Exception):
    """A success response whose body does not parse as JSON (retried like a transport error)."""


def _parse_json(response: httpx.Response) -> Any:
    try:
        return jsonlib.loads(response.content)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        kind = response.headers.get("Content-Type", "no Content-Type").split(";")[0].strip()
        start = response.content[:80].decode("utf-8", errors="replace").replace("\n", " ")
        reason = type(exc).__name__ if isinstance(exc, RecursionError) else str(exc).split(":")[0]
        raise _NotJson(
            f"HTTP {response.status_code} with a body that is not JSON "
            f"({kind}, {len(response.content)} bytes, {reason}; starts {start!r})"
        ) from None


@dataclass(repr=False)
class ApiClient:
    """A thin, thread-safe wrapper over ``httpx.Client`` for one API (base URL + auth).

    ``headers`` and ``auth`` are init-only: they go to the ``httpx.Client`` and are not attributes of this
    object, so nothing that prints it (``repr``, rich's ``show_locals``, a debugger) can print a credential.
    """

    base_url: str
    headers: InitVar[dict[str, str] | None] = None
    auth: InitVar[httpx.Auth | tuple[str, str] | None] = None
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    timeout: float = 30.0
    seed: int | None = None

    def __post_init__(
        self, headers: dict[str, str] | None, auth: httpx.Auth | tuple[str, str] | None
    ) -> None:
        self._client = httpx.Client(
            base_url=self.base_url.rstrip("/"), headers=headers or {}, auth=auth, timeout=self.timeout
        )
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()
        self._shown_url = redact_url(self.base_url.rstrip("/"))
        self.requests_made = 0
        self.waits: list[float] = []

    def __repr__(self) -> str:
        return (
            f"ApiClient(base_url={self._shown_url!r}, policy={self.policy!r}, timeout={self.timeout!r}, "
            f"requests_made={self.requests_made})"
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self._send("GET", path, params=params, json=None, expect_json=True)[1]

    def post_json(self, path: str, body: Any) -> Any:
        return self._send("POST", path, params=None, json=body, expect_json=True)[1]

    def request_json(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None
    ) -> tuple[httpx.Response, Any]:
        """The response (for its paging headers) and its parsed JSON body, parsed once."""
        return self._send(method, path, params=params, json=json, expect_json=True)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        expect_json: bool = True,
    ) -> httpx.Response:
        """One request with retries. With ``expect_json`` (the default) a success whose body is not JSON is
        retried and finally an error, so ``response.json()`` is safe afterwards."""
        return self._send(method, path, params=params, json=json, expect_json=expect_json)[0]

    def _send(
        self, method: str, path: str, *, params: dict[str, Any] | None, json: Any, expect_json: bool
    ) -> tuple[httpx.Response, Any]:
        endpoint = f"{method} {self._shown_url}{path}"
        last = ""
        last_status: int | None = None  # the status of the last answer, when it was an HTTP error
        failure: ConnectorError | None = None
        for attempt in range(1, self.policy.max_attempts + 1):
            try:
                response = self._client.request(method, path, params=params, json=json)
            except httpx.TransportError as exc:
                last, last_status = f"{type(exc).__name__}: {exc}", None
                delay = self._backoff(attempt)
            else:
                with self._lock:
                    self.requests_made += 1
                status = response.status_code
                last_status = None
                if response.is_success:
                    if not expect_json or status in (204, 205) or method == "HEAD":
                        self._throttle(response)
                        return response, None
                    try:
                        data = _parse_json(response)
                    except _NotJson as exc:
                        last = str(exc)
                        delay = self._backoff(attempt)
                    else:
                        self._throttle(response)
                        return response, data
                else:
                    last, last_status = f"HTTP {status}", status
                    if status in FINAL_SERVER_ERRORS:
                        failure = ConnectorError(
                            f"{endpoint} failed: HTTP {status} {response.reason_phrase}: "
                            f"{response.text[:300]}",
                            status,
                        )
                        break
                    retry_after = _retry_after(response)
                    if retry_after is not None and (status == 429 or status >= 500):
                        if retry_after > self.policy.retry_after_max:
                            failure = ConnectorError(
                                f"{endpoint} failed: HTTP {status} with Retry-After {retry_after:.0f} s, "
                                f"longer than the configured maximum of {self.policy.retry_after_max:.0f} s "
                                f"({RETRY_AFTER_MAX_VARIABLE}); run again later or raise the maximum",
                                status,
                            )
                            break
                        delay = retry_after  # as sent: not capped by the backoff cap
                    elif status == 429 or status >= 500:
                        delay = self._backoff(attempt)
                    else:
                        failure = ConnectorError(
                            f"{endpoint} failed: HTTP {status}: {response.text[:300]}", status
                        )
                        break
            if attempt == self.policy.max_attempts:
                break
            self._wait(delay)
        # raised outside any ``except``: no chained traceback from deep inside httpx
        if failure is not None:
            raise failure
        raise ConnectorError(
            f"{endpoint} failed after {self.policy.max_attempts} attempts (last: {last})", last_status
        )

    def _backoff(self, attempt: int) -> float:
        delay = self.policy.base_delay * 2 ** (attempt - 1)
        with self._lock:
            spread = self._rng.uniform(-self.policy.jitter, self.policy.jitter)
        return min(max(0.0, delay * (1 + spread)), self.policy.max_delay)

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
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an RFC 850 / asctime date without a zone is GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - time.time())
