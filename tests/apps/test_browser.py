"""A real browser (Debian's chromium through Playwright) against `heimdall apps serve` on a free port: opens
each page, checks its key elements are visible and that no Streamlit exception box appears, approves one
recommendation by clicking, and saves a screenshot per page under tests/artifacts/apps/ (git-ignored).

Skipped when /usr/bin/chromium is missing, unless HEIMDALL_REQUIRE_BROWSER=1 (CI installs it and sets
that). Never `playwright install`: the browser is the system's."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.apps.conftest import HEIMDALL, AppsWarehouse
from warehouse.settings import PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts" / "apps"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
APPROVED = "payments:blocked_not_escalated"


def _browser_reason() -> str | None:
    if CHROMIUM.exists():
        return None
    if os.environ.get("HEIMDALL_REQUIRE_BROWSER") == "1":
        pytest.fail(f"HEIMDALL_REQUIRE_BROWSER=1 but {CHROMIUM} is missing (apt-get install chromium)")
    return (
        f"{CHROMIUM} is missing (apt-get install chromium); HEIMDALL_REQUIRE_BROWSER=1 makes this a failure"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def served(apps_warehouse: AppsWarehouse) -> Iterator[str]:
    """`heimdall apps serve --port <free>` (the foreground command, in its own process group) until the
    module ends."""
    reason = _browser_reason()
    if reason:
        pytest.skip(reason)
    port = _free_port()
    log = apps_warehouse.home / "apps-serve.log"
    with log.open("ab") as out:
        server = subprocess.Popen(
            [HEIMDALL, "apps", "serve", "--port", str(port)],
            env=apps_warehouse.env,
            cwd=PROJECT_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, f"heimdall apps serve exited:\n{log.read_text()[-3000:]}"
            try:
                if httpx.get(f"{url}/_stcore/health", timeout=2).text.strip() == "ok":
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"the app did not answer:\n{log.read_text()[-3000:]}"
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@pytest.fixture(scope="module")
def page(served: str):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 2400})
        yield page
        browser.close()


def _open(page, url: str, expected: list[str]) -> None:
    page.goto(url)
    for text in expected:
        page.get_by_text(text, exact=False).first.wait_for(state="visible", timeout=60_000)
    # Streamlit runs to the end: wait until it says so (no "running" status widget), then let charts draw
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000
    )
    page.wait_for_timeout(1500)


def _no_exception(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    boxes = page.locator('[data-testid="stException"]')
    assert boxes.count() == 0, boxes.first.inner_text()[:2000]


def test_every_page_in_a_real_browser(page, served: str, apps_warehouse: AppsWarehouse) -> None:
    issue = apps_warehouse.query(
        "select issue_key from marts.fct_wip_current order by risk_score desc, issue_key limit 1"
    )[0]["issue_key"]
    checks = [
        ("investigator", f"/?issue={issue}", [f"{issue} ·", "Cycle time (h)", "Status intervals"]),
        ("wip_triage", "/wip?team=payments", ["WIP Triage", "Items in progress", "Download CSV"]),
        (
            "recommendations",
            f"/recommendations?recommendation={APPROVED}",
            ["Recommendations", "ROI assumptions", "Evidence", "Decision history"],
        ),
        (
            "interventions",
            "/interventions?recommendation=checkout:slow_review_pickup",
            ["Intervention tracker", "Basis of the verdict", "improved"],
        ),
        ("data_status", "/data-status", ["Data status", "Last build", "Sources"]),
        (
            "ask",
            "/ask?q=which+tickets+waited+longest+for+review+last+month+in+checkout%3F",
            [
                "Longest review waits",
                "SQL template and bound values",
                "waited longest for review in team checkout",
            ],
        ),
    ]
    for name, path, expected in checks:
        _open(page, served + path, expected)
        _no_exception(page, name)
        assert page.locator("[data-testid='stSidebarNav']").get_by_text("Issue Investigator").is_visible()
    # the Investigator's chart is drawn
    _open(page, served + f"/?issue={issue}", ["Status intervals"])
    assert page.locator("[data-testid='stVegaLiteChart'], .vega-embed").first.is_visible()


def test_approve_a_recommendation_by_clicking(page, served: str, apps_warehouse: AppsWarehouse) -> None:
    count = "select count(*) as n from app.recommendation_decisions where recommendation_id = %s"
    before = apps_warehouse.query(count, (APPROVED,))[0]["n"]
    _open(page, served + f"/recommendations?recommendation={APPROVED}", ["Decide"])
    page.get_by_label("Who decides").fill("Browser Lead")
    page.get_by_label("Note (required to reject)").fill("approved by clicking")
    page.get_by_role("button", name="Approve").click()
    page.get_by_text("Recorded decision", exact=False).first.wait_for(state="visible", timeout=60_000)
    _no_exception(page, "recommendations_approved")
    after = apps_warehouse.query(count, (APPROVED,))[0]["n"]
    assert after == before + 1
    row = apps_warehouse.query(
        "select * from app.recommendation_decisions where recommendation_id = %s "
        "order by decision_id desc limit 1",
        (APPROVED,),
    )[0]
    assert (row["decision"], row["decided_by"], row["note"]) == (
        "approved",
        "Browser Lead",
        "approved by clicking",
    )
    assert row["intervention_start_date"] is not None
