"""All Heimdall settings, read from the environment (and an optional ``.env``) and validated in one place.

Every setting is an environment variable (listed in docs/operations.md). A value that does not validate
stops the command with a :class:`~warehouse.errors.SettingsError` naming the variable; secrets are
never part of a repr, a log line or an error message.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

from dotenv import load_dotenv
from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from warehouse.errors import SettingsError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

CommaList = Annotated[tuple[str, ...], NoDecode]


def _alias(env_name: str) -> AliasChoices:
    """Read the field from ``env_name`` (keyword construction by field name still works)."""
    return AliasChoices(env_name)


def _split_list(value: Any) -> Any:
    """``"A, B,,C"`` → ``("A", "B", "C")``; sequences pass through."""
    if isinstance(value, str):
        return tuple(item.strip() for item in value.split(",") if item.strip())
    return value


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value.strip() if isinstance(value, str) else value


class _Section(BaseSettings):
    """Common behaviour: immutable, extra variables ignored, blank values mean "not set"."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class JiraSettings(_Section):
    """Jira Cloud connector settings (HEIMDALL_JIRA_*). The token is never printed."""

    model_config = SettingsConfigDict(env_prefix="HEIMDALL_JIRA_")

    base_url: str | None = Field(default=None, validation_alias=AliasChoices("HEIMDALL_JIRA_URL", "base_url"))
    email: str | None = None
    api_token: str | None = Field(default=None, repr=False)
    projects: CommaList = ()
    boards: CommaList = ()
    webhook_secret: str | None = Field(default=None, repr=False)
    # Unsigned Jira webhooks are refused unless this is set (local testing only).
    allow_unsigned_webhooks: bool = False
    # Custom-field ids; None = the dbt project's var of the same meaning (jira_sprint_field, ...), so the
    # connector asks for the fields dbt reads. Set with HEIMDALL_JIRA_SPRINT_FIELD etc.
    sprint_field: str | None = None
    flagged_field: str | None = None
    team_field: str | None = None

    _lists = field_validator("projects", "boards", mode="before")(_split_list)
    _blanks = field_validator(
        "base_url",
        "email",
        "api_token",
        "webhook_secret",
        "sprint_field",
        "flagged_field",
        "team_field",
        mode="before",
    )(_blank_to_none)

    @property
    def is_configured(self) -> bool:
        return bool(self.base_url and self.email and self.api_token and self.projects)


class GitlabSettings(_Section):
    """GitLab connector settings (HEIMDALL_GITLAB_*). The tokens are never printed."""

    model_config = SettingsConfigDict(env_prefix="HEIMDALL_GITLAB_")

    base_url: str = Field(
        default="https://gitlab.com", validation_alias=AliasChoices("HEIMDALL_GITLAB_URL", "base_url")
    )
    token: str | None = Field(default=None, repr=False)
    projects: CommaList = ()
    group: str | None = None
    webhook_secret: str | None = Field(default=None, repr=False)
    signing_secret: str | None = Field(default=None, repr=False)

    _lists = field_validator("projects", mode="before")(_split_list)
    _blanks = field_validator("token", "group", "webhook_secret", "signing_secret", mode="before")(
        _blank_to_none
    )

    @field_validator("base_url", mode="before")
    @classmethod
    def _default_url(cls, value: Any) -> Any:
        return _blank_to_none(value) or "https://gitlab.com"

    @property
    def is_configured(self) -> bool:
        return bool(self.token and (self.projects or self.group))


class ConnectorSettings(_Section):
    """Behaviour shared by the connectors and the webhook intake."""

    concurrency: int = Field(
        default=4, ge=1, le=64, validation_alias=_alias("HEIMDALL_CONNECTOR_CONCURRENCY")
    )
    overlap_minutes: int = Field(default=10, ge=0, validation_alias=_alias("HEIMDALL_SYNC_OVERLAP_MINUTES"))
    page_size: int = Field(
        default=100, ge=1, le=1000, validation_alias=_alias("HEIMDALL_CONNECTOR_PAGE_SIZE")
    )
    max_attempts: int = Field(
        default=6, ge=1, le=50, validation_alias=_alias("HEIMDALL_CONNECTOR_MAX_ATTEMPTS")
    )
    webhook_max_body_bytes: int = Field(
        default=5 * 1024 * 1024, ge=1024, validation_alias=_alias("HEIMDALL_WEBHOOK_MAX_BODY_BYTES")
    )
    webhook_tolerance_seconds: int = Field(
        default=300, ge=1, validation_alias=_alias("HEIMDALL_WEBHOOK_TOLERANCE_SECONDS")
    )
    # The longest Retry-After the connectors will wait before giving up on a request (documented cap).
    retry_after_max_seconds: int = Field(
        default=900, ge=1, validation_alias=_alias("HEIMDALL_CONNECTOR_RETRY_AFTER_MAX_SECONDS")
    )


class Settings(_Section):
    """Resolved settings. Build with :func:`get_settings`; never log ``database_url`` raw."""

    model_config = SettingsConfigDict(env_prefix="HEIMDALL_")

    home: Path = PROJECT_ROOT / ".heimdall"
    database_url: str | None = Field(default=None, repr=False)
    dbt_project_dir: Path = Field(
        default=PROJECT_ROOT / "dbt", validation_alias=AliasChoices("HEIMDALL_DBT_DIR", "dbt_project_dir")
    )
    dbt_target_schema: str = Field(
        default="marts", validation_alias=AliasChoices("HEIMDALL_DBT_SCHEMA", "dbt_target_schema")
    )
    dbt_threads: int = Field(default=2, ge=1, le=32)
    # None: the dbt project's var of the same name (one setting for dbt and the verification step).
    roi_baseline_weeks: int | None = Field(default=None, ge=1, le=52)
    bootstrap_resamples: int = Field(default=2000, ge=100, le=100_000)
    jira: JiraSettings = Field(default_factory=JiraSettings)
    gitlab: GitlabSettings = Field(default_factory=GitlabSettings)
    connectors: ConnectorSettings = Field(default_factory=ConnectorSettings)

    _blanks = field_validator("database_url", "roi_baseline_weeks", mode="before")(_blank_to_none)

    @field_validator("home", "dbt_project_dir", mode="after")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

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
    """The settings of this process (environment and ``.env``), validated once."""
    _load_env_file()
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    """One line per bad setting, naming its environment variable; the rejected value is not repeated
    (it may be a secret)."""
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        field = ".".join(str(part) for part in error["loc"])
        lines.append(f"{_env_name(field)}: {error['msg']}")
    return "invalid settings:\n  " + "\n  ".join(lines)


def _env_name(field: str) -> str:
    if field.upper().startswith("HEIMDALL_"):
        return field.upper()
    names = {"dbt_project_dir": "HEIMDALL_DBT_DIR", "dbt_target_schema": "HEIMDALL_DBT_SCHEMA"}
    return names.get(field, "HEIMDALL_" + field.upper())


class SupersetSettings(_Section):
    """Superset dashboards (HEIMDALL_SUPERSET_*): where Superset runs, its admin login and its metadata
    database, the login Superset reads the marts with, and where issue links point. Read with
    :func:`get_superset_settings`; secrets are never part of a repr."""

    model_config = SettingsConfigDict(env_prefix="HEIMDALL_SUPERSET_")

    # Superset 6.1's own virtualenv (`make superset-venv`; it pins SQLAlchemy 1.4 and pandas 2.1).
    venv: Path = PROJECT_ROOT / ".venv-superset"
    config_path: Path = PROJECT_ROOT / "superset" / "superset_config.py"
    assets_dir: Path = PROJECT_ROOT / "superset" / "assets"
    host: str = "127.0.0.1"
    port: int = Field(default=8088, ge=1, le=65535)
    # Threads of the single gunicorn worker (in-process caches need one worker).
    threads: int = Field(default=8, ge=1, le=64)
    admin_username: str = "admin"
    # None: generated once, printed when generated, kept in HEIMDALL_HOME/superset/admin_password (0600).
    admin_password: str | None = Field(default=None, repr=False)
    # None: SUPERSET_SECRET_KEY, else generated once into HEIMDALL_HOME/superset/secret_key (0600).
    secret_key: str | None = Field(
        default=None,
        repr=False,
        validation_alias=AliasChoices("HEIMDALL_SUPERSET_SECRET_KEY", "SUPERSET_SECRET_KEY", "secret_key"),
    )
    # Superset's metadata: this database on the warehouse's server, unless metadata_url names another.
    metadata_database: str = Field(default="superset", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    metadata_url: str | None = Field(default=None, repr=False)
    # The login role Superset reads the marts with (member of heimdall_reader; password generated).
    reader_login: str = Field(default="heimdall_superset", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    # Streamlit Issue Investigator: table rows naming an issue link to `<url>?issue=KEY`.
    investigator_url: str = "http://127.0.0.1:8501/"
    # Where users reach Superset (printed, used in links); None: http://host:port.
    public_url: str | None = None

    _blanks = field_validator("admin_password", "secret_key", "metadata_url", "public_url", mode="before")(
        _blank_to_none
    )

    @field_validator("venv", "config_path", "assets_dir", mode="after")
    @classmethod
    def _absolute_path(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("investigator_url", "public_url", mode="after")
    @classmethod
    def _plain_http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL")
        if any(char in value for char in "'\"<>` \\"):
            raise ValueError("must not contain quotes, angle brackets, backslashes or spaces")
        return value

    @property
    def url(self) -> str:
        """Where Superset is served."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


@lru_cache(maxsize=1)
def get_superset_settings() -> SupersetSettings:
    """The Superset settings of this process (environment and ``.env``), validated once."""
    _load_env_file()
    try:
        return SupersetSettings()
    except ValidationError as exc:
        lines = []
        for error in exc.errors(include_input=False, include_url=False):
            field = str(error["loc"][0]).upper() if error["loc"] else ""
            name = field if field.startswith(("HEIMDALL_", "SUPERSET_")) else f"HEIMDALL_SUPERSET_{field}"
            lines.append(f"{name}: {error['msg']}")
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None


class AppsSettings(_Section):
    """The Streamlit investigation tools (HEIMDALL_APPS_*): where `heimdall apps serve` listens, the login
    the app
    reads the marts (and records decisions) with, and how long query results are cached. Read with
    :func:`get_apps_settings`."""

    model_config = SettingsConfigDict(env_prefix="HEIMDALL_APPS_")

    host: str = "127.0.0.1"
    port: int = Field(default=8501, ge=1, le=65535)
    # The login role the app signs in with (member of heimdall_apps, migration 0014; password generated).
    login: str = Field(default="heimdall_streamlit", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    # How long a query result is reused (seconds): marts change once per build.
    cache_ttl_seconds: int = Field(default=300, ge=0, le=86_400)
    # Where users reach the app (printed, used in links); None: http://host:port.
    public_url: str | None = None

    _blanks = field_validator("public_url", mode="before")(_blank_to_none)

    @field_validator("public_url", mode="after")
    @classmethod
    def _plain_http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL")
        return value

    @property
    def url(self) -> str:
        """Where the app is served."""
        shown = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return (self.public_url or f"http://{shown}:{self.port}").rstrip("/")


@lru_cache(maxsize=1)
def get_apps_settings() -> AppsSettings:
    """The Streamlit app settings of this process (environment and ``.env``), validated once."""
    _load_env_file()
    try:
        return AppsSettings()
    except ValidationError as exc:
        lines = []
        for error in exc.errors(include_input=False, include_url=False):
            field = str(error["loc"][0]).upper() if error["loc"] else ""
            name = field if field.startswith("HEIMDALL_") else f"HEIMDALL_APPS_{field}"
            lines.append(f"{name}: {error['msg']}")
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None


class ApiSettings(_Section):
    """Guarded Ask and the read-only HTTP API (HEIMDALL_API_*): where `heimdall api serve` listens, the login
    role `heimdall ask` and the API sign in with (member of heimdall_ask, migration 0015), and the limits of a
    question. Read with :func:`get_api_settings`."""

    model_config = SettingsConfigDict(env_prefix="HEIMDALL_API_")

    host: str = "127.0.0.1"
    port: int = Field(default=8600, ge=1, le=65535)
    # The login role questions run as (member of heimdall_ask; password generated under HEIMDALL_HOME/ask).
    login: str = Field(default="heimdall_asker", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    # A request body larger than this is refused with 413 (a question itself is capped at 500 characters).
    max_body_bytes: int = Field(default=256 * 1024, ge=1024, le=16 * 1024 * 1024)
    # statement_timeout of the one template a question runs (set locally in its read-only transaction).
    statement_timeout_seconds: int = Field(default=5, ge=1, le=60)


@lru_cache(maxsize=1)
def get_api_settings() -> ApiSettings:
    """The Guarded Ask / API settings of this process (environment and ``.env``), validated once."""
    _load_env_file()
    try:
        return ApiSettings()
    except ValidationError as exc:
        lines = []
        for error in exc.errors(include_input=False, include_url=False):
            field = str(error["loc"][0]).upper() if error["loc"] else ""
            name = field if field.startswith("HEIMDALL_") else f"HEIMDALL_API_{field}"
            lines.append(f"{name}: {error['msg']}")
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None
