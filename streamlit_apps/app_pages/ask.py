"""Ask: delivery questions in plain language, answered only through Guarded Ask's allowlisted, parameterised
SQL templates (insights/ask/, docs/ask.md). Deep link: ``/ask?q=slowest+reviews+in+checkout``.

The question is compiled first and what it was understood as (the intent, its parameters, the SQL template and
the bound values) is shown before the rows. It runs through insights.ask.execute on the app's own connection
(the app's login, member of heimdall_apps: SELECT on the marts), in a read-only transaction with a 5 s
statement timeout and the row cap: the same function, statements and guarantees as `heimdall ask` and
``POST /api/ask``. A refusal says why, and which parameter, with example questions."""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd
import psycopg
import streamlit as st

from insights.ask.compiler import EXAMPLES, Plan, compile_question
from insights.ask.execute import AskError, load_catalog, read_only, run_plan
from insights.ask.render import plain, rows_csv
from streamlit_apps import ui
from streamlit_apps.db import connection

st.title("Ask")
st.caption(
    "Ask about delivery in plain language. Every question is mapped to one of a fixed list of questions, "
    "each "
    "answered by one reviewed SQL template over the marts with your team, period and limit bound as "
    "parameters: nothing you type is ever run as SQL."
)


def _understood(parameters: dict[str, object]) -> list[str]:
    said = []
    for key, value in parameters.items():
        if key in ("period_start", "period_end") or value is None:
            continue
        if key == "period":
            value = f"{value} ({parameters.get('period_start')} to {parameters.get('period_end')})"
        said.append(f"**{key.replace('_', ' ')}** {value}")
    return said


def _shown(value: object) -> object:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return plain(value)


if "ask_question" not in st.session_state:
    st.session_state["ask_question"] = st.query_params.get("q", "")


def _use_example() -> None:
    chosen = st.session_state.get("ask_example")
    if chosen:
        st.session_state["ask_question"] = chosen
        st.session_state["ask_example"] = None  # a preset fills the box; picking it again works too


question = st.text_input(
    "Question",
    key="ask_question",
    max_chars=500,
    placeholder="e.g. which tickets waited longest for review last month in checkout?",
)
st.pills(
    "Example questions",
    EXAMPLES,
    selection_mode="single",
    key="ask_example",
    on_change=_use_example,
)
ui.follow_selection(q=question.strip() or None)

if not question.strip():
    st.info("Type a question, or pick one of the examples above.")
    st.stop()

raw = connection().engine.raw_connection()
try:
    driver = raw.driver_connection
    assert isinstance(driver, psycopg.Connection)
    with read_only(driver):
        plan = compile_question(question, load_catalog(driver))
        if not isinstance(plan, Plan):
            st.warning(f"**Not answered.** {plan.reason}", icon=":material/block:")
            if plan.parameter:
                st.caption(f"Parameter at fault: `{plan.parameter}`")
            st.markdown(
                "Questions Heimdall answers, for example:\n\n"
                + "\n".join(f"* {example}" for example in plan.examples)
            )
            st.stop()
        understood = " · ".join(_understood(plan.parameters)) or "no parameters"
        st.subheader(plan.intent.title)
        st.markdown(f"Understood as intent `{plan.intent.name}` · {understood}")
        st.caption(plan.intent.description)
        with st.expander("SQL template and bound values", expanded=True):
            st.code(plan.sql, language="sql")
            st.code(
                "\n".join(f"{name} = {json.dumps(plain(value))}" for name, value in plan.bound.items()),
                language="text",
            )
        answer = run_plan(driver, plan)
except psycopg.errors.QueryCanceled:
    st.error("The question took longer than the statement timeout and was cancelled.")
    st.stop()
except (AskError, psycopg.Error) as error:
    ui.no_marts(error)
    st.stop()
finally:
    raw.close()

st.success(answer.reading, icon=":material/check_circle:")
frame = pd.DataFrame([{column: _shown(row[column]) for column in answer.columns} for row in answer.rows])
config = {}
if "issue_key" in answer.columns and not frame.empty:
    frame.insert(0, "investigate", frame.pop("issue_key").map(ui.investigator_link))
    config["investigate"] = st.column_config.LinkColumn(
        "issue", display_text=r"\?issue=(.*)$", help="Open in the Issue Investigator"
    )
if "web_url" in answer.columns:
    config["web_url"] = st.column_config.LinkColumn("GitLab", display_text="open")
st.dataframe(frame, hide_index=True, width="stretch", column_config=config)
st.caption(
    f"{len(answer.rows)} row(s)"
    + (" — more than the row cap: only the first are shown." if answer.truncated else "")
)
st.download_button(
    "Download CSV", rows_csv(answer).encode("utf-8"), file_name=f"{answer.intent}.csv", mime="text/csv"
)
