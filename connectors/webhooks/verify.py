"""Webhook authentication: constant-time comparisons only, secrets never echoed.

* GitLab ``X-Gitlab-Token``: the configured secret itself (not a signature), so it authenticates a delivery
  whatever its body (a cut, oversized body included).
* Standard Webhooks (GitLab signing tokens): ``webhook-signature: v1,<base64 HMAC-SHA256 of
  "id.timestamp.body">``; a correct signature whose ``webhook-timestamp`` is outside the tolerance is
  :attr:`Verdict.STALE` (a replay, or a very late retry), not merely invalid.
* Jira ``X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body>``; Jira's replay window is the payload's
  ``timestamp`` (epoch milliseconds), see :func:`jira_timestamp`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping
from enum import Enum
from typing import Any


class Verdict(Enum):
    OK = "ok"
    STALE = "stale"  # correctly signed, timestamp outside the tolerance
    INVALID = "invalid"  # signature headers present but wrong (or a malformed timestamp)
    ABSENT = "absent"  # no signature headers (or no signing secret configured)


def signing_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret ``whsec_<base64>``; ValueError when it is not one."""
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not a whsec_<base64> signing secret") from None
    if not key:
        raise ValueError("the signing secret is empty")
    return key


def gitlab_token_ok(headers: Mapping[str, str], secret: str | None) -> bool:
    """GitLab's ``X-Gitlab-Token`` is the configured secret itself (not a signature)."""
    given = headers.get("x-gitlab-token")
    return bool(secret and given) and hmac.compare_digest(str(given).encode(), str(secret).encode())


def standard_webhook_verdict(
    headers: Mapping[str, str],
    body: bytes,
    key: bytes | None,
    tolerance_seconds: int,
    now: float | None = None,
) -> Verdict:
    """Check a Standard Webhooks signature (several space-separated signatures allowed), then its age."""
    webhook_id, stamp, signatures = (
        headers.get(k) for k in ("webhook-id", "webhook-timestamp", "webhook-signature")
    )
    if not (key and webhook_id and stamp and signatures):
        return Verdict.ABSENT
    if not stamp.isdigit():
        return Verdict.INVALID
    signed = f"{webhook_id}.{stamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    if not any(
        version == "v1" and hmac.compare_digest(value.encode(), expected)
        for version, _, value in (candidate.partition(",") for candidate in signatures.split())
    ):
        return Verdict.INVALID
    if abs((now if now is not None else time.time()) - int(stamp)) > tolerance_seconds:
        return Verdict.STALE
    return Verdict.OK


def standard_webhook_ok(
    headers: Mapping[str, str],
    body: bytes,
    secret: str | None,
    tolerance_seconds: int,
    now: float | None = None,
) -> bool:
    """True for a valid, fresh Standard Webhooks signature with the ``whsec_`` secret."""
    if not secret:
        return False
    try:
        key = signing_key(secret)
    except ValueError:
        return False
    return standard_webhook_verdict(headers, body, key, tolerance_seconds, now) is Verdict.OK


def jira_signature_ok(headers: Mapping[str, str], body: bytes, secret: str) -> bool:
    """Jira admin webhooks registered with a secret: ``X-Hub-Signature: sha256=<hex HMAC-SHA256 of body>``."""
    given = headers.get("x-hub-signature", "")
    method, _, value = given.partition("=")
    if method != "sha256" or not value:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(value.encode(), expected.encode())


def jira_timestamp(payload: Mapping[str, Any]) -> float | None:
    """The event time a Jira payload carries (``timestamp``, epoch milliseconds) in epoch seconds, if any."""
    stamp = payload.get("timestamp")
    if isinstance(stamp, bool) or not isinstance(stamp, int | float):
        return None
    return float(stamp) / 1000


def sign_standard_webhook(secret: str, webhook_id: str, stamp: int, body: bytes) -> str:
    """The signature header value a sender computes (used by tests and the docs' curl examples)."""
    digest = hmac.new(signing_key(secret), f"{webhook_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()
