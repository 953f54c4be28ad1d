"""Statistics for verifying an intervention: deterministic, dependency-free, reproducible from a seed.

* **Change in the aggregate** (median, or mean for 0/1 rates) of the watched metric for the treated team,
  current window minus baseline window, with a **percentile bootstrap 95% CI**: both windows are
  resampled independently with replacement ``resamples`` times (default 2,000) and the 2.5th / 97.5th
  percentiles of the resampled changes are the bounds. The relative change (after / before - 1) gets its
  own interval the same way.
* **Difference in differences** against the untreated teams (all other teams, pooled):
  (treated after - treated before) - (control after - control before), each aggregate as above, with a
  bootstrap CI that resamples the four groups independently. It removes what changed for everybody
  (seasonality, holidays, an organisation-wide tool change).
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


def _resample(rng: random.Random, values: Sequence[float]) -> list[float]:
    n = len(values)
    return [values[rng.randrange(n)] for _ in range(n)]


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
    before: Sequence[float],
    after: Sequence[float],
    how: str = "median",
    *,
    seed: int,
    resamples: int = DEFAULT_RESAMPLES,
) -> ChangeResult:
    """Change of the aggregate from ``before`` to ``after`` with percentile-bootstrap 95% intervals."""
    agg = aggregate(how)
    if not before or not after:
        return ChangeResult(
            agg(before) if before else None,
            agg(after) if after else None,
            Interval(None, None, None),
            Interval(None, None, None),
        )
    b, a = agg(before), agg(after)
    rng = random.Random(seed)
    changes: list[float] = []
    ratios: list[float] = []
    for _ in range(resamples):
        rb, ra = agg(_resample(rng, before)), agg(_resample(rng, after))
        changes.append(ra - rb)
        if rb != 0:
            ratios.append(ra / rb - 1)
    pct = (a / b - 1) if b != 0 else None
    return ChangeResult(b, a, _interval(a - b, changes), _interval(pct, ratios if pct is not None else []))


def bootstrap_did(
    treated_before: Sequence[float],
    treated_after: Sequence[float],
    control_before: Sequence[float],
    control_after: Sequence[float],
    how: str = "median",
    *,
    seed: int,
    resamples: int = DEFAULT_RESAMPLES,
) -> Interval:
    """Difference in differences of the aggregate, with a bootstrap 95% interval (four groups resampled)."""
    groups = (treated_before, treated_after, control_before, control_after)
    if any(len(group) == 0 for group in groups):
        return Interval(None, None, None)
    agg = aggregate(how)

    def did(tb: Sequence[float], ta: Sequence[float], cb: Sequence[float], ca: Sequence[float]) -> float:
        return (agg(ta) - agg(tb)) - (agg(ca) - agg(cb))

    estimate = did(*groups)
    rng = random.Random(seed)
    draws = [did(*(_resample(rng, group) for group in groups)) for _ in range(resamples)]
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
