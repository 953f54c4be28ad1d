"""The committed sample report is what `make demo` writes for the demo story: the demo scenario
(generator/scenarios/demo.yml) at small scale, seed 42, as of 2026-11-20, run through the real CLI as
`heimdall demo --approve-planted` (generate, load, dbt build, approve and verify the planted review SLO) in a
database of its own (it records a decision). Regenerate the committed files (reports/sample_week.md, .pdf and
the charts) with ``HEIMDALL_UPDATE_REPORT_SAMPLE=1 .venv/bin/pytest tests/reports/test_sample.py``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from reports import write_weekly_report
from tests.support import Preparation, Warehouse
from warehouse.settings import PROJECT_ROOT

HEIMDALL = str(Path(sys.executable).parent / "heimdall")
SCENARIO = PROJECT_ROOT / "generator" / "scenarios" / "demo.yml"
DEMO_ARGS = ("--scenario", str(SCENARIO), "--scale", "small", "--seed", "42", "--as-of", "2026-11-20")
APPS_URL = "http://127.0.0.1:8501"
SAMPLE = PROJECT_ROOT / "reports" / "sample_week.md"
CHARTS = ("throughput_cycle_time", "wip_by_status", "review_pickup", "ci_health")


def prepare_in_background(prep: Preparation) -> Warehouse:
    """`heimdall demo --approve-planted` on the demo scenario (starts with the session: see conftest.py)."""
    warehouse = prep.warehouse()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("HEIMDALL_")},
        "HEIMDALL_DATABASE_URL": warehouse.url,
        "HEIMDALL_HOME": str(prep.home),
        "DBT_TARGET_PATH": str(prep.home / "target"),
        "DBT_LOG_PATH": str(prep.home / "logs"),
        "COLUMNS": "200",
    }
    done = subprocess.run(
        [HEIMDALL, "demo", *DEMO_ARGS, "--approve-planted"],
        env=env,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        check=False,
    )
    assert done.returncode == 0, f"heimdall demo failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return warehouse


@pytest.fixture(scope="module")
def demo_warehouse(prepared) -> Warehouse:
    return prepared


def _comparable(markdown: str) -> str:
    """The Markdown without its one build-dependent line (when the warehouse was loaded) and with the links to
    docs/ made independent of the folder written to."""
    markdown = re.sub(r"\]\([^)\s]*?docs/(metrics|report)\.md", r"](docs/\1.md", markdown)
    return "\n".join(line for line in markdown.splitlines() if not line.startswith("- Freshness:"))


def test_committed_sample_is_what_the_demo_writes(demo_warehouse: Warehouse, tmp_path: Path) -> None:
    update = os.environ.get("HEIMDALL_UPDATE_REPORT_SAMPLE", "") not in ("", "0")
    out = SAMPLE.parent if update else tmp_path
    written = write_weekly_report(
        demo_warehouse.url, out_dir=out, stem="sample_week", formats=("md", "pdf"), apps_url=APPS_URL
    )
    assert SAMPLE.is_file(), (
        "no committed sample: HEIMDALL_UPDATE_REPORT_SAMPLE=1 .venv/bin/pytest tests/reports"
    )
    markdown = written.files["md"].read_text()
    assert _comparable(markdown) == _comparable(SAMPLE.read_text())
    # the demo's story is in it: the planted review SLO approved and verified
    assert "checkout" in markdown and "Introduce a review SLO" in markdown
    for name in CHARTS:
        assert (SAMPLE.parent / "sample_week_charts" / f"sample_week_{name}.png").is_file()
    assert (SAMPLE.parent / "sample_week.pdf").is_file()
