"""Where the warehouse lives: an embedded PostgreSQL (pgserver) or the server in HEIMDALL_DATABASE_URL."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import psycopg

from warehouse.errors import HeimdallError
from warehouse.settings import Settings, get_settings

# pgserver logs every start at INFO; keep the terminal quiet.
logging.getLogger("pgserver").setLevel(logging.WARNING)
# platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); pgserver copes by itself.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


class WarehouseError(HeimdallError):
    """A warehouse problem the user can act on (the message says how)."""


@dataclass(frozen=True)
class WarehouseStatus:
    embedded: bool
    running: bool
    location: str


def _embedded_server(pgdata: Path):  # type: ignore[no-untyped-def]
    import pgserver

    pgdata.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process until `heimdall db stop`.
    return pgserver.get_server(pgdata, cleanup_mode=None)


def database_url(settings: Settings | None = None, *, start: bool = True) -> str:
    """The libpq URL of the warehouse, starting the embedded server if needed."""
    settings = settings or get_settings()
    if settings.database_url:
        return settings.database_url
    if not start and not embedded_running(settings.pgdata):
        raise WarehouseError("the embedded warehouse is not running: run `heimdall db start`")
    return str(_embedded_server(settings.pgdata).get_uri())


def embedded_running(pgdata: Path) -> bool:
    if not (pgdata / "postmaster.pid").exists():
        return False
    from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    return bool(info is not None and info.is_running())


def stop_embedded(settings: Settings | None = None) -> bool:
    """Stop the embedded server. Returns False if it was not running."""
    settings = settings or get_settings()
    if not embedded_running(settings.pgdata):
        return False
    # pg_ctl is generated at import time for each bundled binary, so type checkers cannot see it.
    from pgserver._commands import pg_ctl  # type: ignore[attr-defined]

    pg_ctl(["-w", "stop"], pgdata=settings.pgdata, user="pgserver" if _is_root() else None)
    return True


def _is_root() -> bool:
    import os

    return hasattr(os, "geteuid") and os.geteuid() == 0


def status(settings: Settings | None = None) -> WarehouseStatus:
    settings = settings or get_settings()
    if settings.database_url:
        try:
            with psycopg.connect(settings.database_url, connect_timeout=5) as conn:
                conn.execute("select 1")
            running = True
        except psycopg.Error:
            running = False
        return WarehouseStatus(embedded=False, running=running, location="HEIMDALL_DATABASE_URL")
    return WarehouseStatus(
        embedded=True, running=embedded_running(settings.pgdata), location=str(settings.pgdata)
    )


def psql_binary(settings: Settings | None = None) -> str:
    """The psql to use: pgserver's own for the embedded warehouse, else the one on PATH."""
    settings = settings or get_settings()
    if settings.uses_embedded_postgres:
        from pgserver._commands import POSTGRES_BIN_PATH

        return str(Path(POSTGRES_BIN_PATH) / "psql")
    return "psql"


def connect(url: str | None = None, **kwargs: object) -> psycopg.Connection:
    """Open a psycopg connection to the warehouse."""
    try:
        return psycopg.connect(url or database_url(), **kwargs)  # type: ignore[arg-type]
    except psycopg.OperationalError as exc:
        raise WarehouseError(f"cannot connect to the warehouse: {exc}") from exc
