"""A real browser (Debian's chromium through Playwright) logs in through the form, opens each dashboard,
waits until every chart has rendered, fails on any error alert or console error (except the blocked
telemetry pixel), and saves a screenshot per dashboard under tests/artifacts/ (git-ignored).

Skipped when /usr/bin/chromium is missing, unless HEIMDALL_REQUIRE_BROWSER=1 (CI installs it and sets that).
Never `playwright install`: the browser is the system's.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from heimdall.superset.dashboards import DASHBOARDS
from warehouse.settings import PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
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
# The only console error allowed: Superset's frontend asks for a telemetry pixel and the CSP blocks it.
TELEMETRY = "scarf.sh"
STATE = """() => {
  const holders = [...document.querySelectorAll('.dashboard-component-chart-holder')]
    .filter(h => h.querySelector('[data-test-chart-id]'));  // charts, not markdown
  return {
    charts: holders.length,
    rendered: holders.filter(
      h => h.querySelector('.slice_container') && !h.querySelector('[data-test="loading-indicator"]')
    ).length,
    spinners: document.querySelectorAll('[data-test="loading-indicator"], .loading').length,
    errors: [...document.querySelectorAll(
      '[data-test="alert"], .ant-alert-error, .ant-alert-warning, [data-test="error-message"]'
    )].map(e => e.innerText.slice(0, 300)),
    bottom: Math.max(0, ...holders.map(h => h.getBoundingClientRect().bottom + window.scrollY)),
  };
}"""


def _browser_reason() -> str | None:
    if CHROMIUM.exists():
        return None
    if os.environ.get("HEIMDALL_REQUIRE_BROWSER") == "1":
        pytest.fail(f"HEIMDALL_REQUIRE_BROWSER=1 but {CHROMIUM} is missing (apt-get install chromium)")
    return (
        f"{CHROMIUM} is missing (apt-get install chromium); HEIMDALL_REQUIRE_BROWSER=1 makes this a failure"
    )


@pytest.fixture(scope="module")
def page(superset_instance):
    reason = _browser_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 3000})
        page.console_errors = []  # type: ignore[attr-defined]
        page.on(
            "console",
            lambda message: message.type == "error" and page.console_errors.append(message.text),  # type: ignore[attr-defined]
        )
        page.on("pageerror", lambda error: page.console_errors.append(str(error)))  # type: ignore[attr-defined]
        page.goto(f"{superset_instance.url}/login/")
        page.fill("#username", superset_instance.admin_username)
        page.fill("#password", superset_instance.admin_password)
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: "/login" not in url, timeout=60_000)
        yield page
        browser.close()


@pytest.mark.parametrize("dashboard", DASHBOARDS, ids=[d.slug for d in DASHBOARDS])
def test_dashboard_renders_every_chart(page, superset_instance, dashboard) -> None:
    page.console_errors.clear()
    page.set_viewport_size({"width": 1600, "height": 3000})
    page.goto(f"{superset_instance.url}/superset/dashboard/{dashboard.slug}/")
    page.wait_for_selector(".dashboard-component-chart-holder", timeout=60_000)
    expected = len(dashboard.charts)
    deadline = time.monotonic() + 120
    state = page.evaluate(STATE)
    while time.monotonic() < deadline:
        state = page.evaluate(STATE)
        if state["errors"] or (
            state["charts"] == expected and state["rendered"] == expected and not state["spinners"]
        ):
            break
        page.wait_for_timeout(500)
    page.wait_for_timeout(1500)  # let the charts' animations settle before the screenshot
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1600, "height": int(min(max(1000, state["bottom"] + 40), 4000))})
    page.wait_for_timeout(500)
    shot = ARTIFACTS / f"superset-{dashboard.slug}.png"
    page.screenshot(path=str(shot))
    assert page.title() == dashboard.title
    assert not state["errors"], f"{dashboard.title}: error alerts {state['errors']} (screenshot {shot})"
    assert state["charts"] == expected, (
        f"{dashboard.title}: {state['charts']} of {expected} charts (screenshot {shot})"
    )
    assert state["rendered"] == expected and not state["spinners"], (
        f"{dashboard.title}: {state} (screenshot {shot})"
    )
    errors = [text for text in page.console_errors if TELEMETRY not in text]
    assert not errors, f"{dashboard.title}: console errors {errors}"
