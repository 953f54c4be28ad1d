"""Superset 6.1 configuration for Heimdall's dashboards (read through ``SUPERSET_CONFIG_PATH``).

Superset runs in its own virtualenv (``.venv-superset``); this file imports nothing from Heimdall. The
``heimdall superset provision`` / ``serve`` commands start Superset with the environment it reads here:

* ``SUPERSET_SECRET_KEY``: the session/encryption key. When unset, the key Heimdall generated once under
  ``$HEIMDALL_HOME/superset/secret_key`` is read; with neither, Superset refuses to start (there is no
  built-in default).
* ``HEIMDALL_SUPERSET_METADATA_URL``: Superset's own metadata database, a ``superset`` database on the same
  PostgreSQL server as the warehouse (never SQLite). Required.

No Redis or Celery (in-process caches; filter and explore state in the metadata database), and nothing that
calls outside hosts: no telemetry pixel, no map tiles, no web fonts, a content security policy that names
no third-party host.
"""

from __future__ import annotations

import os
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _secret_key() -> str:
    key = os.environ.get("SUPERSET_SECRET_KEY", "").strip()
    if key:
        return key
    home = Path(os.environ.get("HEIMDALL_HOME") or _HERE.parent / ".heimdall")
    stored = home / "superset" / "secret_key"
    if stored.is_file() and stored.read_text().strip():
        return stored.read_text().strip()
    raise RuntimeError(
        "no Superset secret key: set SUPERSET_SECRET_KEY, or run `heimdall superset provision` "
        f"(it generates one under {stored})"
    )


def _metadata_url() -> str:
    url = os.environ.get("HEIMDALL_SUPERSET_METADATA_URL", "").strip()
    if not url:
        raise RuntimeError(
            "HEIMDALL_SUPERSET_METADATA_URL is not set: start Superset with `heimdall superset serve` "
            "(it points Superset at the `superset` database beside the warehouse)"
        )
    return url


SECRET_KEY = _secret_key()
SQLALCHEMY_DATABASE_URI = _metadata_url()
SQLALCHEMY_TRACK_MODIFICATIONS = False

# Caches: in process (one gunicorn worker with threads, see `heimdall superset serve`). Dashboard filter
# state and explore form state stay in the metadata database (Superset's default metastore cache), so they
# survive a restart.
_SIMPLE = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 300}
CACHE_CONFIG = {**_SIMPLE, "CACHE_KEY_PREFIX": "heimdall_superset_"}
DATA_CACHE_CONFIG = {**_SIMPLE, "CACHE_KEY_PREFIX": "heimdall_superset_data_"}
THUMBNAIL_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
RATELIMIT_STORAGE_URI = "memory://"

FEATURE_FLAGS = {
    "ALERT_REPORTS": False,  # needs Celery
    "THUMBNAILS": False,  # needs Celery and a headless browser
    "GLOBAL_ASYNC_QUERIES": False,  # needs Redis
    "ENABLE_TEMPLATE_PROCESSING": False,
    "DASHBOARD_RBAC": False,
    "EMBEDDED_SUPERSET": False,
}

# Nothing leaves the machine: no map tiles (no Mapbox key; the dashboards have no maps), no web fonts, no
# telemetry (the frontend's tracking pixel is blocked by the CSP); the CSP allows this server only.
MAPBOX_API_KEY = ""
THEME_FONT_URL_ALLOWED_DOMAINS: list[str] = []
CORS_OPTIONS: dict[str, list[str]] = {"origins": []}
ENABLE_CORS = False
TALISMAN_ENABLED = True
CONTENT_SECURITY_POLICY_WARNING = False
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'", "data:"],
        "script-src": ["'self'", "'strict-dynamic'"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    "force_https": False,
    "session_cookie_secure": False,
}

# Served on 127.0.0.1 by default; the session cookie is not readable by scripts.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
WTF_CSRF_ENABLED = True

# The warehouse connection is read-only (a role that may only SELECT from marts): no uploads, no DML.
PREVENT_UNSAFE_DB_CONNECTIONS = True
SQLLAB_CTAS_NO_LIMIT = False
ROW_LIMIT = 50000
SUPERSET_WEBSERVER_TIMEOUT = 60
