"""The Streamlit Ask page (streamlit.testing.v1.AppTest) on the ask organisation, signed in as an app
login (member of heimdall_apps, as `heimdall apps serve` does): an answer shows the intent, the template and
the rows (compared with direct SQL); a refusal is a clear message with examples; a hostile question runs
nothing but templates."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from insights.ask.execute import allowed_statements, observe_statements
from tests.ask.conftest import AskOrg, drop_login, new_login
from warehouse.settings import PROJECT_ROOT, AppsSettings, Settings

APP_SCRIPT = PROJECT_ROOT / "streamlit_apps" / "streamlit_app.py"


@pytest.fixture(scope="module")
def app_url(ask_org: AskOrg, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from heimdall.cli.apps import prepare_login

    login = new_login("heimdall_streamlit_ask")
    home = tmp_path_factory.mktemp("ask_page")
    yield prepare_login(
        Settings(home=home, database_url=ask_org.owner_url), AppsSettings(login=login), ask_org.owner_url
    )
    drop_login(ask_org.server_url, login)


@pytest.fixture
def app_env(app_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("HEIMDALL_APPS_DATABASE_URL", app_url)
    monkeypatch.setenv("HEIMDALL_APPS_CONNECTORS", "jira_cloud=no,gitlab=no,webhook=no")
    yield
    from streamlit_apps.db import connection

    connection().engine.dispose()


def open_ask(question: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP_SCRIPT), default_timeout=90)
    if question is not None:
        at.query_params["q"] = question
    at.run()
    at.switch_page("app_pages/ask.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_page_opens_with_examples(app_env: None) -> None:
    at = open_ask()
    assert [t.value for t in at.title] == ["Ask"]
    assert at.text_input[0].label == "Question"
    assert "Type a question" in at.info[0].value


def test_an_answer_shows_intent_template_and_rows(app_env: None, ask_org: AskOrg) -> None:
    at = open_ask("slowest reviews in payments last month")
    assert [s.value for s in at.subheader] == ["Slowest reviews"]
    assert any("slowest_reviews" in m.value for m in at.markdown)
    assert any("from marts.fct_merge_requests as mrs" in c.value for c in at.code)
    frame = at.dataframe[0].value
    expected = ask_org.query(
        """
        select merge_request_id from marts.fct_merge_requests
        where is_merged and not is_bot_author and review_duration_hours is not null and team_id = 'payments'
          and merged_at >= '2026-10-01' and merged_at < '2026-11-01'
        order by review_duration_hours desc, merge_request_id limit 10
        """
    )
    assert list(frame["merge_request_id"]) == [row["merge_request_id"] for row in expected]
    assert at.success[0].value.startswith("The slowest review in team payments last month")


def test_a_refusal_is_a_clear_message(app_env: None) -> None:
    at = open_ask("slowest reviews in narnia")
    assert "no team called 'narnia'" in at.warning[0].value
    assert not at.dataframe
    assert any("Which tickets waited longest" in m.value for m in at.markdown)


def test_a_hostile_question_runs_only_templates(app_env: None) -> None:
    sent: list[tuple[int, str, Any]] = []
    with observe_statements(lambda *s: sent.append(s)):
        at = open_ask("slowest reviews in checkout'; copy (select 1) to program 'id'; --")
    allowed = allowed_statements()
    assert sent and all(any(statement is template for template in allowed) for _, statement, _ in sent)
    assert [s.value for s in at.subheader] == ["Slowest reviews"]
