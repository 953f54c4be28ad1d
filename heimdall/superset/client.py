"""Superset's REST API, as the provisioning and the tests use it: log in, import the bundle, list assets,
ask a chart for its data.

Writes need a CSRF token from ``/api/v1/security/csrf_token/`` sent on the same session (cookie) as the login:
with a bearer token alone Superset answers a write with a redirect to the home page, which a naive client
would read as success. Every answer is checked for the status and the JSON it should have.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Mapping
from typing import Any

import httpx

from heimdall.superset.runtime import SupersetError


class SupersetClient:
    def __init__(self, base_url: str, *, timeout: float = 120.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, follow_redirects=False)
        self._token: str | None = None
        self._csrf: str | None = None

    def __enter__(self) -> SupersetClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # --- availability and login -----------------------------------------------------------------------

    def healthy(self) -> bool:
        try:
            return self._http.get("/health", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_until_healthy(self, seconds: float, *, alive: Any = None) -> None:
        """Wait for ``/health``; ``alive()`` (the server process still running) is checked meanwhile."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.healthy():
                return
            if alive is not None and not alive():
                raise SupersetError("Superset stopped while starting: see its log")
            time.sleep(1)
        raise SupersetError(f"Superset did not answer {self.base_url}/health within {seconds:.0f} s")

    def login(self, username: str, password: str) -> None:
        response = self._http.post(
            "/api/v1/security/login",
            json={"username": username, "password": password, "provider": "db", "refresh": False},
        )
        if response.status_code == 401:
            raise SupersetError(
                f"Superset refused the login of {username!r}: the admin exists with another password. Set "
                "HEIMDALL_SUPERSET_ADMIN_PASSWORD to it (or reset it with `superset fab reset-password`)"
            )
        self._token = str(self._json(response, "log in")["access_token"])
        self._http.headers["Authorization"] = f"Bearer {self._token}"
        csrf = self._http.get("/api/v1/security/csrf_token/")
        self._csrf = str(self._json(csrf, "get a CSRF token")["result"])
        self._http.headers["X-CSRFToken"] = self._csrf
        self._http.headers["Referer"] = self.base_url + "/"

    # --- assets -----------------------------------------------------------------------------------------

    def import_bundle(self, files: Mapping[str, str], *, passwords: Mapping[str, str]) -> None:
        """POST the bundle (a ZIP with one top folder) to /api/v1/assets/import/; overwrites in place."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, text in sorted(files.items()):
                archive.writestr(f"heimdall_assets/{name}", text)
        response = self._http.post(
            "/api/v1/assets/import/",
            files={"bundle": ("heimdall_assets.zip", buffer.getvalue(), "application/zip")},
            data={"passwords": json.dumps(dict(passwords))},
        )
        body = self._json(response, "import the assets bundle")
        if body.get("message") != "OK":
            raise SupersetError(f"Superset did not accept the assets bundle: {body}")

    def list(self, resource: str, columns: tuple[str, ...]) -> list[dict[str, Any]]:
        """Every row of ``/api/v1/<resource>/`` with ``columns`` (paged)."""
        rows: list[dict[str, Any]] = []
        page = 0
        while True:
            query = f"(columns:!({','.join(columns)}),page:{page},page_size:100)"
            body = self._json(self._http.get(f"/api/v1/{resource}/", params={"q": query}), f"list {resource}")
            result = body.get("result") or []
            rows.extend(result)
            if len(result) < 100:
                return rows
            page += 1

    def chart_data(self, chart_id: int) -> dict[str, Any]:
        """The answer of ``GET /api/v1/chart/<id>/data/`` (the chart's saved query context)."""
        response = self._http.get(f"/api/v1/chart/{chart_id}/data/", params={"force": "true"})
        return self._json(response, f"get the data of chart {chart_id}")

    def get(self, path: str) -> dict[str, Any]:
        return self._json(self._http.get(path), f"GET {path}")

    def _json(self, response: httpx.Response, what: str) -> dict[str, Any]:
        if response.is_redirect:
            raise SupersetError(
                f"Superset answered {response.status_code} (redirect to {response.headers.get('location')}) "
                f"when asked to {what}: not logged in, or the request lacked a CSRF token"
            )
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400 or not isinstance(body, dict):
            detail = json.dumps(body)[:2000] if body is not None else response.text[:500]
            raise SupersetError(f"Superset could not {what} (HTTP {response.status_code}): {detail}")
        return body
