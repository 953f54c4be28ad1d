"""Running a compiled question: one allowlisted template, its parameters bound, in a read-only transaction
with a statement timeout, at most ``ROW_CAP`` rows fetched.

Every statement this module sends goes through :func:`_send`, which tells the registered observers (tests use
:func:`observe_statements` to prove that only templates run) what was sent, on which backend. The statements
are
exactly: ``begin transaction read only``, one ``set_config('statement_timeout', ...)``, the three catalog
statements below, the intent's template, ``rollback``.

Questions run as a login role that is a member of ``heimdall_ask`` (migration 0015: SELECT on ``marts`` only,
read-only sessions), created by :func:`ask_login_url` with a password generated on this machine. The Streamlit
Ask page runs the same function on its own connection (the app's login, member of ``heimdall_apps``, which
reads the same marts), so the transaction, timeout and row cap are the same there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
from psycopg import pq
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

from insights.ask.compiler import Plan, Refusal, compile_question
from insights.ask.parse import Catalog, Sprint, Team
from warehouse.errors import HeimdallError
from warehouse.reader_role import ASK_ROLE, ensure_reader_login, stored_secret
from warehouse.settings import ApiSettings, Settings

ROW_CAP = 1000  # never more rows than this from one statement (templates also carry their own limit)
STATEMENT_TIMEOUT_MS = 5000

BEGIN = "begin transaction read only"
SET_TIMEOUT = "select set_config('statement_timeout', %(timeout)s, true)"
ROLLBACK = "rollback"
CATALOG_TEAMS = "select team_id, team_name from marts.dim_teams order by team_id"
CATALOG_TODAY = "select max(date_day) as today from marts.dim_dates"
CATALOG_SPRINTS = """
select
    sprints.sprint_name,
    sprints.team_id,
    (sprints.started_at at time zone 'utc')::date as start_day,
    (coalesce(sprints.completed_at, sprints.planned_end_at, sprints.started_at) at time zone 'utc')::date
        as end_day
from marts.dim_sprints as sprints
where sprints.started_at is not null and sprints.sprint_name is not null
order by sprints.started_at, sprints.sprint_name
""".strip()
CONTROL_STATEMENTS = (BEGIN, SET_TIMEOUT, ROLLBACK)
CATALOG_STATEMENTS = (CATALOG_TEAMS, CATALOG_TODAY, CATALOG_SPRINTS)

Observer = Callable[[int, str, Mapping[str, Any] | None], None]
_observers: list[Observer] = []


class AskError(HeimdallError):
    """A question could not be run (the warehouse is unreachable, the marts are not built, a timeout)."""


@dataclass(frozen=True)
class Answer:
    """An answered question: what was understood, the SQL that ran, what was bound and what came back."""

    question: str
    intent: str
    title: str
    parameters: dict[str, Any]
    sql: str
    bound: dict[str, Any]
    columns: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]
    reading: str
    truncated: bool = False


@contextlib.contextmanager
def observe_statements(observer: Observer) -> Iterator[None]:
    """Call ``observer(backend_pid, statement, params)`` for every statement sent while the block runs."""
    _observers.append(observer)
    try:
        yield
    finally:
        _observers.remove(observer)


def _send(
    conn: psycopg.Connection, statement: str, params: Mapping[str, Any] | None = None
) -> psycopg.Cursor[dict[str, Any]]:
    for observer in list(_observers):
        observer(conn.info.backend_pid, statement, params)
    cursor = conn.cursor(row_factory=dict_row)
    cursor.execute(statement, params, prepare=False)
    return cursor


@contextlib.contextmanager
def read_only(
    conn: psycopg.Connection, timeout_ms: int = STATEMENT_TIMEOUT_MS
) -> Iterator[psycopg.Connection]:
    """A read-only transaction with a local statement timeout on ``conn``, always rolled back. The
    connection's autocommit setting is restored afterwards (the Streamlit app's pooled connections are not
    autocommit)."""
    if conn.info.transaction_status != pq.TransactionStatus.IDLE:
        conn.rollback()
    was_autocommit = conn.autocommit
    conn.autocommit = True  # transaction control below is explicit, so every statement is ours
    try:
        _send(conn, BEGIN)
        _send(conn, SET_TIMEOUT, {"timeout": str(int(timeout_ms))})
        yield conn
    finally:
        try:
            if not conn.closed:
                _send(conn, ROLLBACK)
        finally:
            if not conn.closed and conn.info.transaction_status == pq.TransactionStatus.IDLE:
                conn.autocommit = was_autocommit


def load_catalog(conn: psycopg.Connection) -> Catalog:
    """The teams, sprints and today of the warehouse (inside :func:`read_only`)."""
    teams = tuple(
        Team(row["team_id"], row["team_name"] or row["team_id"]) for row in _send(conn, CATALOG_TEAMS)
    )
    today_row = _send(conn, CATALOG_TODAY).fetchone()
    today = today_row["today"] if today_row and today_row["today"] else date.today()
    sprints = tuple(
        Sprint(row["sprint_name"], row["team_id"], row["start_day"], row["end_day"])
        for row in _send(conn, CATALOG_SPRINTS)
    )
    return Catalog(teams=teams, today=today, sprints=sprints)


def run_plan(conn: psycopg.Connection, plan: Plan) -> Answer:
    """Run ``plan``'s template (inside :func:`read_only`) and read the answer."""
    cursor = _send(conn, plan.intent.sql, plan.bound)
    rows = [dict(row) for row in cursor.fetchmany(ROW_CAP + 1)]
    truncated = len(rows) > ROW_CAP
    rows = rows[:ROW_CAP]
    columns = tuple(column.name for column in cursor.description or ())
    return Answer(
        question=plan.question,
        intent=plan.intent.name,
        title=plan.intent.title,
        parameters=dict(plan.parameters),
        sql=plan.sql,
        bound=dict(plan.bound),
        columns=columns,
        rows=tuple(rows),
        reading=plan.intent.reading(rows, plan.parameters),
        truncated=truncated,
    )


def ask(
    conn: psycopg.Connection, question: Any, *, timeout_ms: int = STATEMENT_TIMEOUT_MS
) -> Answer | Refusal:
    """Answer ``question`` on ``conn``: catalog, compile, run, all in one read-only transaction. A refusal is
    returned, not raised; a database problem raises :class:`AskError`."""
    try:
        with read_only(conn, timeout_ms):
            catalog = load_catalog(conn)
            plan = compile_question(question, catalog)
            if isinstance(plan, Refusal):
                return plan
            return run_plan(conn, plan)
    except psycopg.errors.QueryCanceled:
        raise AskError(f"the question took longer than {timeout_ms / 1000:g} s and was cancelled") from None
    except psycopg.errors.UndefinedTable:
        raise AskError("the marts are not built yet: run `heimdall build` (or `make demo`)") from None
    except psycopg.Error as exc:
        raise AskError(
            f"the warehouse could not answer: {type(exc).__name__}: {str(exc).splitlines()[0]}"
        ) from None


def run_intent(
    conn: psycopg.Connection,
    plan_of: Callable[[Catalog], Plan | Refusal],
    timeout_ms: int = STATEMENT_TIMEOUT_MS,
) -> Answer | Refusal:
    """Run a plan built from the catalog by ``plan_of`` (e.g. :func:`insights.ask.compiler.plan_for`)."""
    try:
        with read_only(conn, timeout_ms):
            plan = plan_of(load_catalog(conn))
            if isinstance(plan, Refusal):
                return plan
            return run_plan(conn, plan)
    except psycopg.Error as exc:
        raise AskError(
            f"the warehouse could not answer: {type(exc).__name__}: {str(exc).splitlines()[0]}"
        ) from None


def allowed_statements() -> tuple[str, ...]:
    """Every statement text Guarded Ask may send: transaction control, the catalog and the templates."""
    from insights.ask.intents import INTENTS

    return (*CONTROL_STATEMENTS, *CATALOG_STATEMENTS, *(intent.sql for intent in INTENTS))


def ask_login_url(settings: Settings, api: ApiSettings, warehouse_url: str) -> str:
    """Create or update Guarded Ask's login role (member of heimdall_ask, idempotent) and return a libpq URL
    that signs in as it (holds a password: never print it)."""
    password = stored_secret(settings.home / "ask" / "login_password")
    with psycopg.connect(warehouse_url) as conn:
        ensure_reader_login(conn, api.login, password, group=ASK_ROLE)
    return make_conninfo(warehouse_url, user=api.login, password=password)


def connect_as_asker(url: str) -> psycopg.Connection:
    try:
        return psycopg.connect(url, autocommit=True, application_name="heimdall-ask")
    except psycopg.OperationalError as exc:
        raise AskError(
            f"cannot connect to the warehouse as the ask login: {str(exc).splitlines()[0]}"
        ) from None


def normalised_sql(statement: str) -> str:
    """A statement's text with whitespace collapsed (to compare what ran with the templates)."""
    return " ".join(statement.split())


__all__: Sequence[str] = (
    "ROW_CAP",
    "Answer",
    "AskError",
    "allowed_statements",
    "ask",
    "ask_login_url",
    "load_catalog",
    "observe_statements",
    "read_only",
    "run_plan",
)
