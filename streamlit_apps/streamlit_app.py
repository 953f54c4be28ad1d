"""Heimdall's investigation tools: one Streamlit multipage app over the marts (docs/apps.md).

Run it with `heimdall apps serve` (127.0.0.1, HEIMDALL_APPS_PORT): that command applies the migrations,
creates the app's login role (member of heimdall_apps) and passes its connection URL to this process."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run streamlit_apps/streamlit_app.py` puts only this folder there
    sys.path.insert(0, str(ROOT))

from streamlit_apps import ui  # noqa: E402

st.set_page_config(
    page_title="Heimdall — investigation tools", page_icon=":material/visibility:", layout="wide"
)

PAGES = Path(__file__).resolve().parent / "app_pages"
pages = [
    st.Page(PAGES / "investigator.py", title="Issue Investigator", icon=":material/search:", default=True),
    st.Page(PAGES / "wip_triage.py", title="WIP Triage", icon=":material/traffic:", url_path=ui.WIP),
    st.Page(
        PAGES / "recommendations.py",
        title="Recommendations",
        icon=":material/lightbulb:",
        url_path=ui.RECOMMENDATIONS,
    ),
    st.Page(
        PAGES / "interventions.py",
        title="Intervention tracker",
        icon=":material/monitoring:",
        url_path=ui.INTERVENTIONS,
    ),
    st.Page(
        PAGES / "data_status.py", title="Data status", icon=":material/database:", url_path=ui.DATA_STATUS
    ),
    st.Page(PAGES / "ask.py", title="Ask", icon=":material/question_answer:", url_path=ui.ASK),
]
page = st.navigation(pages)
# links that name no page: the root address with ?team=... opens WIP Triage, with ?recommendation=... the
# Recommendations page (?issue=... is the Investigator's own)
if page.url_path == "" and "issue" not in st.query_params:
    if "recommendation" in st.query_params:
        st.switch_page(pages[2], query_params={"recommendation": st.query_params["recommendation"]})
    if "team" in st.query_params:
        st.switch_page(pages[1], query_params={"team": st.query_params["team"]})
st.sidebar.caption("Heimdall · reads the marts, writes only recommendation decisions")
page.run()
