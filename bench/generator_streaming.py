"""Generator streaming benchmark: how soon a run is ready and its first records arrive.

    python bench/generator_streaming.py [--scale large] [--seed 1] [--as-of 2026-11-20] [--records 200]

Prints wall seconds for
  plan          ``generate(options)``: the run is planned, nothing is simulated yet (lazy)
  ground truth  ``run.ground_truth()``: the planted truth, still without simulating a team
  first N       the first N records (only the first team is simulated for them)
  teams         how many teams had been simulated when the first N records arrived

tests/generator/test_generator_api.py asserts the laziness itself (nothing simulated up front, only the
first team for the first records); the timings are figures to watch here, not pass/fail conditions.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--scale", default="large", choices=["small", "medium", "large"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--as-of", default="2026-11-20")
    parser.add_argument("--records", type=int, default=200)
    args = parser.parse_args()

    import generator
    from generator import GeneratorOptions, generate

    simulated: list[str] = []
    original = generator.GeneratorRun.team_records

    def counting(self, team):  # type: ignore[no-untyped-def]
        simulated.append(team.slug)
        yield from original(self, team)

    generator.GeneratorRun.team_records = counting  # type: ignore[method-assign]

    started = time.perf_counter()
    run = generate(GeneratorOptions(seed=args.seed, scale=args.scale, as_of=date.fromisoformat(args.as_of)))
    planned = time.perf_counter() - started

    started = time.perf_counter()
    teams = len(run.ground_truth()["teams"])
    truth = time.perf_counter() - started

    started = time.perf_counter()
    first = [record for _, record in zip(range(args.records), run.records, strict=False)]
    records = time.perf_counter() - started

    print(f"Generator streaming benchmark — scale={args.scale} seed={args.seed} as_of={args.as_of}")
    print(f"{'step':<16}{'seconds':>10}")
    print(f"{'plan':<16}{planned:>10.3f}")
    print(f"{'ground truth':<16}{truth:>10.3f}   ({teams} teams planned)")
    print(f"{f'first {len(first)}':<16}{records:>10.3f}   ({len(simulated)} team(s) simulated)")


if __name__ == "__main__":
    main()
