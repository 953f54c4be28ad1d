"""Statistics for verifying an intervention: deterministic, dependency-free, reproducible from a seed.

* **Observations come in weekly blocks.** Items of the same week share its conditions (a holiday, a broken
  test cluster, the mix of manual and scheduled pipelines), so they are not independent draws: resampling
  items one by one understates the uncertainty and turns ordinary week-to-week swings into "changes". Every
  bootstrap below therefore resamples **whole weeks** (a block bootstrap; the weeks are 7-day blocks anchored
  on the intervention start, see :mod:`insights.verification.outcomes`), pooling the items of the drawn weeks.
  A window of one item per block is the ordinary item bootstrap.
* **Change in the aggregate** (median, or mean for 0/1 rates) of the watched metric for the treated team,
  current window minus baseline window, with a **percentile block-bootstrap 95% CI**: the weeks of both
  windows are resampled independently with replacement ``resamples`` times (default 2,000) and the 2.5th /
  97.5th percentiles of the resampled changes are the bounds. The relative change (after / before - 1) gets
  its own interval the same way.
* **Difference in differences** against the untreated teams (all other teams, pooled):
  (treated after - treated before) - (control after - control before), each aggregate as above, with a
  bootstrap CI that draws the **same weeks** for the treated team and the controls (a paired block
  bootstrap: a week that was bad for everybody stays bad for both sides of the comparison). It removes what
  changed for everybody (seasonality, holidays, an organisation-wide tool change).
* **Verdict** (:func:`verdict`):
  - ``too little data`` when a treated window has fewer than ``min_sample`` observations;
  - ``improved`` / ``worsened`` when the treated change's 95% CI excludes zero in the good / bad direction
    **and** the difference-in-differences CI does not contradict it (it excludes zero in the same direction,
    or there is no control data, in which case the basis says so);
  - ``no detectable change`` otherwise (including when the DiD interval includes zero: the change may be
    organisation-wide rather than the intervention's).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import fmean, median

Aggregate = Callable[[Sequence[float]], float]
Blocks = Sequence[Sequence[float]]
"""A window's observations grouped by week: one inner sequence per week (possibly empty)."""
AGGREGATES: dict[str, Aggregate] = {"median": median, "mean": fmean}
DEFAULT_RESAMPLES = 2000


@dataclass(frozen=True)
class Interval:
    estimate: float | None
    low: float | None
    high: float | None

    def excludes_zero(self) -> bool:
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)

    def sign(self) -> int:
        """+1 / -1 when the interval lies entirely above / below zero, else 0."""
        if self.low is not None and self.low > 0:
            return 1
        if self.high is not None and self.high < 0:
            return -1
        return 0


def aggregate(name: str) -> Aggregate:
    try:
        return AGGREGATES[name]
    except KeyError:
        raise ValueError(f"unknown aggregation {name!r}; known: {', '.join(AGGREGATES)}") from None


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Linear-interpolation percentile of already sorted values (as numpy's default and PostgreSQL's
    percentile_cont)."""
    if not sorted_values:
        raise ValueError("percentile of an empty sample")
    position = fraction * (len(sorted_values) - 1)
    lower = math.floor(position)
    upper = math.ceil(position)
    weight = position - lower
    return sorted_values[lower] + (sorted_values[upper] - sorted_values[lower]) * weight


def pooled(blocks: Blocks) -> list[float]:
    """Every observation of the window, whatever its week."""
    return [value for block in blocks for value in block]


def _draw(rng: random.Random, n: int) -> list[int]:
    """``n`` block indices drawn with replacement."""
    return [rng.randrange(n) for _ in range(n)]


def _take(blocks: Blocks, picks: Sequence[int]) -> list[float]:
    return [value for pick in picks for value in blocks[pick]]


def _interval(estimate: float | None, draws: list[float], level: float = 0.95) -> Interval:
    if not draws:
        return Interval(estimate, None, None)
    draws.sort()
    tail = (1 - level) / 2
    return Interval(estimate, percentile(draws, tail), percentile(draws, 1 - tail))


@dataclass(frozen=True)
class ChangeResult:
    before: float | None
    after: float | None
    change: Interval
    change_pct: Interval


def bootstrap_change(
    before: Blocks,
    after: Blocks,
    how: str = "median",
    *,
    seed: int,
    resamples: int = DEFAULT_RESAMPLES,
) -> ChangeResult:
    """Change of the aggregate from ``before`` to ``after`` (weekly blocks) with percentile block-bootstrap
    95% intervals."""
    agg = aggregate(how)
    before_values, after_values = pooled(before), pooled(after)
    if not before_values or not after_values:
        return ChangeResult(
            agg(before_values) if before_values else None,
            agg(after_values) if after_values else None,
            Interval(None, None, None),
            Interval(None, None, None),
        )
    b, a = agg(before_values), agg(after_values)
    rng = random.Random(seed)
    changes: list[float] = []
    ratios: list[float] = []
    for _ in range(resamples):
        drawn_before = _take(before, _draw(rng, len(before)))
        drawn_after = _take(after, _draw(rng, len(after)))
        if not drawn_before or not drawn_after:  # only empty weeks drawn: no aggregate to compare
            continue
        rb, ra = agg(drawn_before), agg(drawn_after)
        changes.append(ra - rb)
        if rb != 0:
            ratios.append(ra / rb - 1)
    pct = (a / b - 1) if b != 0 else None
    return ChangeResult(b, a, _interval(a - b, changes), _interval(pct, ratios if pct is not None else []))


def bootstrap_did(
    treated_before: Blocks,
    treated_after: Blocks,
    control_before: Blocks,
    control_after: Blocks,
    how: str = "median",
    *,
    seed: int,
    resamples: int = DEFAULT_RESAMPLES,
) -> Interval:
    """Difference in differences of the aggregate, with a paired block-bootstrap 95% interval: each draw takes
    the same weeks for the treated team and the controls (``treated_before`` and ``control_before`` list the
    same weeks, as do the two ``after`` windows)."""
    if len(treated_before) != len(control_before) or len(treated_after) != len(control_after):
        raise ValueError("treated and control windows must list the same weeks")
    groups = (treated_before, treated_after, control_before, control_after)
    if any(not pooled(group) for group in groups):
        return Interval(None, None, None)
    agg = aggregate(how)

    def did(tb: Sequence[float], ta: Sequence[float], cb: Sequence[float], ca: Sequence[float]) -> float:
        return (agg(ta) - agg(tb)) - (agg(ca) - agg(cb))

    estimate = did(*(pooled(group) for group in groups))
    rng = random.Random(seed)
    draws: list[float] = []
    for _ in range(resamples):
        weeks_before, weeks_after = _draw(rng, len(treated_before)), _draw(rng, len(treated_after))
        drawn = (
            _take(treated_before, weeks_before),
            _take(treated_after, weeks_after),
            _take(control_before, weeks_before),
            _take(control_after, weeks_after),
        )
        if all(drawn):
            draws.append(did(*drawn))
    return _interval(estimate, draws)


@dataclass(frozen=True)
class Verdict:
    verdict: str
    basis: str


def verdict(
    change: Interval,
    did: Interval,
    *,
    higher_is_better: bool,
    n_before: int,
    n_after: int,
    min_sample: int,
    has_control: bool,
) -> Verdict:
    """The verdict rule of the module docstring, with a one-sentence basis a reader can check."""
    if n_before < min_sample or n_after < min_sample:
        return Verdict(
            "too little data",
            f"{n_before} observations before and {n_after} after; "
            f"at least {min_sample} are needed in each window.",
        )
    good = 1 if higher_is_better else -1
    sign = change.sign()
    ci = f"95% CI of the change [{_fmt(change.low)}, {_fmt(change.high)}]"
    if sign == 0:
        return Verdict("no detectable change", f"The {ci} includes zero.")
    direction = "improved" if sign == good else "worsened"
    if not has_control or did.estimate is None:
        return Verdict(direction, f"The {ci} excludes zero; no control teams had data, so no DiD check.")
    did_ci = f"difference-in-differences 95% CI [{_fmt(did.low)}, {_fmt(did.high)}]"
    if did.sign() == sign:
        return Verdict(direction, f"The {ci} excludes zero and the {did_ci} agrees against the other teams.")
    return Verdict(
        "no detectable change",
        f"The {ci} excludes zero, but the {did_ci} does not: the other teams changed similarly.",
    )


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"
