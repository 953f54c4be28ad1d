"""The organisation Guarded Ask's database tests run on, and its ask login.

The shared generated organisation of tests/reports/test_weekly_report.py (scenario intervention_planted.yml,
seed 7, small, as_of 2026-11-20, the whole project built), so a session that runs both builds it once. It is
read only: these tests create login roles (server-wide, dropped afterwards) and write nothing in its
database."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from insights.ask.execute import ask_login_url
from tests.support import GeneratedOrg
from warehouse.settings import PROJECT_ROOT, ApiSettings, Settings

SCENARIO = PROJECT_ROOT / "tests" / "scenarios" / "intervention_planted.yml"
AS_OF = date(2026, 11, 20)
ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts" / "ask"


@dataclass
class AskOrg:
    org: GeneratedOrg
    owner_url: str  # the warehouse owner's URL (tests' own SQL)
    server_url: str  # the server's admin URL
    login: str  # the ask login (member of heimdall_ask)
    login_url: str  # libpq URL signing in as ``login``
    home: Path

    def query(self, statement: str, params: object = None) -> list[dict]:
        return self.org.query(statement, params)


def new_login(prefix: str = "heimdall_asker_t") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def drop_login(server_url: str, login: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as admin, contextlib.suppress(psycopg.Error):
        admin.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(login)))


@pytest.fixture(scope="session")
def ask_org(
    generated_org: Callable[..., GeneratedOrg], pg_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AskOrg]:
    # the whole project, as the weekly report's tests ask for it: built once, under the fixture's lock, and
    # never again while these tests watch the database for writes
    org = generated_org(SCENARIO, seed=7, as_of=AS_OF, models=None)
    home = tmp_path_factory.mktemp("ask_home")
    login = new_login()
    url = org.warehouse.url
    login_url = ask_login_url(Settings(home=home, database_url=url), ApiSettings(login=login), url)
    yield AskOrg(org, url, pg_server_url, login, login_url, home)
    drop_login(pg_server_url, login)
