"""Webhook authentication: constant-time comparisons only, secrets never echoed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping


def gitlab_token_ok(headers: Mapping[str, str], secret: str | None) -> bool:
    """GitLab's ``X-Gitlab-Token`` is the configured secret itself (not a signature)."""
    given = headers.get("x-gitlab-token")
    return bool(secret and given) and hmac.compare_digest(str(given).encode(), str(secret).encode())


def standard_webhook_ok(
    headers: Mapping[str, str],
    body: bytes,
    secret: str | None,
    tolerance_seconds: int,
    now: float | None = None,
) -> bool:
    """Standard Webhooks: ``webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`` (several
    space-separated signatures allowed), secret ``whsec_<base64 key>``, timestamp within the tolerance."""
    webhook_id, stamp, signatures = (
        headers.get(k) for k in ("webhook-id", "webhook-timestamp", "webhook-signature")
    )
    if not (secret and webhook_id and stamp and signatures) or not stamp.isdigit():
        return False
    if abs((now if now is not None else time.time()) - int(stamp)) > tolerance_seconds:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{webhook_id}.{stamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected):
            return True
    return False


def jira_signature_ok(headers: Mapping[str, str], body: bytes, secret: str) -> bool:
    """Jira admin webhooks registered with a secret: ``X-Hub-Signature: sha256=<hex HMAC-SHA256 of body>``."""
    given = headers.get("x-hub-signature", "")
    method, _, value = given.partition("=")
    if method != "sha256" or not value:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(value.encode(), expected.encode())


def sign_standard_webhook(secret: str, webhook_id: str, stamp: int, body: bytes) -> str:
    """The signature header value a sender computes (used by tests and the docs' curl examples)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{webhook_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()
