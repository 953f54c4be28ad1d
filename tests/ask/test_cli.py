"""`heimdall ask` as a user runs it (a subprocess, the real CLI) on the ask organisation: table, JSON and CSV
output, --show-sql, a refusal's exit status and message; `heimdall api openapi --check`."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ask.conftest import AskOrg, drop_login, new_login
from warehouse.settings import PROJECT_ROOT

HEIMDALL = str(Path(sys.executable).parent / "heimdall")


@pytest.fixture(scope="module")
def env(ask_org: AskOrg, tmp_path_factory: pytest.TempPathFactory):
    login = new_login("heimdall_asker_cli")
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("HEIMDALL_")},
        "HEIMDALL_DATABASE_URL": ask_org.owner_url,
        "HEIMDALL_HOME": str(tmp_path_factory.mktemp("ask_cli")),
        "HEIMDALL_API_LOGIN": login,
        "COLUMNS": "220",
    }
    yield environment
    drop_login(ask_org.server_url, login)


def heimdall(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HEIMDALL, *args], env=env, capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120
    )


def test_a_table_answer_with_its_sql(env: dict[str, str]) -> None:
    done = heimdall(env, "ask", "slowest reviews in payments last month", "--show-sql")
    assert done.returncode == 0, done.stderr
    assert "Slowest reviews (slowest_reviews)" in done.stdout
    assert "team=payments" in done.stdout and "period=last month" in done.stdout
    assert "from marts.fct_merge_requests as mrs" in done.stdout
    assert '-- bound: {"team": "payments"' in done.stdout
    assert "The slowest review in team payments last month" in done.stdout


def test_json_and_csv(env: dict[str, str], ask_org: AskOrg) -> None:
    done = heimdall(env, "ask", "what is in progress right now in checkout?", "--format", "json")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["intent"] == "current_wip" and body["parameters"]["team"] == "checkout"
    expected = ask_org.query(
        "select issue_key from marts.fct_wip_current where team_id = 'checkout' order by age_days desc, "
        "issue_key "
        "limit 10"
    )
    assert [row["issue_key"] for row in body["rows"]] == [row["issue_key"] for row in expected]
    done = heimdall(env, "ask", "top 3 flaky pipelines in platform", "--format", "csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert 0 < len(rows) <= 3 and all(row["team_id"] == "platform" for row in rows)


def test_a_refusal(env: dict[str, str]) -> None:
    done = heimdall(env, "ask", "slowest reviews in narnia")
    assert done.returncode == 3
    assert "refused: team: no team called 'narnia'" in done.stderr
    assert "Which tickets waited longest for review last month in checkout?" in done.stderr
    done = heimdall(env, "ask", "'; drop table marts.dim_teams; --", "--format", "json")
    assert done.returncode == 3
    assert json.loads(done.stdout)["status"] == "refused"


def test_the_committed_openapi_file_is_current(env: dict[str, str]) -> None:
    done = heimdall(env, "api", "openapi", "--check")
    assert done.returncode == 0, done.stderr
