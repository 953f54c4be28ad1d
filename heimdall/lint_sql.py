"""``python -m heimdall.lint_sql [sqlfluff args]``: sqlfluff on the SQL dbt really compiles.

The dbt templater compiles every model with the profile ``heimdall build`` writes and needs a reachable
database (it lists relations). With ``HEIMDALL_DATABASE_URL`` set that server is used; otherwise a
throw-away embedded PostgreSQL is started in a temporary folder and removed afterwards, so linting never
touches the demo warehouse. Exit status: sqlfluff's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from warehouse.dbt_runner import dbt_environment, write_profiles
from warehouse.settings import get_settings


@contextmanager
def _lint_database() -> Iterator[str]:
    settings = get_settings()
    if settings.database_url:
        yield settings.database_url
        return
    import warnings

    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import pgserver

    # short path: the server's unix socket lives in its data folder
    with tempfile.TemporaryDirectory(prefix="hl-", dir="/tmp") as folder:
        server = pgserver.get_server(Path(folder) / "pg", cleanup_mode="delete")
        try:
            yield str(server.get_uri())
        finally:
            server.cleanup()


def main(argv: list[str]) -> int:
    settings = get_settings()
    sqlfluff = Path(sys.executable).parent / "sqlfluff"
    with tempfile.TemporaryDirectory(prefix="heimdall-lint-") as home, _lint_database() as url:
        profiles = write_profiles(settings.model_copy(update={"home": Path(home)}))
        env = {**os.environ, **dbt_environment(url), "DBT_PROFILES_DIR": str(profiles)}
        env["DBT_TARGET_PATH"] = str(Path(home) / "target")
        env["DBT_LOG_PATH"] = str(Path(home) / "logs")
        command = [str(sqlfluff), "lint", *(argv or ["models"])]
        return subprocess.call(command, cwd=settings.dbt_project_dir, env=env)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
