"""`heimdall apps ...`: the Streamlit investigation tools (streamlit_apps/, docs/apps.md).

The app signs in as its own login role (HEIMDALL_APPS_LOGIN, member of heimdall_apps, migration 0014:
SELECT on ``marts``, INSERT into ``app.recommendation_decisions``, nothing in ``raw``). This module creates
that login with a password generated once on this machine (HEIMDALL_HOME/apps/login_password, mode 0600)
and hands the connection URL to the Streamlit process in its environment; the warehouse owner's URL is not
passed on.

``start_apps_server(settings, apps)`` is the hook the demo calls: it serves the app in the background (pid
in HEIMDALL_HOME/apps/server.pid, log beside it), waits until it answers and returns its URL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Optional
from urllib.parse import quote

import httpx
import psycopg
import typer
from psycopg.conninfo import conninfo_to_dict

from heimdall.cli._output import console
from heimdall.pipeline import ready_warehouse
from warehouse.errors import HeimdallError
from warehouse.reader_role import APPS_ROLE, ensure_reader_login, stored_secret
from warehouse.settings import PROJECT_ROOT, AppsSettings, Settings, get_apps_settings, get_settings

APP_SCRIPT = PROJECT_ROOT / "streamlit_apps" / "streamlit_app.py"
URL_VARIABLE = "HEIMDALL_APPS_DATABASE_URL"  # read by streamlit_apps/db.py
CONNECTORS_VARIABLE = "HEIMDALL_APPS_CONNECTORS"  # read by the Data status page
# Variables of the warehouse owner that the app's process must not inherit.
_OWNER_VARIABLES = ("HEIMDALL_DATABASE_URL", "HEIMDALL_TEST_DATABASE_URL", "PGPASSWORD")

app = typer.Typer(
    help="Streamlit investigation tools: Issue Investigator, WIP Triage, Recommendations, Interventions, "
    "Data status.",
    no_args_is_help=True,
)


class AppsError(HeimdallError):
    """The Streamlit app cannot be started (the message says why)."""


def state_dir(settings: Settings) -> Path:
    path = settings.home / "apps"
    path.mkdir(parents=True, exist_ok=True)
    return path


def app_database_url(warehouse_url: str, login: str, password: str) -> str:
    """A SQLAlchemy (psycopg 3) URL for ``login`` on the server and database of ``warehouse_url`` (unix
    sockets kept as ``?host=``)."""
    info = conninfo_to_dict(warehouse_url)
    auth = f"{quote(login, safe='')}:{quote(password, safe='')}"
    host = str(info.get("host") or "")
    port = str(info.get("port") or "")
    database = quote(str(info.get("dbname") or ""), safe="")
    query = []
    if host.startswith("/"):
        netloc = f"{auth}@"
        query.append(f"host={quote(host, safe='/')}")
        if port:
            query.append(f"port={port}")
    else:
        netloc = f"{auth}@{host or 'localhost'}" + (f":{port}" if port else "")
    for key in ("sslmode", "sslrootcert"):
        if info.get(key):
            query.append(f"{key}={quote(str(info[key]), safe='/')}")
    return f"postgresql+psycopg://{netloc}/{database}" + ("?" + "&".join(query) if query else "")


def prepare_login(settings: Settings, apps: AppsSettings, warehouse_url: str) -> str:
    """Create or update the app's login role (idempotent); return the app's SQLAlchemy URL (holds a password:
    never print it)."""
    password = stored_secret(state_dir(settings) / "login_password")
    with psycopg.connect(warehouse_url) as conn:
        ensure_reader_login(conn, apps.login, password, group=APPS_ROLE)
    return app_database_url(warehouse_url, apps.login, password)


def connectors_configured(settings: Settings) -> str:
    """``jira_cloud=yes,gitlab=no,webhook=no``: what the Data status page shows (never the settings
    themselves)."""
    flags = {
        "jira_cloud": settings.jira.is_configured,
        "gitlab": settings.gitlab.is_configured,
        "webhook": bool(
            settings.jira.webhook_secret or settings.gitlab.webhook_secret or settings.gitlab.signing_secret
        ),
    }
    return ",".join(f"{name}={'yes' if value else 'no'}" for name, value in flags.items())


def app_environment(settings: Settings, apps: AppsSettings, database_url: str) -> dict[str, str]:
    """The Streamlit process's environment: no warehouse-owner URL and no connector secret (HEIMDALL_* other
    than HEIMDALL_APPS_* is dropped), the app's own URL and what the Data status page needs."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _OWNER_VARIABLES
        and not (key.startswith("HEIMDALL_") and not key.startswith("HEIMDALL_APPS_"))
        and key != "SUPERSET_SECRET_KEY"
    }
    env[URL_VARIABLE] = database_url
    env[CONNECTORS_VARIABLE] = connectors_configured(settings)
    env["HEIMDALL_APPS_CACHE_TTL_SECONDS"] = str(apps.cache_ttl_seconds)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH", "")]))
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    return env


def streamlit_command(host: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP_SCRIPT),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--server.runOnSave",
        "false",
        "--browser.gatherUsageStats",
        "false",
        "--global.developmentMode",
        "false",
        "--client.toolbarMode",
        "minimal",
        "--theme.base",
        "light",
    ]


def _probe_url(host: str, port: int) -> str:
    return f"http://{'127.0.0.1' if host in ('0.0.0.0', '::', '') else host}:{port}"


def healthy(host: str, port: int) -> bool:
    try:
        response = httpx.get(f"{_probe_url(host, port)}/_stcore/health", timeout=2)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and response.text.strip() == "ok"


def public_url(apps: AppsSettings, host: str, port: int) -> str:
    if apps.public_url:
        return apps.url
    return _probe_url(host, port)


def _pid_file(settings: Settings) -> Path:
    return state_dir(settings) / "server.pid"


def start_apps_server(
    settings: Settings | None = None,
    apps: AppsSettings | None = None,
    *,
    warehouse_url: str | None = None,
    host: str | None = None,
    port: int | None = None,
    timeout: float = 60.0,
) -> str:
    """Serve the app in the background (idempotent: an app already answering there is left running) and return
    its URL. The warehouse is started and migrated if needed, the app's login created. `heimdall apps stop`
    (or :func:`stop_apps_server`) ends it."""
    settings = settings or get_settings()
    apps = apps or get_apps_settings()
    host, port = host or apps.host, port or apps.port
    if healthy(host, port):
        return public_url(apps, host, port)
    url = warehouse_url or ready_warehouse(settings).url
    env = app_environment(settings, apps, prepare_login(settings, apps, url))
    home = state_dir(settings)
    log = home / "server.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            streamlit_command(host, port),
            env=env,
            cwd=home,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _pid_file(settings).write_text(f"{process.pid}\n")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AppsError(f"the Streamlit app exited with status {process.returncode}: see {log}")
        if healthy(host, port):
            return public_url(apps, host, port)
        time.sleep(0.5)
    stop_apps_server(settings)
    raise AppsError(
        f"the Streamlit app did not answer on {_probe_url(host, port)} within {timeout:.0f} s: see {log}"
    )


def stop_apps_server(settings: Settings | None = None) -> bool:
    """Stop an app started by :func:`start_apps_server`; False when none was running."""
    pid_file = _pid_file(settings or get_settings())
    if not pid_file.is_file():
        return False
    pid = int(pid_file.read_text().strip() or 0)
    pid_file.unlink()
    if pid <= 0:
        return False
    try:
        os.killpg(pid, signal.SIGTERM)  # its own session
    except (ProcessLookupError, PermissionError):
        return False
    for _ in range(40):
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.25)
    os.killpg(pid, signal.SIGKILL)
    return True


@app.command("serve")
def serve_command(
    host: Annotated[
        Optional[str], typer.Option(help="Interface (default HEIMDALL_APPS_HOST, 127.0.0.1).")
    ] = None,
    port: Annotated[Optional[int], typer.Option(help="Port (default HEIMDALL_APPS_PORT, 8501).")] = None,
    background: Annotated[
        bool, typer.Option("--background", help="Detach; `heimdall apps stop` ends it.")
    ] = False,
) -> None:
    """Serve the investigation tools (Streamlit) on 127.0.0.1 and the configured port."""
    settings, apps = get_settings(), get_apps_settings()
    host, port = host or apps.host, port or apps.port
    if background:
        url = start_apps_server(settings, apps, host=host, port=port)
        console.print(f"Investigation tools running at {url} (log: {state_dir(settings) / 'server.log'})")
        return
    if healthy(host, port):
        raise AppsError(
            f"something already answers on {_probe_url(host, port)}: `heimdall apps stop` or --port"
        )
    warehouse_url = ready_warehouse(settings).url
    env = app_environment(settings, apps, prepare_login(settings, apps, warehouse_url))
    console.print(
        f"Investigation tools at {public_url(apps, host, port)} (Ctrl-C stops them)", soft_wrap=True
    )
    process = subprocess.Popen(streamlit_command(host, port), env=env, cwd=state_dir(settings))
    try:
        sys.exit(process.wait())
    except KeyboardInterrupt:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)


@app.command("stop")
def stop_command() -> None:
    """Stop the app started with `heimdall apps serve --background` (or by the demo)."""
    console.print("stopped" if stop_apps_server(get_settings()) else "not running")


@app.command("url")
def url_command() -> None:
    """Where the app is served (the Investigator takes `?issue=KEY`)."""
    apps = get_apps_settings()
    console.print(public_url(apps, apps.host, apps.port))
