"""All Heimdall settings, read from the environment (and an optional ``.env``) in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class JiraSettings:
    """Jira Cloud connector settings (HEIMDALL_JIRA_*). The token is never printed."""

    base_url: str | None = None
    email: str | None = None
    api_token: str | None = field(default=None, repr=False)
    projects: tuple[str, ...] = ()
    boards: tuple[str, ...] = ()
    webhook_secret: str | None = field(default=None, repr=False)

    @property
    def is_configured(self) -> bool:
        return bool(self.base_url and self.email and self.api_token and self.projects)


@dataclass(frozen=True)
class GitlabSettings:
    """GitLab connector settings (HEIMDALL_GITLAB_*). The token is never printed."""

    base_url: str = "https://gitlab.com"
    token: str | None = field(default=None, repr=False)
    projects: tuple[str, ...] = ()
    group: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    signing_secret: str | None = field(default=None, repr=False)

    @property
    def is_configured(self) -> bool:
        return bool(self.token and (self.projects or self.group))


@dataclass(frozen=True)
class ConnectorSettings:
    """Behaviour shared by the connectors and the webhook intake."""

    concurrency: int = 4
    overlap_minutes: int = 10
    page_size: int = 100
    max_attempts: int = 6
    webhook_max_body_bytes: int = 5 * 1024 * 1024
    webhook_tolerance_seconds: int = 300


@dataclass(frozen=True)
class Settings:
    """Resolved settings. Build with :func:`get_settings`; never log ``database_url`` raw."""

    home: Path
    database_url: str | None
    dbt_project_dir: Path
    dbt_target_schema: str
    dbt_threads: int
    roi_baseline_weeks: int = 6
    bootstrap_resamples: int = 2000
    jira: JiraSettings = field(default_factory=JiraSettings)
    gitlab: GitlabSettings = field(default_factory=GitlabSettings)
    connectors: ConnectorSettings = field(default_factory=ConnectorSettings)

    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    @property
    def uses_embedded_postgres(self) -> bool:
        return self.database_url is None


def redact_url(url: str) -> str:
    """Return ``url`` with any password replaced by ``***`` (safe for logs and terminals)."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _load_env_file() -> None:
    env_file = Path(os.environ.get("HEIMDALL_ENV_FILE", Path.cwd() / ".env"))
    if env_file.is_file():
        load_dotenv(env_file, override=False)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    _load_env_file()
    home = Path(os.environ.get("HEIMDALL_HOME", PROJECT_ROOT / ".heimdall")).resolve()
    dbt_dir = Path(os.environ.get("HEIMDALL_DBT_DIR", PROJECT_ROOT / "dbt")).resolve()
    return Settings(
        home=home,
        database_url=os.environ.get("HEIMDALL_DATABASE_URL") or None,
        dbt_project_dir=dbt_dir,
        dbt_target_schema=os.environ.get("HEIMDALL_DBT_SCHEMA", "marts"),
        dbt_threads=int(os.environ.get("HEIMDALL_DBT_THREADS", "2")),
        roi_baseline_weeks=int(
            _env("HEIMDALL_ROI_BASELINE_WEEKS") or _dbt_var(dbt_dir, "roi_baseline_weeks", 6)
        ),
        bootstrap_resamples=int(os.environ.get("HEIMDALL_BOOTSTRAP_RESAMPLES", "2000")),
        jira=JiraSettings(
            base_url=_env("HEIMDALL_JIRA_URL"),
            email=_env("HEIMDALL_JIRA_EMAIL"),
            api_token=_env("HEIMDALL_JIRA_API_TOKEN"),
            projects=_list("HEIMDALL_JIRA_PROJECTS"),
            boards=_list("HEIMDALL_JIRA_BOARDS"),
            webhook_secret=_env("HEIMDALL_JIRA_WEBHOOK_SECRET"),
        ),
        gitlab=GitlabSettings(
            base_url=_env("HEIMDALL_GITLAB_URL") or "https://gitlab.com",
            token=_env("HEIMDALL_GITLAB_TOKEN"),
            projects=_list("HEIMDALL_GITLAB_PROJECTS"),
            group=_env("HEIMDALL_GITLAB_GROUP"),
            webhook_secret=_env("HEIMDALL_GITLAB_WEBHOOK_SECRET"),
            signing_secret=_env("HEIMDALL_GITLAB_SIGNING_SECRET"),
        ),
        connectors=ConnectorSettings(
            concurrency=int(_env("HEIMDALL_CONNECTOR_CONCURRENCY") or 4),
            overlap_minutes=int(_env("HEIMDALL_SYNC_OVERLAP_MINUTES") or 10),
            page_size=int(_env("HEIMDALL_CONNECTOR_PAGE_SIZE") or 100),
            max_attempts=int(_env("HEIMDALL_CONNECTOR_MAX_ATTEMPTS") or 6),
            webhook_max_body_bytes=int(_env("HEIMDALL_WEBHOOK_MAX_BODY_BYTES") or 5 * 1024 * 1024),
            webhook_tolerance_seconds=int(_env("HEIMDALL_WEBHOOK_TOLERANCE_SECONDS") or 300),
        ),
    )


def _dbt_var(dbt_dir: Path, name: str, default: int) -> int:
    """A var of dbt_project.yml, so Python and dbt read one setting (e.g. the ROI baseline window)."""
    import yaml

    try:
        project = yaml.safe_load((dbt_dir / "dbt_project.yml").read_text())
        return int(project.get("vars", {}).get(name, default))
    except (OSError, ValueError, TypeError, AttributeError, yaml.YAMLError):
        return default


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def _list(name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in os.environ.get(name, "").split(",") if item.strip())
