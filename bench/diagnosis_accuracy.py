"""Diagnosis precision and recall against the generator's ground truth, over several scenarios and seeds,
and the verification verdicts of the planted interventions and of placebo approvals.

    python bench/diagnosis_accuracy.py [--seeds 1 2 3] [--scenario FILE ...] [--scale small]
    (make bench-diagnosis; the demo: --scale medium --scenario generator/scenarios/demo.yml --seeds 42)

Default scenarios: every tests/scenarios/*_planted.yml (incl. `null_planted`: nothing planted, and
`org_confounders_planted`: only organisation-wide effects, holidays and team-size changes). Prints one line
per scenario and seed, then the totals, a table per rule (fired, planted, precision, recall), the false
alarms per team and quarter on the scenarios with nothing team-level planted, and the verdicts.

For each seed: generate the scenario (at --scale, small by default), load it, `dbt run` up to the
recommendations, then compare fct_diagnoses with the planted effects. Unit: (team, rule, ISO week) after a
four-week warm-up.
* planted = weeks whose whole 4-week diagnosis window lies inside a team's effect whose knob's rule
  (heimdall.planted.RULE_OF_KNOB) is that rule (and before an intervention on the same team and knob).
  Organisation-wide effects (`team: all`), holidays and team-size changes plant nothing: a diagnosis they
  cause is a false alarm;
* a knob's side-effect rules (heimdall.planted.SIDE_EFFECTS_OF_KNOB: real side effects of the cause, e.g.
  longer reviews when reviewers leave) are neither right nor wrong while the effect lasts: they are left out
  of precision;
* precision = diagnoses that are planted / all diagnoses; recall = planted weeks diagnosed / planted weeks;
* top-1 = planted (team, rule, week) units whose team-week's rank-1 diagnosis is a rule planted there.
Weeks that are neither clearly planted nor clearly clean for a rule (windows straddling the start or end of an
effect whose rule or side-effect rule it is, or an intervention on it, and weeks after an intervention that
leaves its effect at x1.25 or more) are ignored for that rule; the team's other rules are judged as usual.

Verification: every planted intervention is approved as `heimdall demo --approve-planted` does (expected
verdict: improved), and every planted effect that runs to the end without an intervention gets a placebo
approval 8 weeks after it starts (nothing changes then: expected "no detectable change"); then
insights.verification computes the outcomes. Uses a private embedded PostgreSQL under bench/out/ (not
HEIMDALL_DATABASE_URL).
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

EXPECTED_VERDICT = {"intervention": "improved", "placebo": "no detectable change"}
UNPOWERED = {"too little data", "not enough data to tell yet"}


def _worsens(effect: dict) -> bool:
    """Does the effect make its team worse (only those plant a diagnosis)?"""
    if effect.get("org_wide"):
        return False
    if effect["knob"] == "reviewer_capacity":
        return effect["value"] < 1
    if effect["knob_kind"] == "multiplier":
        return effect["value"] > 1
    return effect["value"] > effect["baseline_value"]


RESIDUAL = 1.25  # an effect an intervention leaves at >= x1.25 is still there
VERBOSE = False  # --verbose: list every false and missed (team, rule, week)
PER_RULE: dict[str, list[int]] = {}  # rule -> [fired, planted, true positives], over every run
FALSE_ALARMS: dict[str, list[float]] = {}  # scenario -> [false team-weeks, false episodes, team-quarters]
VERDICTS: list[tuple[str, int, str, str, str, str]] = []  # scenario, seed, kind, what, verdict, change


def _week(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _labelled_weeks(
    truth: dict,
) -> tuple[set[tuple[str, str, date]], set[tuple[str, str, date]], set[tuple[str, str, date]]]:
    """(team, rule, week) planted, (team, rule, week) too close to a change of that rule's cause to judge (the
    effect's rule and its side-effect rules: another rule of the same team is judged as usual), and
    (team, rule, week) side effects of a planted cause (neither right nor wrong)."""
    planted: set[tuple[str, str, date]] = set()
    ambiguous: set[tuple[str, str, date]] = set()
    side_effects: set[tuple[str, str, date]] = set()
    window_end = date.fromisoformat(truth["window_end"])
    from heimdall.planted import RULE_OF_KNOB, SIDE_EFFECTS_OF_KNOB

    for effect in truth["effects"]:
        if effect["knob"] not in RULE_OF_KNOB or not _worsens(effect):
            continue
        rule, secondary = RULE_OF_KNOB[effect["knob"]], SIDE_EFFECTS_OF_KNOB.get(effect["knob"], ())
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
                        ambiguous.update((effect["team"], judged, week) for judged in (rule, *secondary))
                        week += timedelta(weeks=1)
        week = _week(start)
        while week <= window_end:
            window_start = week - timedelta(weeks=3)
            if window_start >= start and week + timedelta(days=6) <= end:
                planted.add((effect["team"], rule, week))
                side_effects.update((effect["team"], other, week) for other in secondary)
            elif week + timedelta(days=6) >= start and window_start <= end + timedelta(weeks=4):
                ambiguous.update((effect["team"], judged, week) for judged in (rule, *secondary))
            week += timedelta(weeks=1)
    return planted, ambiguous, side_effects


def _episodes(weeks: set[tuple[str, str, date]]) -> int:
    """Runs of consecutive weeks of one rule on one team (one false alarm that lasts three weeks is one)."""
    return sum((team, rule, week - timedelta(weeks=1)) not in weeks for team, rule, week in weeks)


def _verify(url: str, truth: dict, scenario: str, seed: int, as_of: date) -> None:
    """Approve the planted interventions and the placebos, verify, and record each verdict."""
    import psycopg

    from heimdall.planted import RULE_OF_KNOB, record_planted_approvals
    from insights.recommendations import RecommendationError, decide
    from insights.verification import compute_outcomes

    expected: dict[str, str] = {}
    with psycopg.connect(url) as conn:
        recorded = record_planted_approvals(conn, truth)
        for approval in recorded.recorded:
            expected[approval.recommendation_id] = "intervention"
        for approval, reason in recorded.skipped:
            VERDICTS.append(
                (scenario, seed, "intervention", approval.recommendation_id, "not approved", reason)
            )
        changed = {(c["team"], c["knob"]) for c in truth["interventions"]}
        for effect in truth["effects"]:
            rule = RULE_OF_KNOB.get(effect["knob"])
            start = date.fromisoformat(effect["start_date"]) + timedelta(weeks=8)
            if (
                rule is None
                or effect.get("org_wide")
                or effect["to_week"] is not None
                or (effect["team"], effect["knob"]) in changed
                or start > as_of - timedelta(weeks=6)
            ):
                continue
            recommendation_id = f"{effect['team']}:{rule}"
            if recommendation_id in expected:  # two knobs of one effect (blocked often and long)
                continue
            try:
                decide(conn, recommendation_id, "approved", decided_by="bench placebo", start=start)
            except RecommendationError:
                continue  # never diagnosed: nothing to approve
            expected[recommendation_id] = "placebo"
        rows = compute_outcomes(conn, as_of, resamples=1000)
    for row in rows:
        kind = expected.get(row["recommendation_id"])
        if kind is None or row["metric_role"] != "watched":
            continue
        pct = row["change_pct"]
        low, high = row["change_pct_ci_low"], row["change_pct_ci_high"]
        change = "n/a" if pct is None else f"{pct:+.0%} [{_pct(low)}, {_pct(high)}]"
        VERDICTS.append((scenario, seed, kind, row["recommendation_id"], row["verdict"], change))


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.0%}"


def run_seed(url: str, seed: int, scenario_path: Path, as_of: date, scale: str = "small") -> dict[str, float]:
    import psycopg

    from generator import GeneratorOptions, generate, load_scenario
    from warehouse.dbt_runner import run_dbt
    from warehouse.dbt_vars import vars_args
    from warehouse.loader import load_records, purge_source
    from warehouse.settings import get_settings

    options = GeneratorOptions(seed=seed, scale=scale, scenario=load_scenario(scenario_path), as_of=as_of)
    run = generate(options)
    truth = run.ground_truth()
    with psycopg.connect(url) as conn:
        purge_source(conn, "synthetic")
        load_records(conn, run.records, "synthetic")
    run_dbt(["seed", "--full-refresh", *vars_args(as_of=as_of)], url, get_settings(), capture=True)
    run_dbt(
        ["run", "--select", "+fct_diagnoses", "+fct_recommendations", *vars_args(as_of=as_of)],
        url,
        get_settings(),
        capture=True,
    )
    with psycopg.connect(url) as conn:  # decisions of an earlier run name recommendations of another org
        conn.execute("truncate app.recommendation_decisions cascade")
    planted, ambiguous, side_effects = _labelled_weeks(truth)
    warm = date.fromisoformat(truth["window_start"]) + timedelta(weeks=4)
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select team_id, rule_id, week_start_date, rank_in_team_week from marts.fct_diagnoses "
            "where week_start_date >= %s",
            (warm,),
        ).fetchall()
    fired = {
        (team, rule, week)
        for team, rule, week, _ in rows
        if (team, rule, week) not in ambiguous and (team, rule, week) not in side_effects
    }
    planted -= ambiguous  # a week judged ambiguous for the rule by another effect of the same cause family
    if VERBOSE:
        for team, rule, week in sorted(fired - planted):
            print(f"    false: {scenario_path.stem} seed {seed} {team} {rule} {week}")
        for team, rule, week in sorted(planted - fired):
            print(f"    missed: {scenario_path.stem} seed {seed} {team} {rule} {week}")
    top = {(team, week): rule for team, rule, week, rank in rows if rank == 1}
    planted = {item for item in planted if item[2] >= warm}
    true_positive = len(fired & planted)
    planted_rules: dict[tuple[str, date], set[str]] = {}
    for team, rule, week in planted:
        planted_rules.setdefault((team, week), set()).add(rule)
    # the team's costliest diagnosis is a planted one (a team with two planted bottlenecks can rank only one
    # of them first)
    top_hits = sum(top.get((team, week)) in planted_rules[(team, week)] for team, _, week in planted)
    for team, rule, week in fired:
        PER_RULE.setdefault(rule, [0, 0, 0])[0] += 1
        PER_RULE[rule][2] += (team, rule, week) in planted
    for _, rule, _ in planted:
        PER_RULE.setdefault(rule, [0, 0, 0])[1] += 1
    if not any(_worsens(effect) for effect in truth["effects"]):  # nothing team-level planted
        counts = FALSE_ALARMS.setdefault(scenario_path.stem, [0, 0, 0])
        counts[0] += len(fired)
        counts[1] += _episodes(fired)
        counts[2] += len(truth["teams"]) * max(1, (date.fromisoformat(truth["window_end"]) - warm).days) / 91
    _verify(url, truth, scenario_path.stem, seed, as_of)
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
    parser.add_argument(
        "--scale",
        default="small",
        help="generator preset (the demo: --scale medium --scenario generator/scenarios/demo.yml)",
    )
    parser.add_argument("--verbose", action="store_true", help="list every false and missed diagnosis")
    args = parser.parse_args()
    global VERBOSE
    VERBOSE = args.verbose
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
            result = run_seed(url, seed, scenario, date.fromisoformat(args.as_of), args.scale)
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
    if FALSE_ALARMS:
        header = f"{'nothing team-level planted':>26} {'false team-weeks':>17} {'episodes':>9}"
        print(f"\n{header} {'per team-quarter':>17}")
        for name, (weeks, episodes, quarters) in sorted(FALSE_ALARMS.items()):
            print(f"{name:>26} {weeks:>17} {episodes:>9} {episodes / quarters:>17.2f}")
    print(
        f"\n{'scenario':>24} {'seed':>4} {'kind':>12} {'recommendation':>32} {'verdict':>28}  change [95% CI]"
    )
    right = powered = 0
    for scenario, seed, kind, what, verdict, change in VERDICTS:
        mark = ""
        if kind in EXPECTED_VERDICT and verdict not in UNPOWERED and verdict != "not approved":
            powered += 1
            right += verdict == EXPECTED_VERDICT[kind]
            mark = " ok" if verdict == EXPECTED_VERDICT[kind] else " WRONG"
        print(f"{scenario:>24} {seed:>4} {kind:>12} {what:>32} {verdict:>28}  {change}{mark}")
    print(f"verdicts as expected where powered: {right} of {powered}")


if __name__ == "__main__":
    main()
