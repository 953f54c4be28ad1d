"""The app's one way into the warehouse: ``st.connection("heimdall", type="sql")`` (SQLAlchemy + psycopg)
signed in as the app's login role (member of heimdall_apps, migration 0014: SELECT on ``marts``, INSERT
into ``app.recommendation_decisions``, nothing in ``raw``; a 30 s statement timeout).

`heimdall apps serve` creates that login and hands its SQLAlchemy URL to the Streamlit process in
``HEIMDALL_APPS_DATABASE_URL`` (never printed, never written to disk). Query results are cached for
``HEIMDALL_APPS_CACHE_TTL_SECONDS`` (default 300 s); recording a decision clears the cache."""

from __future__ import annotations

import os
from datetime import date

import streamlit as st
from streamlit.connections import SQLConnection

from insights.recommendations import Decision, decide

URL_VARIABLE = "HEIMDALL_APPS_DATABASE_URL"
TTL_VARIABLE = "HEIMDALL_APPS_CACHE_TTL_SECONDS"


class AppNotConfigured(RuntimeError):
    """The app was started without its database URL (start it with `heimdall apps serve`)."""


def cache_ttl() -> int:
    value = os.environ.get(TTL_VARIABLE, "").strip()
    return int(value) if value.isdigit() else 300


def connection() -> SQLConnection:
    """The app's SQL connection (one engine per process, pooled, pre-pinged)."""
    url = os.environ.get(URL_VARIABLE, "").strip()
    if not url:
        raise AppNotConfigured(
            f"{URL_VARIABLE} is not set: start the app with `heimdall apps serve` (docs/apps.md)"
        )
    return st.connection(
        "heimdall",
        type="sql",
        url=url,
        ttl=cache_ttl(),
        pool_pre_ping=True,
        pool_size=4,
    )


def record_decision(
    recommendation_id: str,
    decision: str,
    *,
    decided_by: str,
    note: str | None,
    start: date | None,
) -> Decision:
    """Record an approval or rejection with ``insights.recommendations.decide`` (the rule of `heimdall
    recommendations approve / reject`), through the app's role, then drop cached query results."""
    raw = connection().engine.raw_connection()
    try:
        driver = raw.driver_connection
        recorded = decide(driver, recommendation_id, decision, decided_by=decided_by, note=note, start=start)  # type: ignore[arg-type]
        raw.commit()
    except BaseException:
        raw.rollback()
        raise
    finally:
        raw.close()
    st.cache_data.clear()
    return recorded
