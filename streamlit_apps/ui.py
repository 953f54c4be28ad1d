"""Shared page helpers: number formatting, query-parameter deep links, and the "no data yet" message."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import streamlit as st

# url_path of each page (st.Page(..., url_path=...)); the Investigator is the default page, served at "/".
INVESTIGATOR = ""
WIP = "wip"
RECOMMENDATIONS = "recommendations"
INTERVENTIONS = "interventions"
DATA_STATUS = "data-status"
ASK = "ask"


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value) or (isinstance(value, float) and math.isnan(value))  # NaN / NaT
    except (TypeError, ValueError):
        return False


def num(value: Any, digits: int = 1, suffix: str = "") -> str:
    """``value`` rounded for display ("—" when missing)."""
    if is_missing(value):
        return "—"
    return f"{float(Decimal(str(value))):,.{digits}f}{suffix}"


def pct(value: Any, digits: int = 0, signed: bool = False) -> str:
    """A share (0.25) as a percentage ("25%")."""
    if is_missing(value):
        return "—"
    sign = "+" if signed else ""
    return f"{100 * float(value):{sign},.{digits}f}%"


def when(value: Any) -> str:
    if is_missing(value):
        return "—"
    return str(value)[:16].replace("T", " ")


def link(page: str, **params: str) -> str:
    """A relative deep link to ``page`` with query parameters (e.g. ``link(INVESTIGATOR, issue="PAY-1")``)."""
    query = "&".join(f"{key}={quote(str(value), safe=':')}" for key, value in params.items())
    return f"/{page}" + (f"?{query}" if query else "")


def investigator_link(issue_key: str) -> str:
    return link(INVESTIGATOR, issue=issue_key)


def follow_selection(**params: str | None) -> None:
    """Keep the URL's query parameters equal to the selection, so the address can be shared."""
    for key, value in params.items():
        if value:
            if st.query_params.get(key) != value:
                st.query_params[key] = value
        elif key in st.query_params:
            del st.query_params[key]


def no_marts(error: Exception) -> None:
    st.error(
        "The marts cannot be read yet — build the warehouse first (`heimdall build`, or `make demo`). "
        f"Detail: {type(error).__name__}: {str(error).splitlines()[0][:300]}"
    )
