"""The one error printer: every HeimdallError ends as one `error:` line and an exit code, never a traceback,
and never with a secret in it; settings are validated in one place."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from warehouse.errors import HeimdallError, SettingsError
from warehouse.settings import GitlabSettings, JiraSettings, Settings, get_settings

HEIMDALL = str(Path(sys.executable).parent / "heimdall")


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HEIMDALL_")}
    return subprocess.run(
        [HEIMDALL, *args], env={**clean, "COLUMNS": "200", **env}, capture_output=True, text=True, check=False
    )


def test_a_bad_setting_names_the_variable_without_a_traceback(tmp_path: Path) -> None:
    done = run("db", "url", HEIMDALL_HOME=str(tmp_path), HEIMDALL_DBT_THREADS="lots")
    assert done.returncode == 1
    assert done.stderr.startswith("error: invalid settings")
    assert "HEIMDALL_DBT_THREADS" in done.stderr and "Traceback" not in done.stderr + done.stdout


def test_an_unreachable_database_is_one_error_line_without_the_password(tmp_path: Path) -> None:
    url = "postgresql://heimdall:top-s3cret@127.0.0.1:9/heimdall?connect_timeout=2"
    done = run("db", "migrate", HEIMDALL_HOME=str(tmp_path), HEIMDALL_DATABASE_URL=url)
    assert done.returncode == 1
    assert done.stderr.startswith("error:") and "Traceback" not in done.stderr
    assert "top-s3cret" not in done.stderr + done.stdout


def test_a_bad_option_value_is_a_usage_error(tmp_path: Path) -> None:
    done = run("generate", "--as-of", "2026-13-01", HEIMDALL_HOME=str(tmp_path))
    assert done.returncode == 2
    assert "error: --as-of must be a date like 2026-11-20, got '2026-13-01'" in done.stderr


def test_settings_are_validated_once_and_hide_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEIMDALL_JIRA_PROJECTS", " PAY, OPS ,,")
    monkeypatch.setenv("HEIMDALL_JIRA_API_TOKEN", "jira-t0ken")
    monkeypatch.setenv("HEIMDALL_GITLAB_TOKEN", "glpat-t0ken")
    monkeypatch.setenv("HEIMDALL_GITLAB_URL", " ")
    monkeypatch.setenv("HEIMDALL_DATABASE_URL", "postgresql://u:db-pw@h/d")
    get_settings.cache_clear()
    try:
        settings = get_settings()
        assert settings.jira.projects == ("PAY", "OPS")
        assert settings.gitlab.base_url == "https://gitlab.com"  # blank means unset
        assert settings.jira.api_token == "jira-t0ken"
        shown = repr(settings) + str(settings)
        for secret in ("jira-t0ken", "glpat-t0ken", "db-pw"):
            assert secret not in shown
        monkeypatch.setenv("HEIMDALL_CONNECTOR_CONCURRENCY", "0")
        get_settings.cache_clear()
        with pytest.raises(SettingsError, match="HEIMDALL_CONNECTOR_CONCURRENCY"):
            get_settings()
    finally:
        get_settings.cache_clear()


def test_every_user_facing_error_shares_one_base() -> None:
    from connectors.http import ConnectorError
    from generator.scenario import ScenarioError
    from insights.recommendations import RecommendationError
    from insights.verification import VerificationError
    from warehouse.db import WarehouseError
    from warehouse.dbt_runner import DbtError
    from warehouse.loader import LoadError
    from warehouse.migrate import MigrationError

    for error in (
        ConnectorError,
        ScenarioError,
        RecommendationError,
        VerificationError,
        WarehouseError,
        DbtError,
        LoadError,
        MigrationError,
        SettingsError,
    ):
        assert issubclass(error, HeimdallError), error
    # keyword construction by field name still works (tests and callers build settings directly)
    built = Settings(home=Path("/tmp/x"), jira=JiraSettings(webhook_secret="s"), gitlab=GitlabSettings())
    assert built.jira.webhook_secret == "s" and built.home == Path("/tmp/x")
