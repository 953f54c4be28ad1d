"""Hostile questions for Guarded Ask and what a test needs to watch the database while they run: the server's
statement log (``log_statement = all`` on the ask login only), the write counters and the reads of every table
outside ``marts``."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from insights.ask.execute import allowed_statements

# what an attacker types where a parameter goes
PAYLOADS: list[str] = [
    "' or '1'='1",
    "' or 1=1 --",
    '" or ""="',
    "'; drop table marts.dim_teams; --",
    "'); drop table app.recommendation_decisions; --",
    "1; delete from app.load_batches",
    "'; select pg_sleep(10); --",
    "pg_sleep(30)",
    "1) or pg_sleep(5)--",
    "'; copy (select '') to program 'touch /tmp/heimdall_pwned'; --",
    "copy marts.dim_teams to program 'id'",
    "$$; copy raw.jira_issues to '/tmp/heimdall_x'; $$",
    "'; insert into app.recommendation_decisions (recommendation_id) values ('x'); --",
    "checkout' union select payload::text, null from raw.jira_issues --",
    "' union select rolpassword from pg_authid --",
    "/* comment */ checkout",
    "checkout -- comment",
    "checkout; --",
    "checkout;",
    "'checkout'",
    '"checkout"',
    "check'out",
    "checkout'); truncate marts.fct_recommendations; --",
    "%(team)s",
    "%s%s%s%s",
    "%(limit)s; drop table x",
    "{team}",
    "{0.__class__.__mro__}",
    "{{7*7}}",
    "{% for x in range(9) %}x{% endfor %}",
    "{{ config.items() }}",
    "${7*7}",
    "#{7*7}",
    "<script>alert(1)</script>",
    "\\x00",
    "\\'; drop table marts.dim_dates; --",
    "e'\\x27'",
    "chr(39) || 'x'",
    "' || pg_read_file('/etc/passwd') || '",
    "lo_import('/etc/passwd')",
    "set role postgres",
    "reset session authorization; drop schema raw cascade",
    "begin; commit; drop table marts.fct_jobs",
    "\\gexec",
    "\\! touch /tmp/heimdall_pwned",
    "dblink_exec('host=evil', 'drop table x')",
    ":team",
    "?",
    "$1",
    "0x27",
    "ＳＥＬＥＣＴ * ＦＲＯＭ raw.jira_issues",  # full-width: NFKC folds it to ASCII
    "ｃｈｅｃｋｏｕｔ",  # full-width team name
    "ѕelect * from raw.jira_issues",  # Cyrillic dze
    "сheckout",  # Cyrillic es
    "checkоut",  # Cyrillic o
    "check\u200bout",  # zero-width space
    "\u202echeckout",  # right-to-left override
    "chec\x00kout",  # NUL
    "\x00",
    "\x1b[31mred",
    "drop",
    "1e9",
    "-1",
    "99999999999999999999999",
    "NaN",
    "null",
    "None",
    "true",
    "🙂",
    "' OR 1=1 LIMIT 10000 --",
    "2026-11-01'; drop table x; --",
    "2026-13-45",
    "9999-12-31",
    "0001-01-01",
    "PAY-1'; drop table x; --",
    "PAY-1 union select 1",
    "marts.dim_teams",
    "raw.jira_issues",
    "pg_catalog.pg_authid",
    "information_schema.tables",
    "current_setting('is_superuser')",
    "'||(select string_agg(rolname, ',') from pg_roles)||'",
]

# where a parameter goes in a question
POSITIONS: list[str] = [
    "{p}",
    "slowest reviews in {p}",
    "slowest reviews for team {p}",
    "which tickets waited longest for review {p}",
    "blocked work in payments since {p}",
    "blocked work between {p} and 2026-11-01",
    "top {p} flaky pipelines",
    "show {p} slowest reviews",
    "what happened to {p}",
    "what happened to PAY-{p}",
    "metric {p} for checkout",
    "current wip in {p} team",
    "dora keys for {p} last 4 weeks",
    "sprint accuracy in sprint {p}",
    "recommendations for {p}",
    "ci failure rate {p}",
]


def hostile_questions() -> list[str]:
    """Every payload in every position, and whole-question attacks (huge, NUL-filled, format strings)."""
    questions = [position.replace("{p}", payload) for position in POSITIONS for payload in PAYLOADS]
    questions += [
        "slowest reviews " * 6500,  # ~100 kB
        "x" * 100_000,
        "\x00" * 1000,
        "slowest reviews in checkout" + "\x00" * 10,
        "%(team)s %(limit)s %(since)s %(until)s",
        "{{ sql }} {{ question }}",
        "slowest reviews in checkout; select pg_sleep(60)",
        "slowest reviews in checkout'; copy (select 1) to program 'id'; --",
        "longest review waits in payments /* */ ; drop table marts.fct_issue_lifecycle; --",
        "what happened to PAY-1; delete from raw.jira_issues",
        "",
        " ",
        "\t\n",
    ]
    return questions


# ------------------------------------------------------------------------------------------------ the log


def positional(statement: str) -> str:
    """A template as the server logs it: psycopg sends ``%(name)s`` as ``$n`` (numbered by first use; a name
    used twice keeps its number)."""
    numbers: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        numbers.setdefault(name, len(numbers) + 1)
        return f"${numbers[name]}"

    return re.sub(r"%\((\w+)\)s", number, statement)


def squeeze(statement: str) -> str:
    return " ".join(statement.split())


def allowed_as_logged() -> set[str]:
    return {squeeze(positional(statement)) for statement in allowed_statements()}


_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ \[(\d+)\] (\w+):  (.*)$")
_STATEMENT = re.compile(r"^(?:statement|execute [^:]*): (.*)$", re.S)


@dataclass
class ServerLog:
    """The embedded server's log file (pgserver writes ``<pgdata>/log``), read from an offset."""

    path: Path
    offset: int

    @classmethod
    def of(cls, server_url: str) -> ServerLog | None:
        with psycopg.connect(server_url) as admin:
            row = admin.execute("select current_setting('data_directory', true)").fetchone()
        path = Path(row[0]) / "log" if row and row[0] else None
        if path is None or not path.is_file():
            return None
        return cls(path, path.stat().st_size)

    def statements(self, pids: set[int]) -> list[str]:
        """The statements the backends ``pids`` ran, as logged, since the offset."""
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            text = handle.read().decode("utf-8", errors="replace")
        records: list[tuple[int, str, list[str]]] = []
        for line in text.split("\n"):
            match = _RECORD.match(line)
            if match:
                records.append((int(match.group(1)), match.group(2), [match.group(3)]))
            elif records:
                records[-1][2].append(line)
        found = []
        for pid, level, lines in records:
            if pid not in pids or level != "LOG":
                continue
            logged = _STATEMENT.match("\n".join(lines))
            if logged:
                found.append(logged.group(1))
        return found


def log_statements_of(server_url: str, login: str, on: bool) -> None:
    """``log_statement = all`` for ``login``'s sessions only (superuser: the test server's admin)."""
    with psycopg.connect(server_url, autocommit=True) as admin:
        role = sql.Identifier(login)
        if on:
            admin.execute(sql.SQL("alter role {} set log_statement = 'all'").format(role))
        else:
            admin.execute(sql.SQL("alter role {} reset log_statement").format(role))


# ------------------------------------------------------------------------------------------------ the data


def wait_until_gone(owner_url: str, pids: set[int], timeout: float = 20.0) -> None:
    """Wait until the backends ``pids`` have exited (their statistics are flushed when they do)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(owner_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            alive = conn.execute(
                "select count(*) from pg_stat_activity where pid = any(%s)", (list(pids),)
            ).fetchone()
            if not alive or alive[0] == 0:
                return
            time.sleep(0.1)
    raise AssertionError(f"backends {sorted(pids)} still running")


def table_stats(owner_url: str) -> dict[str, dict[str, int]]:
    """Per table: the scans (sequential and index) and the rows written, as the statistics say now."""
    with psycopg.connect(owner_url, autocommit=True, row_factory=dict_row) as conn:
        conn.execute("select pg_stat_clear_snapshot()")
        rows = conn.execute(
            """
            select schemaname || '.' || relname as name,
                coalesce(seq_scan, 0) + coalesce(idx_scan, 0) as scans,
                n_tup_ins + n_tup_upd + n_tup_del as writes
            from pg_stat_user_tables
            order by 1
            """
        ).fetchall()
        database = conn.execute(
            "select tup_inserted + tup_updated + tup_deleted as writes from pg_stat_database "
            "where datname = current_database()"
        ).fetchone()
    stats = {row["name"]: {"scans": int(row["scans"]), "writes": int(row["writes"])} for row in rows}
    stats["(database)"] = {"scans": 0, "writes": int(database["writes"]) if database else 0}
    return stats


def row_counts(owner_url: str) -> dict[str, int]:
    """The row count of every table of the database (waits until the counting session's statistics are
    flushed, so the scans it made are not mistaken for the ones under test)."""
    with psycopg.connect(owner_url, autocommit=True) as conn:
        pid = conn.info.backend_pid
        names = conn.execute(
            "select schemaname, relname from pg_stat_user_tables order by schemaname, relname"
        ).fetchall()
        counts = {}
        for schema, table in names:
            row = conn.execute(
                sql.SQL("select count(*) from {}").format(sql.Identifier(schema, table))
            ).fetchone()
            counts[f"{schema}.{table}"] = int(row[0]) if row else -1
    wait_until_gone(owner_url, {pid})
    return counts
