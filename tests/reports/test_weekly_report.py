"""The weekly report end to end on a real warehouse: the shared organisation of
tests/scenarios/intervention_planted.yml (seed 7, small, as_of 2026-11-20, whole project built; read only).

Every headline figure in the Markdown is compared with the test's own query of the marts (and the report's
mart with the facts and the team mart it must agree with); the HTML is self-contained; the PDF has the
expected pages and text, and its pages are rendered to tests/artifacts/report/ to be looked at. The committed
sample is checked against the demo scenario in tests/reports/test_sample.py.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from reports import ReportError, write_weekly_report
from reports.weekly import collect
from tests.support import GeneratedOrg, Preparation
from warehouse.settings import PROJECT_ROOT

AS_OF = date(2026, 11, 20)  # a Friday: the last complete ISO week is 2026-W46
WEEK, WEEK_START = "2026-W46", date(2026, 11, 9)
APPS_URL = "http://127.0.0.1:8501"
ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts" / "report"
SAMPLE = PROJECT_ROOT / "reports" / "sample_week.md"
HEIMDALL = str(Path(sys.executable).parent / "heimdall")


def prepare_in_background(prep: Preparation) -> GeneratedOrg:
    """The shared organisation, whole project built (starts with the session, see tests/conftest.py)."""
    return prep.generated_org(
        PROJECT_ROOT / "tests" / "scenarios" / "intervention_planted.yml", seed=7, as_of=AS_OF, models=None
    )


@pytest.fixture(scope="module")
def org(prepared) -> GeneratedOrg:
    return prepared


@pytest.fixture(scope="module")
def report(org: GeneratedOrg, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("report")
    return write_weekly_report(org.warehouse.url, out_dir=out, apps_url=APPS_URL)


def _headline_table(markdown: str) -> dict[str, list[str]]:
    section = markdown.split("## 2. Headline metrics", 1)[1].split("\n## ", 1)[0]
    rows = [
        line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| Metric")
    ]
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in rows]
    return {re.sub(r" \(.*\)$", "", cell[0]): cell[1:] for cell in cells}


def _number(cell: str) -> Decimal | None:
    """The number in a cell (``16.4%``, ``+2.4 pp ▲``, ``46 (5)``, ``14.2 †``), None for ``—``."""
    match = re.search(r"([+−±-]?)([\d,]+(?:\.\d+)?)", cell)
    if not match:
        assert cell.startswith("—"), cell
        return None
    value = Decimal(match.group(2).replace(",", ""))
    return -value if match.group(1) in ("−", "-") else value


def test_default_week_is_the_last_complete_week_before_as_of(report) -> None:
    assert report.week == WEEK
    assert set(report.files) == {"md", "html", "pdf"}
    assert all(path.stat().st_size > 0 for path in [*report.files.values(), *report.charts.values()])


def test_every_headline_figure_equals_the_marts(report, org: GeneratedOrg) -> None:
    table = _headline_table(report.files["md"].read_text())
    rows = org.query(
        "select label, value, previous_value, delta, median_8w, sample_size, min_sample, dora_band "
        "from marts.rpt_weekly_report_metrics where team_id is null and week_start_date = %s "
        "order by display_order",
        (WEEK_START,),
    )
    assert len(rows) == 14 and list(table) == [row["label"] for row in rows]
    for row in rows:
        this_week, last_week, change, median, sample, band = table[row["label"]]
        assert _number(this_week) == row["value"], row["label"]
        assert _number(last_week) == row["previous_value"], row["label"]
        assert _number(change) == row["delta"], row["label"]
        assert _number(median) == row["median_8w"], row["label"]
        assert _number(sample) == row["sample_size"], row["label"]
        assert band == (row["dora_band"] or "")
        if row["min_sample"] is not None and row["sample_size"] < row["min_sample"]:
            assert "†" in this_week, f"{row['label']}: a thin sample must be marked"


def test_report_mart_agrees_with_the_facts_and_the_team_mart(org: GeneratedOrg) -> None:
    """The organisation's figures are the facts' aggregates; the teams' are fct_team_weekly_metrics'."""
    week_end = WEEK_START + timedelta(days=7)
    facts = org.query(
        "select count(*) as throughput, "
        "round(cast(percentile_cont(0.5) within group (order by cycle_time_hours) / 24 as numeric), 1) "
        "as p50, "
        "round(cast(100 * sum(blocked_hours) / sum(cycle_time_hours) as numeric), 1) as blocked "
        "from marts.fct_issue_lifecycle where is_done_work and done_at >= %s and done_at < %s",
        (WEEK_START, week_end),
    )[0]
    mart = {
        row["metric_name"]: row["value"]
        for row in org.query(
            "select metric_name, value from marts.rpt_weekly_report_metrics "
            "where team_id is null and week_start_date = %s",
            (WEEK_START,),
        )
    }
    assert mart["throughput"] == facts["throughput"]
    assert mart["cycle_time_p50"] == facts["p50"]
    assert mart["blocked_share"] == facts["blocked"]
    mismatches = org.query(
        "select r.team_id, r.metric_name, r.value, t.throughput, t.cycle_time_p85_hours, t.ci_failure_rate "
        "from marts.rpt_weekly_report_metrics as r join marts.fct_team_weekly_metrics as t "
        "on t.team_id = r.team_id and t.week_start_date = r.week_start_date "
        "where (r.metric_name = 'throughput' and r.value <> t.throughput) "
        "or (r.metric_name = 'cycle_time_p85' and r.value <> round(t.cycle_time_p85_hours / 24, 1)) "
        "or (r.metric_name = 'ci_failure_rate' and r.value <> round(100 * t.ci_failure_rate, 1))"
    )
    assert mismatches == []


def test_team_table_and_summary(report, org: GeneratedOrg) -> None:
    markdown = report.files["md"].read_text()
    teams = [
        row["team_name"] for row in org.query("select team_name from marts.dim_teams order by team_name")
    ]
    header = next(line for line in markdown.splitlines() if line.startswith("| Metric | ["))
    assert [re.sub(r"\]\(.*", "", cell.strip(" [")) for cell in header.strip("|").split("|")[1:]] == teams
    assert f"{APPS_URL}/?team=" in header
    summary = markdown.split("## 1. Executive summary", 1)[1].split("\n## ", 1)[0]
    assert re.search(r"Delivery (improved|degraded|was mixed|held steady) in 2026-W46", summary)
    assert "Primary risk: " in summary and "Recommended action: " in summary
    for word in ("nan", "None", "NaN"):
        assert word not in markdown
    # risks link to the Issue Investigator
    assert re.search(rf"\[[A-Z]+-\d+\]\({re.escape(APPS_URL)}/\?issue=[A-Z]+-\d+\)", markdown)


def test_the_recommendation_of_the_week_is_named_per_team(report, org: GeneratedOrg) -> None:
    """Issue 12: section 6 names each team's recommendation of the week (fct_recommendations), with whether
    its success is provable (minimum detectable change against the expected change)."""
    markdown = report.files["md"].read_text()
    section = markdown.split("## 6. Recommendation of the week", 1)[1].split("\n## ", 1)[0]
    picks = org.query(
        "select recommendations.*, teams.team_name from marts.fct_recommendations as recommendations "
        "join marts.dim_teams as teams on recommendations.team_id = teams.team_id "
        "where recommendations.is_recommendation_of_the_week order by recommendations.team_id"
    )
    assert picks, "no team has a recommendation of the week"
    for pick in picks:
        line = next(line for line in section.splitlines() if line.startswith(f"- **{pick['team_name']}**: "))
        assert pick["title"] in line and f"`{pick['metric_name']}`" in line
        provable = "yes" if pick["is_success_provable"] else "no"
        mde = f"{float(pick['minimum_detectable_change_pct']) * 100:,.0f}%"
        expected = f"{abs(float(pick['expected_change_pct'])) * 100:,.0f}%"
        assert f"success provable: {provable} (MDE {mde} vs expected {expected})" in line, line
    # approved interventions, when there are, list their minimum detectable change beside the verdict
    if "No intervention has been approved yet" not in section:
        assert "| Min. detectable | Verdict |" in section


def test_html_is_self_contained(report) -> None:
    html = report.files["html"].read_text()
    images = re.findall(r'<img [^>]*src="([^"]+)"', html)
    assert len(images) == 4 and all(src.startswith("data:image/png;base64,") for src in images)
    assert "<link" not in html and "<script" not in html and "@import" not in html
    assert not re.search(r"url\(\s*['\"]?(https?:|//)", html)
    assert not re.search(r'\s(src|srcset)="(https?:|//)', html)
    text = re.sub(r"<[^>]+>", " ", html.split("</style>", 1)[1])  # what a reader sees
    assert not re.search(r"\b(None|nan|NaN)\b", text)


def test_pdf_pages_and_text(report) -> None:
    from pypdf import PdfReader

    pdf = PdfReader(report.files["pdf"])
    assert 3 <= len(pdf.pages) <= 6
    text = "\n".join(page.extract_text() for page in pdf.pages)
    for heading in ("Executive summary", "Headline metrics", "Charts", "Teams", "Risks", "Method"):
        assert heading in text
    table = _headline_table(report.files["md"].read_text())
    for label in ("Throughput", "Cycle time p50", "Blocked share", "Change failure rate"):
        assert table[label][0].rstrip(" †") in text, label
    first_page = pdf.pages[0].extract_text()
    assert "Weekly delivery report" in first_page and WEEK in first_page
    if shutil.which("pdftoppm"):  # for people to look at (tests/artifacts is git-ignored)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for old in ARTIFACTS.glob("page-*.png"):
            old.unlink()
        subprocess.run(
            ["pdftoppm", "-r", "80", "-png", str(report.files["pdf"]), str(ARTIFACTS / "page")], check=True
        )
        assert len(list(ARTIFACTS.glob("page-*.png"))) == len(pdf.pages)


def test_a_team_report_and_edge_weeks(org: GeneratedOrg, tmp_path: Path) -> None:
    written = write_weekly_report(
        org.warehouse.url, out_dir=tmp_path, team="checkout", formats=("md",), apps_url=APPS_URL
    )
    markdown = written.files["md"].read_text()
    assert written.files["md"].name == "weekly_report_checkout.md"
    assert "# Weekly delivery report: Checkout, 2026-W46" in markdown
    # the first (partial) and the as_of week render without NaN or None
    window = org.query(
        "select min(week_start_date) as first, max(week_start_date) as last from marts.dim_dates"
    )[0]
    for monday in (window["first"], window["last"]):
        for team in (None, "checkout"):
            text = (
                write_weekly_report(
                    org.warehouse.url,
                    out_dir=tmp_path / str(monday),
                    week=monday,
                    team=team,
                    formats=("md",),
                    apps_url=APPS_URL,
                )
                .files["md"]
                .read_text()
            )
            assert "nan" not in text and "None" not in text


def test_clear_errors(org: GeneratedOrg) -> None:
    import psycopg

    with psycopg.connect(org.warehouse.url) as conn:
        with pytest.raises(
            ReportError, match=r"2020-W01 is outside the data window: the marts hold 2026-W1\d to"
        ):
            collect(conn, week="2020-W01")
        with pytest.raises(ReportError, match="no such team"):
            collect(conn, team="nobody")
        with pytest.raises(ReportError, match="expected an ISO week"):
            collect(conn, week="2026-11-09")


def test_cli_writes_the_report(org: GeneratedOrg, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "HEIMDALL_DATABASE_URL": org.warehouse.url,
        "HEIMDALL_HOME": str(tmp_path / "home"),
        "HEIMDALL_APPS_PUBLIC_URL": "http://apps.example:8501",
        "COLUMNS": "200",
    }
    done = subprocess.run(
        [HEIMDALL, "report", "--week", WEEK, "--format", "md,html", "--out", str(tmp_path / "out")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "out" / "weekly_report.md").is_file() and (
        tmp_path / "out" / "weekly_report.html"
    ).is_file()
    assert not (tmp_path / "out" / "weekly_report.pdf").exists()
    assert "http://apps.example:8501/?issue=" in (tmp_path / "out" / "weekly_report.md").read_text()
    failed = subprocess.run(
        [HEIMDALL, "report", "--week", "2020-W01", "--out", str(tmp_path / "bad")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert failed.returncode != 0
    assert "outside the data window" in failed.stderr and "Traceback" not in failed.stderr
