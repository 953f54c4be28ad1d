"""Run dbt against the configured warehouse; users never edit a profiles.yml."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict

from warehouse.errors import HeimdallError
from warehouse.settings import Settings, get_settings

PROFILE_TEMPLATE = """\
# Written by `heimdall build`; regenerated on every run. Secrets come from the environment.
heimdall:
  target: dev
  outputs:
    dev:
      type: postgres
      host: "{{{{ env_var('HEIMDALL_DB_HOST') }}}}"
      port: "{{{{ env_var('HEIMDALL_DB_PORT') | as_number }}}}"
      user: "{{{{ env_var('HEIMDALL_DB_USER') }}}}"
      password: "{{{{ env_var('HEIMDALL_DB_PASSWORD', '') }}}}"
      dbname: "{{{{ env_var('HEIMDALL_DB_NAME') }}}}"
      schema: {schema}
      threads: {threads}
      connect_timeout: 10
"""


class DbtError(HeimdallError):
    pass


def dbt_executable() -> str:
    candidate = Path(sys.executable).parent / "dbt"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("dbt")
    if not found:
        raise DbtError("dbt is not installed in this environment: run `make setup`")
    return found


def dbt_environment(url: str) -> dict[str, str]:
    """Connection settings for the generated profile, as environment variables."""
    info = conninfo_to_dict(url)
    return {
        "HEIMDALL_DB_HOST": str(info.get("host") or "localhost"),
        "HEIMDALL_DB_PORT": str(info.get("port") or "5432"),
        "HEIMDALL_DB_USER": str(info.get("user") or "postgres"),
        "HEIMDALL_DB_PASSWORD": str(info.get("password") or ""),
        "HEIMDALL_DB_NAME": str(info.get("dbname") or "postgres"),
    }


def write_profiles(settings: Settings) -> Path:
    profiles_dir = settings.home / "dbt-profiles"
    profiles_dir.mkdir(parents=True, exist_ok=True)
    profile = PROFILE_TEMPLATE.format(schema=settings.dbt_target_schema, threads=settings.dbt_threads)
    (profiles_dir / "profiles.yml").write_text(profile)
    return profiles_dir


def run_dbt(
    args: list[str], url: str, settings: Settings | None = None, *, capture: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run ``dbt <args>`` in the project dir against ``url``; raises DbtError on failure."""
    settings = settings or get_settings()
    profiles_dir = write_profiles(settings)
    env = {**os.environ, **dbt_environment(url), "DBT_PROFILES_DIR": str(profiles_dir)}
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    command = [dbt_executable(), *args, "--project-dir", str(settings.dbt_project_dir)]
    completed = subprocess.run(
        command,
        cwd=settings.dbt_project_dir,
        env=env,
        text=True,
        capture_output=capture,
        check=False,
    )
    if completed.returncode != 0:
        detail = ""
        if capture:
            detail = "\n" + _tail(completed.stdout + completed.stderr)
        raise DbtError(f"dbt {' '.join(args)} failed (exit {completed.returncode}){detail}")
    return completed


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])
