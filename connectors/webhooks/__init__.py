"""Webhook intake for GitLab and Jira.

* ``app`` — the Starlette application (``create_app``): authentication, size limits, idempotent storage.
* ``verify`` — token and signature checks (GitLab token, Standard Webhooks, Jira ``X-Hub-Signature``).
* ``normalize`` — a delivery's payload as the REST-shaped raw documents the loader stores.
"""
