"""Diagnosis precision and recall against the generator's ground truth, over several scenarios and seeds.

    python bench/diagnosis_accuracy.py [--seeds 1 2 3] [--scenario FILE ...]  (make bench-diagnosis)

Default scenarios: every tests/scenarios/*_planted.yml. Prints one line per scenario and seed, then the totals
and a table per rule (fired, planted, precision, recall).

For each seed: generate the scenario (small scale), load it, `dbt build`, then compare fct_diagnoses with the
planted effects. Unit: (team, rule, ISO week) after a four-week warm-up.
* planted = weeks whose whole 4-week diagnosis window lies inside an effect that maps to a rule (and before an
  intervention on the same team and knob);
* precision = diagnoses that are planted / all diagnoses; recall = planted weeks diagnosed / planted weeks;
* top-1 = planted weeks where the team's rank-1 diagnosis is the planted rule.
Weeks that are neither clearly planted nor clearly clean (windows straddling an effect's start or an
intervention, and weeks after an intervention that leaves its effect at x1.25 or more) are ignored. Uses a
private embedded PostgreSQL under bench/out/ (not HEIMDALL_DATABASE_URL).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RULE_OF_KNOB = {
    "review_pickup_multiplier": "slow_review_pickup",
    "review_duration_multiplier": "long_review",
    "ci_flaky_rate": "ci_retry_waste",
    "ci_failure_rate": "high_ci_failure_rate",
    "blocked_probability": "blocked_not_escalated",
    "unlinked_work_rate": "unlinked_work",
    "sprint_overcommit_ratio": "sprint_overcommitment",
    "deploy_delay_multiplier": "slow_deploy_after_merge",
}


RESIDUAL = 1.25  # an effect an intervention leaves at >= x1.25 is still there
PER_RULE: dict[str, list[int]] = {}  # rule -> [fired, planted, true positives], over every run


def _week(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _labelled_weeks(truth: dict) -> tuple[set[tuple[str, str, date]], set[tuple[str, date]]]:
    """(team, rule, week) planted, and (team, week) too close to a change to judge."""
    planted: set[tuple[str, str, date]] = set()
    ambiguous: set[tuple[str, date]] = set()
    window_end = date.fromisoformat(truth["window_end"])
    for effect in truth["effects"]:
        rule = RULE_OF_KNOB.get(effect["knob"])
        if rule is None:
            continue
        start = date.fromisoformat(effect["start_date"])
        end = date.fromisoformat(effect["end_date"]) if effect["end_date"] else window_end
        effect_end = end
        for change in truth["interventions"]:
            if (change["team"], change["knob"]) == (effect["team"], effect["knob"]):
                end = min(end, date.fromisoformat(change["start_date"]) - timedelta(days=1))
                if effect["knob_kind"] == "multiplier" and effect["value"] * change["value"] >= RESIDUAL:
                    # the intervention only partly undoes the effect (x3 then x0.5 = x1.5): the weeks after
                    # it are still degraded, neither planted nor clean
                    week = _week(date.fromisoformat(change["start_date"]))
                    while week <= effect_end:
                        ambiguous.add((effect["team"], week))
                        week += timedelta(weeks=1)
        week = _week(start)
        while week <= window_end:
            window_start = week - timedelta(weeks=3)
            if window_start >= start and week + timedelta(days=6) <= end:
                planted.add((effect["team"], rule, week))
            elif week + timedelta(days=6) >= start and window_start <= end + timedelta(weeks=4):
                ambiguous.add((effect["team"], week))
            week += timedelta(weeks=1)
    return planted, ambiguous


def run_seed(url: str, seed: int, scenario_path: Path, as_of: date) -> dict[str, float]:
    import psycopg

    from generator import GeneratorOptions, generate, load_scenario
    from warehouse.dbt_runner import run_dbt
    from warehouse.dbt_vars import vars_args
    from warehouse.loader import load_records, purge_source
    from warehouse.settings import get_settings

    options = GeneratorOptions(seed=seed, scale="small", scenario=load_scenario(scenario_path), as_of=as_of)
    run = generate(options)
    truth = run.ground_truth()
    with psycopg.connect(url) as conn:
        purge_source(conn, "synthetic")
        load_records(conn, run.records, "synthetic")
    run_dbt(["seed", "--full-refresh", *vars_args(as_of=as_of)], url, get_settings(), capture=True)
    run_dbt(["run", "--select", "+fct_diagnoses", *vars_args(as_of=as_of)], url, get_settings(), capture=True)
    planted, ambiguous = _labelled_weeks(truth)
    warm = date.fromisoformat(truth["window_start"]) + timedelta(weeks=4)
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select team_id, rule_id, week_start_date, rank_in_team_week from marts.fct_diagnoses "
            "where week_start_date >= %s",
            (warm,),
        ).fetchall()
    fired = {(team, rule, week) for team, rule, week, _ in rows if (team, week) not in ambiguous}
    top = {(team, week): rule for team, rule, week, rank in rows if rank == 1}
    planted = {item for item in planted if item[2] >= warm}
    true_positive = len(fired & planted)
    top_hits = sum(top.get((team, week)) == rule for team, rule, week in planted)
    for team, rule, week in fired:
        PER_RULE.setdefault(rule, [0, 0, 0])[0] += 1
        PER_RULE[rule][2] += (team, rule, week) in planted
    for _, rule, _ in planted:
        PER_RULE.setdefault(rule, [0, 0, 0])[1] += 1
    return {
        "fired": len(fired),
        "planted": len(planted),
        "true_positive": true_positive,
        "precision": true_positive / len(fired) if fired else 1.0,
        "recall": true_positive / len(planted) if planted else 1.0,
        "top1": top_hits / len(planted) if planted else 1.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument(
        "--scenario", type=Path, nargs="+", default=sorted((ROOT / "tests/scenarios").glob("*_planted.yml"))
    )
    parser.add_argument("--as-of", default="2026-11-20")
    args = parser.parse_args()
    workdir = ROOT / "bench" / "out" / "diagnosis"
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ["HEIMDALL_HOME"] = str(workdir / "home")
    os.environ["DBT_TARGET_PATH"] = str(workdir / "dbt-target")
    os.environ["DBT_LOG_PATH"] = str(workdir / "dbt-logs")
    os.environ.pop("HEIMDALL_DATABASE_URL", None)
    import pgserver
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from warehouse.migrate import migrate

    pgdata = Path("/tmp") / f"heimdall-bench-{uuid.uuid4().hex[:6]}"  # short: the socket lives inside
    server = pgserver.get_server(pgdata, cleanup_mode="delete")
    info = conninfo_to_dict(str(server.get_uri()))
    info["dbname"] = "diagnosis_bench"
    with psycopg.connect(str(server.get_uri()), autocommit=True) as admin:
        admin.execute("drop database if exists diagnosis_bench")
        admin.execute("create database diagnosis_bench")
    url = make_conninfo(**info)
    with psycopg.connect(url) as conn:
        migrate(conn)
    totals = {"fired": 0, "planted": 0, "true_positive": 0, "top1_hits": 0.0}
    header = ("scenario", "seed", "fired", "planted", "precision", "recall", "top-1", "seconds")
    widths = (22, 4, 6, 8, 10, 7, 6, 8)
    print(" ".join(f"{name:>{width}}" for name, width in zip(header, widths, strict=True)))
    try:
        for scenario, seed in [(scenario, seed) for scenario in args.scenario for seed in args.seeds]:
            started = time.perf_counter()
            result = run_seed(url, seed, scenario, date.fromisoformat(args.as_of))
            seconds = time.perf_counter() - started
            print(
                f"{scenario.stem:>22} {seed:>4} {result['fired']:>6} {result['planted']:>8} "
                f"{result['precision']:>10.3f} {result['recall']:>7.3f} {result['top1']:>6.3f} "
                f"{seconds:>8.1f}",
                flush=True,
            )
            totals["fired"] += result["fired"]
            totals["planted"] += result["planted"]
            totals["true_positive"] += result["true_positive"]
            totals["top1_hits"] += result["top1"] * result["planted"]
    finally:
        server.cleanup()
    precision = totals["true_positive"] / totals["fired"] if totals["fired"] else 1.0
    recall = totals["true_positive"] / totals["planted"] if totals["planted"] else 1.0
    top1 = totals["top1_hits"] / totals["planted"] if totals["planted"] else 1.0
    print(
        f"{'all':>22} {'':>4} {totals['fired']:>6} {totals['planted']:>8} {precision:>10.3f} {recall:>7.3f} "
        f"{top1:>6.3f}"
    )
    print(f"\n{'rule':>24} {'fired':>6} {'planted':>8} {'precision':>10} {'recall':>7}")
    for rule, (fired, planted, hits) in sorted(PER_RULE.items()):
        precision_text = f"{hits / fired:.3f}" if fired else "-"
        recall_text = f"{hits / planted:.3f}" if planted else "-"
        print(f"{rule:>24} {fired:>6} {planted:>8} {precision_text:>10} {recall_text:>7}")


if __name__ == "__main__":
    main()
