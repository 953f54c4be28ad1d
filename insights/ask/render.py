"""Answers and refusals as plain data (JSON, CSV): what the CLI, the HTTP API and the Streamlit page show."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from insights.ask.compiler import Refusal
from insights.ask.execute import Answer


def plain(value: Any) -> Any:
    """A JSON-ready value: numbers as numbers, dates and timestamps as ISO 8601 text."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and abs(value) < 2**53 else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def answer_json(answer: Answer) -> dict[str, Any]:
    return {
        "status": "answered",
        "question": answer.question,
        "intent": answer.intent,
        "title": answer.title,
        "parameters": plain(answer.parameters),
        "sql": answer.sql,
        "bound": plain(answer.bound),
        "columns": list(answer.columns),
        "rows": [plain(row) for row in answer.rows],
        "row_count": len(answer.rows),
        "truncated": answer.truncated,
        "reading": answer.reading,
    }


def refusal_json(refusal: Refusal) -> dict[str, Any]:
    return {
        "status": "refused",
        "question": refusal.question,
        "reason": refusal.reason,
        "parameter": refusal.parameter,
        "candidates": list(refusal.candidates),
        "examples": list(refusal.examples),
    }


def to_json(result: Answer | Refusal) -> dict[str, Any]:
    return answer_json(result) if isinstance(result, Answer) else refusal_json(result)


def rows_csv(answer: Answer) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(answer.columns)
    for row in answer.rows:
        writer.writerow(["" if row[c] is None else plain(row[c]) for c in answer.columns])
    return out.getvalue()
