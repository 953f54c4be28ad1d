"""Public API: determinism, streaming, JSON-lines round trip, volumes."""

from __future__ import annotations

import datetime as dt
import hashlib
import inspect
from pathlib import Path

import generator
from generator import GeneratorOptions, generate, read_jsonl, write_jsonl
from warehouse.records import RAW_TABLES, RawRecord

AS_OF = dt.date(2026, 11, 20)


def _digest(out: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.glob("*.jsonl"))}


def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path: Path) -> None:
    opts = GeneratorOptions(seed=7, scale="small", weeks=10, as_of=AS_OF)
    write_jsonl(generate(opts).records, tmp_path / "a")
    write_jsonl(generate(opts).records, tmp_path / "b")
    other = GeneratorOptions(seed=8, scale="small", weeks=10, as_of=AS_OF)
    write_jsonl(generate(other).records, tmp_path / "c")
    a, b, c = _digest(tmp_path / "a"), _digest(tmp_path / "b"), _digest(tmp_path / "c")
    assert len(a) == len(RAW_TABLES)
    assert a == b
    assert a["jira_issues.jsonl"] != c["jira_issues.jsonl"]
    assert a["gitlab_merge_requests.jsonl"] != c["gitlab_merge_requests.jsonl"]


def test_as_of_changes_output(tmp_path: Path) -> None:
    write_jsonl(generate(GeneratorOptions(seed=7, teams=1, weeks=6, as_of=AS_OF)).records, tmp_path / "a")
    later = AS_OF + dt.timedelta(days=7)
    write_jsonl(generate(GeneratorOptions(seed=7, teams=1, weeks=6, as_of=later)).records, tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "b")


def test_generate_is_lazy_and_streams(monkeypatch) -> None:
    built: list[str] = []
    original = generator.GeneratorRun.team_records

    def spy(self, team):  # type: ignore[no-untyped-def]
        built.append(team.slug)
        yield from original(self, team)

    monkeypatch.setattr(generator.GeneratorRun, "team_records", spy)
    # how long these steps take is measured by bench/generator_streaming.py, not asserted here
    run = generate(GeneratorOptions(seed=1, scale="large", as_of=AS_OF))
    assert inspect.isgenerator(run.records)
    assert built == []  # nothing simulated before the first record is asked for
    assert len(run.ground_truth()["teams"]) == 100  # ground truth is available up front
    assert built == []  # ...without simulating any team
    first = [next(run.records) for _ in range(200)]
    assert len(first) == 200
    assert all(isinstance(r, RawRecord) for r in first)
    assert built == ["payments"]  # only the first team has been simulated


def test_round_trip(small_run) -> None:
    back = list(read_jsonl(small_run["dir"]))
    assert len(back) == sum(small_run["counts"].values())
    by_table: dict[str, int] = {}
    for r in back:
        by_table[r.table] = by_table.get(r.table, 0) + 1
    assert by_table == {k: v for k, v in small_run["counts"].items() if v}
    first = back[0]
    assert first.table == RAW_TABLES[0] and first.payload == small_run["rows"]["jira_issues"][0]["payload"]


def test_volumes_are_plausible(small_run) -> None:
    truth = small_run["truth"]
    eng = sum(t["engineer_count"] for t in truth["teams"])
    eng_weeks = eng * truth["weeks"]
    assert eng == 24 and truth["weeks"] == 26 and len(truth["teams"]) == 3
    issues = {}
    for p in (r["payload"] for r in small_run["rows"]["jira_issues"]):
        issues[p["id"]] = p
    done = [
        p
        for p in issues.values()
        if p["fields"]["resolution"]
        and p["fields"]["resolution"]["name"] == "Done"
        and p["fields"]["resolutiondate"] >= truth["window_start"]
    ]
    assert 1.4 <= len(done) / eng_weeks <= 2.6
    humans = {
        r["payload"]["id"]
        for r in small_run["rows"]["gitlab_merge_requests"]
        if not r["payload"]["author"]["username"].endswith("-bot")
    }
    assert 0.9 <= len(humans) / eng_weeks <= 1.6


def test_unknown_scale_is_rejected() -> None:
    try:
        generate(GeneratorOptions(scale="huge"))
    except ValueError as exc:
        assert "huge" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected ValueError")
