"""Pipeline benchmark: rows, wall seconds and peak memory per stage, and the ratios of issue 15.

    python bench/pipeline.py --scale small|medium|large [--seed 42] [--as-of 2026-11-20] [--skip-tests]
                             [--compare-scale medium] [--history-multiple 4] [--query-repeats 30]

Stages, each run in its own child process so its peak RSS is its own (dbt's too: it runs as a child of the
stage; the PostgreSQL server's memory is not counted):
  generate       the seeded generator writes JSON lines (streaming)
  split          the documents last updated on the final day (as_of) go to a folder of their own (projects,
                 updated by every activity, are also in the history: the final day re-delivers them)
  load           `heimdall load` of every other document: read JSON lines, COPY + upsert into raw
  bare COPY      the same JSON lines, unparsed, in one COPY stream into an unindexed one-column jsonb table:
                 what PostgreSQL itself costs for those documents (the loader's reference)
  dbt run        full `dbt seed` + `dbt run` (every model) on an empty target
  dbt test       every data and unit test on it
  incremental    load the final day's documents, then `dbt run` again (incremental models merge the change)
  incr. test     `dbt test` after it
  queries        the dashboards' and apps' typical queries (team x week, WIP list, one issue's timeline...),
                 each run --query-repeats times: p50 / p95 milliseconds

--compare-scale S also runs generate + load + dbt run at scale S (the full build at --scale vs at S);
--history-multiple K also runs the pipeline with K times the preset's weeks (the incremental build with K
times the history vs one year). Ratios are printed at the end with the machine's load average.

Uses a private embedded PostgreSQL under /tmp/heimdall-bench-<scale>[-<label>] (or HEIMDALL_DATABASE_URL if
set — it is wiped of Heimdall schemas first, so point it at a scratch database).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# (name, SQL, parameter kind): the typical questions of the Superset dashboards (heimdall/superset/
# dashboards.py: datasets filtered by team and week), the Streamlit tools (streamlit_apps/queries.py: the WIP
# list, one issue's timeline) and the weekly report. Parameters are filled per run (a team, an issue, weeks).
QUERIES: tuple[tuple[str, str], ...] = (
    (
        "team weeks (team x 12 weeks)",
        "select * from marts.fct_team_weekly_metrics where team_id = %(team)s "
        "and week_start_date between %(week_from)s and %(week_to)s order by week_start_date",
    ),
    (
        "done work (team x 12 weeks)",
        "select issue_key, done_at, cycle_time_hours, lead_time_hours, blocked_hours, flow_efficiency "
        "from marts.fct_issue_lifecycle where is_done_work and team_id = %(team)s "
        "and done_at >= %(week_from)s and done_at < %(week_to)s + 7 order by done_at",
    ),
    (
        "flow daily (team x 12 weeks)",
        "select w.date_day, w.wip_total, w.wip_blocked, t.issues_completed from marts.fct_wip_daily as w "
        "left join marts.fct_throughput_daily as t on t.team_id = w.team_id and t.date_day = w.date_day "
        "where w.team_id = %(team)s and w.date_day between %(week_from)s and %(week_to)s + 6 order by 1",
    ),
    (
        "WIP list (team, riskiest first)",
        "select issue_key, current_status, age_days, risk_score from marts.fct_wip_current "
        "where team_id = %(team)s order by risk_score desc, age_days desc",
    ),
    (
        "WIP list (organisation top 50)",
        "select issue_key, team_id, current_status, age_days, risk_score from marts.fct_wip_current "
        "order by risk_score desc, age_days desc limit 50",
    ),
    ("issue (by key)", "select * from marts.fct_issue_lifecycle where issue_key = %(issue_key)s"),
    (
        "issue timeline: status intervals",
        "select interval_seq, status, status_category, started_at, ended_at, hours, is_current "
        "from marts.fct_issue_status_intervals where issue_id = %(issue_id)s order by interval_seq",
    ),
    (
        "issue timeline: blocked intervals",
        "select * from marts.fct_blocked_intervals where issue_id = %(issue_id)s order by started_at",
    ),
    (
        "issue timeline: changelog",
        "select changed_at, change_kind, from_string, to_string from marts.fct_issue_changelog "
        "where issue_id = %(issue_id)s order by changed_at",
    ),
    (
        "issue timeline: merge requests",
        "select mrs.merge_request_id, mrs.title, mrs.state, mrs.ready_at, mrs.first_review_at "
        "from marts.fct_issue_merge_request_links as links "
        "inner join marts.fct_merge_requests as mrs on mrs.merge_request_id = links.merge_request_id "
        "where links.issue_key = %(issue_key)s",
    ),
    (
        "review queue (team)",
        "select merge_request_id, ready_at, size_lines from marts.fct_merge_requests "
        "where team_id = %(team)s and state = 'opened' and not is_draft and not is_bot_author "
        "and ready_at is not null and first_review_at is null",
    ),
    (
        "DORA weeks (team x 12 weeks)",
        "select * from marts.rpt_dora_weekly where team_id = %(team)s "
        "and week_start_date between %(week_from)s and %(week_to)s",
    ),
    (
        "metric trend (metric x team)",
        "select observed_at, item_label, value from marts.fct_metric_observations "
        "where metric_name = %(metric)s and team_id = %(team)s order by observed_at",
    ),
)


def _child(stage: str, args: argparse.Namespace, run: dict[str, Any]) -> dict[str, Any]:
    """Run one stage in a child process; return its wall seconds, peak RSS and what it reported."""
    command = [sys.executable, __file__, "--stage", stage, "--scale", run["scale"], "--seed", str(args.seed)]
    command += ["--as-of", args.as_of, "--workdir", str(run["workdir"]), "--weeks", str(run["weeks"])]
    command += ["--query-repeats", str(args.query_repeats)]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=_env(run["workdir"]))
    output = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"stage {stage} failed:\n{output}")
    report = json.loads(output.strip().splitlines()[-1])
    return {**report, "wall": wall, "peak_mib": usage.ru_maxrss / 1024}


def _env(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["HEIMDALL_HOME"] = str(workdir / "home")
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    env["DBT_TARGET_PATH"] = str(workdir / "dbt-target")
    env["DBT_LOG_PATH"] = str(workdir / "dbt-logs")
    return env


# Projects are containers that exist long before the final day: their documents are re-delivered with every
# activity (last_activity_at), so the final day updates them; it does not bring them for the first time (which
# would change every merge request's and pipeline's team and make the incremental build recompute them all).
ALWAYS_IN_HISTORY = frozenset({"gitlab_projects"})


def _split(args: argparse.Namespace) -> int:
    """history/ = every line not last updated on the final day, and the projects; final/ = the lines last
    updated on the final day (verbatim)."""
    from warehouse.jsonl import SUFFIX, parse_line
    from warehouse.loader import TABLE_SPECS, RejectedDocument
    from warehouse.records import RAW_TABLES

    final_day = date.fromisoformat(args.as_of)
    source = args.workdir / "jsonl"
    moved = 0
    for folder in ("history", "final"):
        (args.workdir / folder).mkdir(exist_ok=True)
    for table in RAW_TABLES:
        path = source / f"{table}{SUFFIX}"
        if not path.exists():
            continue
        with (
            path.open("rb") as lines,
            (args.workdir / "history" / path.name).open("wb") as history,
            (args.workdir / "final" / path.name).open("wb") as final,
        ):
            for number, line in enumerate(lines, start=1):
                record = parse_line(line, table, origin=str(number))
                try:
                    _, _, updated_at = TABLE_SPECS[table].key(record)
                except RejectedDocument:
                    updated_at = None
                if updated_at is not None and updated_at.date() >= final_day:
                    final.write(line)
                    moved += 1
                    if table in ALWAYS_IN_HISTORY:
                        history.write(line)
                else:
                    history.write(line)
    return moved


def _bare_copy(url: str, folder: Path) -> tuple[int, float]:
    """COPY the JSON lines as they are into an unindexed jsonb table (one stream); (documents, seconds)."""
    import psycopg

    documents = 0
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        conn.execute("drop table if exists public.bench_bare_copy")
        conn.execute("create table public.bench_bare_copy (document jsonb)")
        # csv with quote and delimiter bytes that JSON text never holds: every line arrives verbatim
        with conn.cursor().copy(
            "copy public.bench_bare_copy (document) from stdin "
            "with (format csv, quote e'\\x01', delimiter e'\\x02')"
        ) as copy:
            for path in sorted(folder.glob("*.jsonl")):
                with path.open("rb") as lines:
                    while chunk := lines.read(1 << 20):
                        copy.write(chunk)
                        documents += chunk.count(b"\n")
        conn.commit()
    seconds = time.perf_counter() - started
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop table public.bench_bare_copy")
    return documents, seconds


def _mart_rows(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "select table_name from information_schema.tables "
            "where table_schema = 'marts' and table_type = 'BASE TABLE'"
        ).fetchall()
        return sum(
            conn.execute(f'select count(*) from marts."{name}"').fetchone()[0]  # type: ignore[index]
            for (name,) in tables
        )


def _queries(url: str, repeats: int) -> dict[str, Any]:
    """p50 / p95 milliseconds of every typical query, its parameters varied over teams and issues."""
    import random

    import psycopg

    rng = random.Random(15)
    with psycopg.connect(url, autocommit=True) as conn:
        teams = [row[0] for row in conn.execute("select team_id from marts.dim_teams order by 1").fetchall()]
        weeks = [
            row[0] for row in conn.execute("select distinct week_start_date from marts.dim_dates order by 1")
        ]
        issues = conn.execute(
            "select issue_id, issue_key from marts.fct_wip_current "
            "union all "
            "(select issue_id, issue_key from marts.fct_issue_lifecycle where is_done_work limit 500)"
        ).fetchall()
        metrics = [
            row[0] for row in conn.execute("select distinct metric_name from marts.fct_metric_observations")
        ]
        figures: dict[str, Any] = {}
        for name, statement in QUERIES:
            timings = []
            for _ in range(repeats):
                week_to = weeks[rng.randrange(max(1, len(weeks) - 12), len(weeks))] if weeks else date.today()
                issue_id, issue_key = rng.choice(issues) if issues else ("", "")
                params = {
                    "team": rng.choice(teams) if teams else "",
                    "week_to": week_to,
                    "week_from": week_to - timedelta(weeks=11),
                    "issue_id": issue_id,
                    "issue_key": issue_key,
                    "metric": rng.choice(metrics) if metrics else "",
                }
                started = time.perf_counter()
                conn.execute(statement, params).fetchall()
                timings.append((time.perf_counter() - started) * 1000)
            timings.sort()
            figures[name] = {
                "p50": statistics.median(timings),
                "p95": timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))],
            }
    return figures


def _run_stage(stage: str, args: argparse.Namespace) -> dict[str, Any]:
    out_dir = args.workdir / "jsonl"
    if stage == "generate":
        from generator import GeneratorOptions, generate
        from warehouse.jsonl import write_jsonl

        run = generate(
            GeneratorOptions(
                seed=args.seed, scale=args.scale, weeks=args.weeks, as_of=date.fromisoformat(args.as_of)
            )
        )
        return {"rows": sum(write_jsonl(run.records, out_dir).values())}
    if stage == "split":
        return {"rows": _split(args)}

    from warehouse import db
    from warehouse.dbt_runner import run_dbt
    from warehouse.dbt_vars import vars_args
    from warehouse.jsonl import read_jsonl
    from warehouse.loader import load_records
    from warehouse.migrate import migrate

    url = db.database_url()
    dbt_vars = vars_args(as_of=args.as_of)
    if stage in ("load", "incremental"):
        folder = args.workdir / ("history" if stage == "load" else "final")
        with db.connect(url) as conn:
            migrate(conn)
            started = time.perf_counter()
            summary = load_records(conn, read_jsonl(folder), "synthetic")
            load_seconds = time.perf_counter() - started
        if stage == "load":
            return {"rows": summary.received, "seconds": load_seconds}
        started = time.perf_counter()
        run_dbt(["run", *dbt_vars, "--quiet"], url, capture=True)
        return {"rows": _mart_rows(url), "seconds": time.perf_counter() - started, "loaded": summary.received}
    if stage == "copy":
        documents, seconds = _bare_copy(url, args.workdir / "history")
        return {"rows": documents, "seconds": seconds}
    if stage == "build":
        with db.connect(url) as conn:
            migrate(conn)
        started = time.perf_counter()
        run_dbt(["seed", "--quiet"], url, capture=True)
        run_dbt(["run", *dbt_vars, "--quiet"], url, capture=True)
        return {"rows": _mart_rows(url), "seconds": time.perf_counter() - started}
    if stage == "test":
        from warehouse.dbt_runner import DbtError

        started = time.perf_counter()
        try:  # timed whatever the outcome: a failing test is reported, not a reason to stop the benchmark
            run_dbt(["test", *dbt_vars, "--quiet"], url, capture=True)
            failed = 0
        except DbtError as exc:
            failed = max(1, str(exc).count(" FAIL ") + str(exc).count(" ERROR "))
        return {"rows": failed, "seconds": time.perf_counter() - started}
    if stage == "queries":
        figures = _queries(url, args.query_repeats)
        return {"rows": len(figures), "queries": figures}
    raise SystemExit(f"unknown stage {stage}")


def _reset(workdir: Path) -> None:
    if workdir.exists():
        subprocess.run(
            [sys.executable, "-m", "heimdall", "db", "stop"], env=_env(workdir), capture_output=True
        )
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    if os.environ.get("HEIMDALL_DATABASE_URL"):
        import psycopg

        with psycopg.connect(os.environ["HEIMDALL_DATABASE_URL"], autocommit=True) as conn:
            for schema in ("raw", "app", "staging", "intermediate", "marts", "seeds", "analysis"):
                conn.execute(f"drop schema if exists {schema} cascade")


STAGES = {
    "full": (
        ("generate", "generate"),
        ("split", "split"),
        ("load", "load"),
        ("copy", "bare COPY"),
        ("build", "dbt run"),
        ("test", "dbt test"),
        ("incremental", "incremental"),
        ("test", "incr. test"),
        ("queries", "queries"),
    ),
    "compare": (("generate", "generate"), ("split", "split"), ("load", "load"), ("build", "dbt run")),
    "history": (
        ("generate", "generate"),
        ("split", "split"),
        ("load", "load"),
        ("build", "dbt run"),
        ("incremental", "incremental"),
    ),
}


def _pipeline(args: argparse.Namespace, scale: str, weeks: int, label: str, kind: str) -> dict[str, Any]:
    workdir = Path("/tmp") / (f"heimdall-bench-{scale}" + (f"-{label}" if label else ""))
    stages = [(stage, name) for stage, name in STAGES[kind] if not (args.skip_tests and stage == "test")]
    _reset(workdir)
    run = {"scale": scale, "weeks": weeks, "workdir": workdir}
    print(f"\n{scale} scale, {weeks} weeks ({label or 'main run'}), load average {_load_average()}")
    print(f"{'stage':<14}{'rows':>12}{'seconds':>10}{'wall s':>10}{'peak MiB':>10}")
    results: dict[str, Any] = {}
    try:
        for stage, name in stages:
            figures = _child(stage, args, run)
            results[name] = figures
            seconds = figures.get("seconds", figures["wall"])
            print(
                f"{name:<14}{figures['rows']:>12,}{seconds:>10.1f}{figures['wall']:>10.1f}{figures['peak_mib']:>10.0f}"
            )
    finally:
        subprocess.run(
            [sys.executable, "-m", "heimdall", "db", "stop"], env=_env(workdir), capture_output=True
        )
    return results


def _load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f} on {os.cpu_count()} CPUs"


def _ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.3f}" if denominator else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--scale", default="small", choices=["small", "medium", "large"])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--as-of", default="2026-11-20")
    parser.add_argument("--compare-scale", choices=["small", "medium", "large"], default=None)
    parser.add_argument("--history-multiple", type=int, default=None)
    parser.add_argument("--query-repeats", type=int, default=30)
    parser.add_argument("--skip-tests", action="store_true", help="leave out the dbt test stages")
    parser.add_argument("--workdir", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--weeks", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        print(json.dumps(_run_stage(args.stage, args), default=str))
        return

    from generator.presets import PRESETS

    weeks = PRESETS[args.scale].weeks
    print(f"Heimdall pipeline benchmark — scale={args.scale} seed={args.seed} as_of={args.as_of}")
    print("rows: documents written / moved to the final day / loaded / copied; mart rows after a run;")
    print("      failed tests (dbt test)")
    main_run = _pipeline(args, args.scale, weeks, "", "full")
    compare = history = None
    if args.compare_scale:
        compare = _pipeline(args, args.compare_scale, PRESETS[args.compare_scale].weeks, "compare", "compare")
    if args.history_multiple:
        history = _pipeline(args, args.scale, weeks * args.history_multiple, "history", "history")

    print("\nqueries at", args.scale, f"({args.query_repeats} runs each, ms)")
    query_figures = main_run["queries"]["queries"]
    for name, figures in query_figures.items():
        print(f"  {name:<38}p50 {figures['p50']:>8.1f}   p95 {figures['p95']:>8.1f}")
    worst_p95 = max(figures["p95"] for figures in query_figures.values())

    full = main_run["dbt run"]["seconds"]
    incremental = main_run["incremental"]["seconds"]
    load = main_run["load"]
    copy = main_run["bare COPY"]
    print(f"\nratios (load average now {_load_average()})")
    if compare:
        print(
            f"  full dbt run {args.scale} / {args.compare_scale}: {full:.1f} s / "
            f"{compare['dbt run']['seconds']:.1f} s = {_ratio(full, compare['dbt run']['seconds'])}"
        )
    print(
        f"  incremental run after one more day / full run: {incremental:.1f} s / {full:.1f} s = "
        f"{_ratio(incremental, full)} (target <= 0.05)"
    )
    if history:
        longer = history["incremental"]["seconds"]
        print(
            f"  incremental run with {args.history_multiple}x the history / with {weeks} weeks: "
            f"{longer:.1f} s / {incremental:.1f} s = {_ratio(longer, incremental)} (target <= 1.2)"
        )
    loader_rate = load["rows"] / load["seconds"]
    copy_rate = copy["rows"] / copy["seconds"]
    print(
        f"  loader {loader_rate:,.0f} documents/s / bare COPY {copy_rate:,.0f} documents/s = "
        f"{_ratio(loader_rate, copy_rate)} (target >= 0.8)"
    )
    print(f"  worst query p95: {worst_p95:.1f} ms (target <= 150)")
    peak = max(figures["peak_mib"] for figures in main_run.values())
    print(f"  peak memory of any stage: {peak:.0f} MiB (target <= 500)")
    total = main_run["generate"]["wall"] + main_run["load"]["wall"] + main_run["dbt run"]["wall"]
    print(f"  generate + load + full dbt run: {total:.0f} s (target <= 300 at large)")


if __name__ == "__main__":
    main()
