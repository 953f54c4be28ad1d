"""Pipeline benchmark: rows, wall seconds and peak memory per stage.

    python bench/pipeline.py --scale small|medium|large [--seed 42] [--as-of 2026-11-20]

Stages, each run in its own child process so its peak RSS is its own:
  generate     the seeded generator writes JSON lines (streaming)
  load         COPY + upsert into raw of every document except those last updated on the final day
  dbt build    full `dbt build` (models + tests) on an empty target
  incremental  load the final day's documents, then `dbt build` again (incremental models)

Uses a private embedded PostgreSQL under bench/out/ (or HEIMDALL_DATABASE_URL if set — it is
wiped of Heimdall schemas first, so point it at a scratch database).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _child(stage: str, args: argparse.Namespace) -> dict[str, float]:
    """Run one stage in a child process; return its wall seconds, peak RSS and reported rows."""
    command = [sys.executable, __file__, "--stage", stage, "--scale", args.scale, "--seed", str(args.seed)]
    command += ["--as-of", args.as_of, "--workdir", str(args.workdir)]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=_env(args))
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    output = process.stdout.read() if process.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"stage {stage} failed:\n{output}")
    rows = json.loads(output.strip().splitlines()[-1])["rows"]
    return {"rows": rows, "seconds": wall, "peak_mib": usage.ru_maxrss / 1024}


def _env(args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    env["HEIMDALL_HOME"] = str(args.workdir / "home")
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    env["DBT_TARGET_PATH"] = str(args.workdir / "dbt-target")
    env["DBT_LOG_PATH"] = str(args.workdir / "dbt-logs")
    return env


def _final_day(args: argparse.Namespace) -> date:
    return date.fromisoformat(args.as_of)


def _is_final_day(record: object, final_day: date) -> bool:
    from warehouse.loader import TABLE_SPECS, RejectedDocument

    try:
        _, _, updated_at = TABLE_SPECS[record.table].key(record)  # type: ignore[attr-defined]
    except RejectedDocument:
        return False
    return updated_at is not None and updated_at.date() >= final_day


def _run_stage(stage: str, args: argparse.Namespace) -> int:
    out_dir = args.workdir / "jsonl"
    if stage == "generate":
        from generator import GeneratorOptions, generate, write_jsonl

        run = generate(GeneratorOptions(seed=args.seed, scale=args.scale, as_of=_final_day(args)))
        return sum(write_jsonl(run.records, out_dir).values())

    from warehouse import db
    from warehouse.dbt_runner import run_dbt
    from warehouse.dbt_vars import vars_args
    from warehouse.loader import load_records
    from warehouse.migrate import migrate

    url = db.database_url()
    if stage in ("load", "incremental"):
        from generator import read_jsonl

        final_day = _final_day(args)
        keep_final = stage == "incremental"
        records = (r for r in read_jsonl(out_dir) if _is_final_day(r, final_day) == keep_final)
        with db.connect(url) as conn:
            migrate(conn)
            summary = load_records(conn, records, "synthetic")
        if stage == "load":
            return summary.loaded
    run_dbt(["build", *vars_args(as_of=args.as_of), "--quiet"], url, capture=True)
    with db.connect(url) as conn:
        tables = conn.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
        return sum(
            conn.execute(f'select count(*) from marts."{name}"').fetchone()[0]  # type: ignore[index]
            for (name,) in tables
        )


def _reset(args: argparse.Namespace) -> None:
    if args.workdir.exists():
        subprocess.run([sys.executable, "-m", "heimdall", "db", "stop"], env=_env(args), capture_output=True)
        shutil.rmtree(args.workdir)
    args.workdir.mkdir(parents=True)
    if os.environ.get("HEIMDALL_DATABASE_URL"):
        import psycopg

        with psycopg.connect(os.environ["HEIMDALL_DATABASE_URL"], autocommit=True) as conn:
            for schema in ("raw", "app", "staging", "intermediate", "marts", "seeds"):
                conn.execute(f"drop schema if exists {schema} cascade")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--scale", default="small", choices=["small", "medium", "large"])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--as-of", default="2026-11-20")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.workdir is None:
        # short path: the embedded server's unix socket lives under it
        args.workdir = Path("/tmp") / f"heimdall-bench-{args.scale}"
    if args.stage:
        rows = _run_stage(args.stage, args)
        print(json.dumps({"rows": rows}))
        return

    _reset(args)
    print(f"Heimdall pipeline benchmark — scale={args.scale} seed={args.seed} as_of={args.as_of}")
    print(f"{'stage':<14}{'rows':>12}{'seconds':>10}{'peak MiB':>10}")
    started = datetime.now()
    for stage, label in (
        ("generate", "generate"),
        ("load", "load"),
        ("build", "dbt build"),
        ("incremental", "incremental"),
    ):
        figures = _child(stage, args)
        print(f"{label:<14}{figures['rows']:>12,}{figures['seconds']:>10.1f}{figures['peak_mib']:>10.0f}")
    print(f"total wall time {timedelta(seconds=round((datetime.now() - started).total_seconds()))}")
    print("rows: documents written / documents loaded / mart rows after the build")
    subprocess.run([sys.executable, "-m", "heimdall", "db", "stop"], env=_env(args), capture_output=True)


if __name__ == "__main__":
    main()
