"""`heimdall apps`: settings are validated (the error names the variable), the login URL keeps unix sockets
and never carries the owner's password, and the app's environment holds no owner URL or connector secret."""

from __future__ import annotations

import subprocess

import pytest

from heimdall.cli.apps import app_database_url, app_environment
from tests.apps.conftest import HEIMDALL
from warehouse.settings import AppsSettings, Settings


def test_a_bad_port_is_refused_naming_the_variable() -> None:
    done = subprocess.run(
        [HEIMDALL, "apps", "url"],
        env={"HEIMDALL_APPS_PORT": "70000", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert "HEIMDALL_APPS_PORT" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_the_login_url_keeps_the_socket_and_only_the_logins_password() -> None:
    socket = app_database_url(
        "postgresql://owner:secret@/heimdall?host=/tmp/pg&port=5433", "app_login", "p@ss"
    )
    assert socket == "postgresql+psycopg://app_login:p%40ss@/heimdall?host=/tmp/pg&port=5433"
    tcp = app_database_url(
        "postgresql://owner:secret@db.example:5432/heimdall?sslmode=require", "app_login", "pw"
    )
    assert tcp == "postgresql+psycopg://app_login:pw@db.example:5432/heimdall?sslmode=require"
    assert "secret" not in socket + tcp


def test_the_apps_environment_holds_no_owner_url_or_connector_secret(monkeypatch) -> None:
    monkeypatch.setenv("HEIMDALL_DATABASE_URL", "postgresql://owner:secret@/heimdall")
    monkeypatch.setenv("HEIMDALL_JIRA_API_TOKEN", "jira-token")
    monkeypatch.setenv("HEIMDALL_GITLAB_TOKEN", "gitlab-token")
    monkeypatch.setenv("SUPERSET_SECRET_KEY", "superset-key")
    settings = Settings(
        database_url="postgresql://owner:secret@/heimdall",
        jira={"base_url": "https://x.atlassian.net", "email": "a@b.c", "api_token": "t", "projects": "PAY"},
    )
    env = app_environment(
        settings, AppsSettings(cache_ttl_seconds=60), "postgresql+psycopg://app:pw@/heimdall"
    )
    assert env["HEIMDALL_APPS_DATABASE_URL"] == "postgresql+psycopg://app:pw@/heimdall"
    assert env["HEIMDALL_APPS_CACHE_TTL_SECONDS"] == "60"
    assert env["HEIMDALL_APPS_CONNECTORS"] == "jira_cloud=yes,gitlab=no,webhook=no"
    values = " ".join(env.values())
    assert not [
        word for word in ("owner:secret", "jira-token", "gitlab-token", "superset-key") if word in values
    ]
    assert not {
        "HEIMDALL_DATABASE_URL",
        "HEIMDALL_JIRA_API_TOKEN",
        "HEIMDALL_GITLAB_TOKEN",
        "SUPERSET_SECRET_KEY",
    } & set(env)


def test_the_demo_hook_serves_the_app_in_the_background_and_stops_it(apps_warehouse) -> None:
    """`start_apps_server(settings, apps)` (what `make demo` calls): serves, waits until healthy, returns the
    URL; a second call finds it running; `stop_apps_server` ends it."""
    import httpx

    from heimdall.cli.apps import start_apps_server, stop_apps_server
    from tests.apps.test_browser import _free_port

    settings = Settings(home=apps_warehouse.home, database_url=apps_warehouse.url)  # same login password
    apps = AppsSettings(port=_free_port(), login=apps_warehouse.login)
    url = start_apps_server(settings, apps, warehouse_url=apps_warehouse.url)
    try:
        assert url == f"http://127.0.0.1:{apps.port}"
        assert httpx.get(f"{url}/_stcore/health", timeout=5).text == "ok"
        assert start_apps_server(settings, apps, warehouse_url=apps_warehouse.url) == url  # idempotent
    finally:
        assert stop_apps_server(settings)
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{url}/_stcore/health", timeout=2)
    assert not stop_apps_server(settings)
