"""Fixtures for the generator tests: one small-scale run with the test scenario, generated once."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from generator import GeneratorOptions, generate, load_scenario, write_jsonl

AS_OF = dt.date(2026, 11, 20)
SCENARIO = Path(__file__).resolve().parents[2] / "generator" / "scenarios" / "test_small.yml"


@pytest.fixture(scope="session")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("small")
    opts = GeneratorOptions(seed=42, scale="small", scenario=load_scenario(SCENARIO), as_of=AS_OF)
    run = generate(opts)
    counts = write_jsonl(run.records, out)
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for path in sorted(out.glob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            rows[path.stem] = [json.loads(line) for line in fh]
    return {"dir": out, "counts": counts, "rows": rows, "truth": run.ground_truth(), "run": run}
