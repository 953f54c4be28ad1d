"""All Heimdall settings, read from the environment (and an optional ``.env``) in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parent.parent


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
    return Settings(
        home=home,
        database_url=os.environ.get("HEIMDALL_DATABASE_URL") or None,
        dbt_project_dir=Path(os.environ.get("HEIMDALL_DBT_DIR", PROJECT_ROOT / "dbt")).resolve(),
        dbt_target_schema=os.environ.get("HEIMDALL_DBT_SCHEMA", "marts"),
        dbt_threads=int(os.environ.get("HEIMDALL_DBT_THREADS", "2")),
        roi_baseline_weeks=int(os.environ.get("HEIMDALL_ROI_BASELINE_WEEKS", "6")),
        bootstrap_resamples=int(os.environ.get("HEIMDALL_BOOTSTRAP_RESAMPLES", "2000")),
    )
