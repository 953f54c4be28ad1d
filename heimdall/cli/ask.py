"""`heimdall ask "QUESTION"`: a delivery question in plain language, answered only through an allowlisted,
parameterised SQL template (insights/ask/, docs/ask.md).

The question runs as Guarded Ask's login role (HEIMDALL_API_LOGIN, member of heimdall_ask, migration 0015:
SELECT on ``marts`` only), created here if needed with a password generated on this machine. A refused
question exits with status 3 and says why, with example questions."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from heimdall.cli._output import console, err_console
from heimdall.pipeline import ready_warehouse
from insights.ask.compiler import Refusal
from insights.ask.execute import Answer, ask, ask_login_url, connect_as_asker
from insights.ask.render import plain, rows_csv, to_json
from warehouse.settings import get_api_settings, get_settings

REFUSED_EXIT = 3


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def ask_command(
    question: Annotated[
        str, typer.Argument(help='The question, e.g. "slowest reviews in checkout last month".')
    ],
    output: Annotated[Format, typer.Option("--format", help="table, json or csv.")] = Format.table,
    show_sql: Annotated[
        bool, typer.Option("--show-sql", help="Also print the SQL template and the bound values.")
    ] = False,
) -> None:
    """Answer a delivery question in plain language (allowlisted SQL templates only; docs/ask.md)."""
    settings, api = get_settings(), get_api_settings()
    warehouse_url = ready_warehouse(settings).url
    with connect_as_asker(ask_login_url(settings, api, warehouse_url)) as conn:
        result = ask(conn, question, timeout_ms=api.statement_timeout_seconds * 1000)
    if output is Format.json:
        sys.stdout.write(json.dumps(to_json(result), indent=2, ensure_ascii=False) + "\n")
        if isinstance(result, Refusal):
            raise typer.Exit(REFUSED_EXIT)
        return
    if isinstance(result, Refusal):
        _print_refusal(result)
        raise typer.Exit(REFUSED_EXIT)
    if output is Format.csv:
        sys.stdout.write(rows_csv(result))
        if show_sql:
            err_console.print(_sql_text(result), markup=False, highlight=False, soft_wrap=True)
        return
    _print_answer(result, show_sql)


def _sql_text(answer: Answer) -> str:
    bound = json.dumps(plain(answer.bound), ensure_ascii=False)
    return f"{answer.sql}\n-- bound: {bound}"


def _print_answer(answer: Answer, show_sql: bool) -> None:
    understood = ", ".join(f"{key}={value}" for key, value in answer.parameters.items() if value is not None)
    console.print(f"[bold]{escape(answer.title)}[/] ({answer.intent}) · {escape(understood)}", soft_wrap=True)
    table = Table(show_lines=False)
    for column in answer.columns:
        table.add_column(column, overflow="fold")
    for row in answer.rows:
        table.add_row(*(_cell(row[c]) for c in answer.columns))
    console.print(table)
    console.print(escape(answer.reading), soft_wrap=True)
    if answer.truncated:
        console.print("[yellow]more rows than the row cap: only the first are shown[/]")
    if show_sql:
        console.print(_sql_text(answer), markup=False, highlight=False, soft_wrap=True)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return escape(str(plain(value)))


def _print_refusal(refusal: Refusal) -> None:
    err_console.print(f"[bold yellow]refused:[/] {escape(refusal.reason)}", soft_wrap=True)
    err_console.print("Questions Heimdall answers, for example:")
    for example in refusal.examples:
        err_console.print(f"  • {escape(example)}", soft_wrap=True)
