"""Statistics for verifying an intervention: deterministic, dependency-free, reproducible.

Since issue 12 the verdict rests on a **weekly random-effects test on the diagnosis test scale**
(:func:`shift_test`, :func:`did_test`, :func:`verdict`); the block-bootstrap functions below
(:func:`bootstrap_change`, :func:`bootstrap_did`) are kept for comparison and reuse.

* **Test scale** (:func:`to_test_scale`): ``log(1 + value)`` for the metrics aggregated by their
  ``median`` (skewed durations: a multiplicative change is a shift of the log), the value itself for ``mean``
  metrics (0/1 rates, hours, shares) -- the scale the diagnosis tests use (docs/metrics.md, "Diagnosis").
* **Observations come in weekly blocks.** Items of the same week share its conditions (a holiday, a broken
  test cluster, the mix of manual and scheduled pipelines), so they are not independent draws. A window's
  estimate is the pooled mean of its units on the test scale; its variance follows the one-way random-effects
  model ``y = mu + week effect (variance tau2) + item noise (variance s2)``:
  ``Var(pooled mean) = sum_w (n_w^2 tau2 + n_w s2) / N^2`` (:func:`window_variance`). ``s2`` is the pooled
  within-week variance and ``tau2`` the method-of-moments between-week variance (truncated at 0), both
  estimated from the windows of one group (each centred on its own mean: an effect is not noise)
  (:func:`variance_components`). With ``tau2 = 0`` this is the ordinary two-sample test; a week-to-week swing
  larger than item noise widens the interval instead of becoming an "effect".
* **Change** after - before with a ``1 - alpha`` t interval whose degrees of freedom are the weeks with data
  minus 2 (weeks, not items, are the independent units; measured on placebo approvals of the medium demo, a
  normal interval called 4-8 % of placebos a change, this one 0-3 %); **difference in differences** (treated
  change - control change), paired by week: the two variances added less twice their covariance through the
  weeks both groups share (an organisation-wide week effect moves both sides and cancels in the difference),
  never below the two groups' item noise (:func:`did_test`).
* **Power** (:func:`minimum_detectable_shift`): the minimum detectable change at the current samples is
  ``(t_{1-alpha/2} + t_power) * SE``; with the expected change of the playbook translated to the test scale
  (:func:`expected_shift`) it says whether a "no detectable change" means anything, and
  :func:`weeks_needed` says after how many weeks of the current window it will (the team's weekly volume and
  week-to-week variability projected forward: ``SE^2 = Var(baseline) + (tau2 + s2 / n_week) / weeks``).
* **Verdict** (:func:`verdict`):
  - ``too little data`` when the baseline has fewer than ``min_sample`` observations (nothing to compare with;
    waiting does not help);
  - ``improved`` / ``worsened`` when the change's interval excludes zero in the good / bad direction **and**
    the difference-in-differences interval agrees (or there is no control data, in which case the basis says
    so);
  - ``no detectable change`` when the DiD interval contradicts it (the other teams changed similarly), or when
    the interval includes zero although the data could have shown the expected change (powered);
  - ``not enough data to tell yet`` when the current window has fewer than ``min_sample`` observations, or the
    interval includes zero and the minimum detectable change still exceeds the expected change.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import NormalDist, fmean, median

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


# ----------------------------------------------------------------------------------------------------
# The weekly random-effects test (issue 12)

WeekStats = tuple[int, float, float]
"""One week of a window on the test scale: (units, sum of values, sum of squared values)."""
SCALES = {"median": "log1p", "mean": "identity"}
DEFAULT_ALPHA = 0.05
DEFAULT_POWER = 0.8


def test_scale(aggregation: str) -> str:
    """``log1p`` for median metrics (skewed durations), ``identity`` for mean metrics."""
    try:
        return SCALES[aggregation]
    except KeyError:
        raise ValueError(f"unknown aggregation {aggregation!r}; known: {', '.join(SCALES)}") from None


def to_test_scale(value: float, scale: str) -> float:
    return math.log1p(max(value, 0.0)) if scale == "log1p" else value


def week_stats(values: Sequence[float]) -> WeekStats:
    """The sufficient statistics of one week's test-scale values."""
    return (len(values), math.fsum(values), math.fsum(v * v for v in values))


def window_mean(weeks: Sequence[WeekStats]) -> float | None:
    """The pooled mean of a window's units (None when it has none)."""
    n = sum(week[0] for week in weeks)
    return math.fsum(week[1] for week in weeks) / n if n else None


def variance_components(windows: Sequence[Sequence[WeekStats]]) -> tuple[float, float]:
    """``(s2, tau2)``: the pooled within-week variance and the between-week variance (method of moments,
    truncated at 0) of the weeks of ``windows``, each window centred on its own mean.

    ``tau2 = max(0, (SSB / df_b - s2) / n0)`` with ``SSB = sum_w n_w (mean_w - mean_window)^2``,
    ``df_b = sum (weeks - 1)`` and ``n0 = sum (N - sum n_w^2 / N) / df_b`` (the one-way ANOVA estimator for
    unequal week sizes)."""
    units = weeks_seen = df_between = 0
    within = between = n0_sum = 0.0
    for window in windows:
        weeks = [week for week in window if week[0] > 0]
        if not weeks:
            continue
        n = sum(week[0] for week in weeks)
        grand = math.fsum(week[1] for week in weeks) / n
        for count, total, squares in weeks:
            within += max(squares - total * total / count, 0.0)
            between += count * (total / count - grand) ** 2
        units += n
        weeks_seen += len(weeks)
        df_between += len(weeks) - 1
        n0_sum += n - sum(week[0] ** 2 for week in weeks) / n
    s2 = within / (units - weeks_seen) if units > weeks_seen else 0.0
    if df_between <= 0 or n0_sum <= 0:
        return s2, 0.0
    tau2 = max(0.0, (between / df_between - s2) / (n0_sum / df_between))
    return s2, tau2


def window_variance(weeks: Sequence[WeekStats], s2: float, tau2: float) -> float | None:
    """Variance of the pooled mean of ``weeks`` under the random-effects model."""
    n = sum(week[0] for week in weeks)
    if not n:
        return None
    return math.fsum(week[0] ** 2 * tau2 + week[0] * s2 for week in weeks) / n**2


def z_value(probability: float) -> float:
    """The standard normal quantile (z_0.975 = 1.96, z_0.8 = 0.8416)."""
    return NormalDist().inv_cdf(probability)


def t_value(probability: float, df: float) -> float:
    """Student's t quantile by the Cornish-Fisher expansion of the normal one (as the diagnosis macro
    ``t_critical``): ``z + (z^3 + z) / (4 df) + (5 z^5 + 16 z^3 + 3 z) / (96 df^2)``; within 0.3 % of the
    exact quantile from 5 degrees of freedom (t_0.975 with 10 df: 2.2254 against 2.2281)."""
    z = z_value(probability)
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


def degrees_of_freedom(weeks_with_data: float) -> float:
    """Weeks are the independent units: a two-window comparison over ``weeks_with_data`` weeks has
    ``weeks - 2`` degrees of freedom (at least 1), as cluster-robust inference with few clusters."""
    return max(weeks_with_data - 2, 1)


def week_variance(s2: float, tau2: float, units_per_week: float) -> float:
    """What one more week adds to the variance of a window mean, times the window's weeks:
    ``tau2 + s2 / units per week``; with fewer than one unit a week (sprints), a week without a unit adds
    nothing, so each unit counts as a week of its own: ``(tau2 + s2) / units per week``."""
    if units_per_week <= 0:
        return math.inf
    return (tau2 + s2 / max(units_per_week, 1.0)) / min(units_per_week, 1.0)


@dataclass(frozen=True)
class ShiftTest:
    """A change on the test scale: estimate, standard error and its ``1 - alpha`` interval."""

    estimate: float | None
    se: float | None
    interval: Interval
    df: float = 1


def _shift(estimate: float | None, variance: float | None, alpha: float, df: float) -> ShiftTest:
    if estimate is None or variance is None:
        return ShiftTest(None, None, Interval(None, None, None), df)
    se = math.sqrt(max(variance, 0.0))
    half = t_value(1 - alpha / 2, df) * se
    return ShiftTest(estimate, se, Interval(estimate, estimate - half, estimate + half), df)


@dataclass(frozen=True)
class GroupWindows:
    """One group's (treated team's or controls') baseline and current weeks on the test scale."""

    before: Sequence[WeekStats]
    after: Sequence[WeekStats]

    def components(self) -> tuple[float, float]:
        return variance_components([self.before, self.after])

    def df(self) -> float:
        """Degrees of freedom of a comparison of the two windows: weeks with data - 2."""
        return degrees_of_freedom(sum(1 for week in [*self.before, *self.after] if week[0] > 0))

    def change(self) -> tuple[float | None, float | None]:
        """(after mean - before mean, its variance) or Nones when a window is empty."""
        b, a = window_mean(self.before), window_mean(self.after)
        if b is None or a is None:
            return None, None
        s2, tau2 = self.components()
        vb, va = window_variance(self.before, s2, tau2), window_variance(self.after, s2, tau2)
        assert vb is not None and va is not None
        return a - b, vb + va


def shift_test(treated: GroupWindows, *, alpha: float = DEFAULT_ALPHA) -> ShiftTest:
    """The treated team's change on the test scale with its random-effects t interval."""
    return _shift(*treated.change(), alpha, treated.df())


def common_week_covariance(treated: GroupWindows, control: GroupWindows) -> float:
    """The covariance of the treated team's and the controls' week means over the weeks both have data, each
    window centred on its own mean of week means (an effect is not a common swing), at least 0: the
    organisation-wide part of the week-to-week variance (a holiday, an org-wide outage, a busy season), which
    both groups' ``tau2`` contain. ``sum_w (t_w - mean_t) (c_w - mean_c) / sum (weeks - 1)``."""
    products = 0.0
    df = 0
    for t_window, c_window in ((treated.before, control.before), (treated.after, control.after)):
        pairs = [
            (t_week[1] / t_week[0], c_week[1] / c_week[0])
            for t_week, c_week in zip(t_window, c_window, strict=False)
            if t_week[0] > 0 and c_week[0] > 0
        ]
        if len(pairs) < 2:
            continue
        t_mean = math.fsum(t for t, _ in pairs) / len(pairs)
        c_mean = math.fsum(c for _, c in pairs) / len(pairs)
        products += math.fsum((t - t_mean) * (c - c_mean) for t, c in pairs)
        df += len(pairs) - 1
    return max(products / df, 0.0) if df > 0 else 0.0


def _shared_weight(t_window: Sequence[WeekStats], c_window: Sequence[WeekStats]) -> float:
    """How much one common week effect weighs in both window means together: ``sum_w n_tw n_cw / (N_t N_c)``
    (the pooled means weigh each week by its units)."""
    t_units = sum(week[0] for week in t_window)
    c_units = sum(week[0] for week in c_window)
    if not t_units or not c_units:
        return 0.0
    shared = sum(t[0] * c[0] for t, c in zip(t_window, c_window, strict=False))
    return shared / (t_units * c_units)


def _within_variance(group: GroupWindows) -> float:
    """The item-noise part of a group's change variance (``tau2 = 0``): the floor no common swing removes."""
    s2, _ = group.components()
    before, after = window_variance(group.before, s2, 0.0), window_variance(group.after, s2, 0.0)
    return (before or 0.0) + (after or 0.0)


def did_test(treated: GroupWindows, control: GroupWindows, *, alpha: float = DEFAULT_ALPHA) -> ShiftTest:
    """Difference in differences on the test scale, paired by week: the two changes' variances are added
    less twice their covariance through the weeks they share (:func:`common_week_covariance`: an
    organisation-wide swing moves both groups in the same weeks and cancels in the difference, so counting it
    in both variances would call a real team effect "no detectable change"), never below the two groups' item
    noise. The degrees of freedom are the treated team's (the controls pool many teams)."""
    t_change, t_var = treated.change()
    c_change, c_var = control.change()
    if t_change is None or c_change is None or t_var is None or c_var is None:
        return ShiftTest(None, None, Interval(None, None, None), treated.df())
    shared = _shared_weight(treated.before, control.before) + _shared_weight(treated.after, control.after)
    covariance = common_week_covariance(treated, control) * shared
    variance = max(t_var + c_var - 2 * covariance, _within_variance(treated) + _within_variance(control))
    return _shift(t_change - c_change, variance, alpha, treated.df())


def expected_shift(baseline_mean: float, expected_change_pct: float, scale: str) -> float:
    """The playbook's expected relative change of the metric, as a shift on the test scale.

    ``identity``: ``expected * baseline``. ``log1p``: the typical value ``g = exp(baseline) - 1`` (the
    geometric mean of 1 + value, minus 1) moved by the expected change: ``log(1 + g (1 + expected)) -
    log(1 + g)``. A halving of 8 hours is ``log(5) - log(9) = -0.588``, not ``log(0.5) = -0.693``: log(1 + x)
    compresses short waits, and the verification must expect what its own scale can show."""
    if scale == "log1p":
        typical = math.expm1(baseline_mean)
        return math.log1p(max(typical * (1 + expected_change_pct), 0.0)) - math.log1p(typical)
    return expected_change_pct * baseline_mean


def relative_change(baseline_mean: float | None, shift: float | None, scale: str) -> float | None:
    """A test-scale shift as a relative change of the typical value (``exp(mean) - 1`` on log1p, the mean
    itself on identity), at least -100%; None when the typical value is 0."""
    if baseline_mean is None or shift is None:
        return None
    if scale == "log1p":
        typical = math.expm1(baseline_mean)
        relative = math.expm1(baseline_mean + shift) / typical - 1 if typical > 0 else None
    else:
        relative = shift / baseline_mean if baseline_mean != 0 else None
    # every metric is non-negative: nothing falls by more than 100% (a rare rate's interval may reach past it)
    return None if relative is None else max(relative, -1.0)


def minimum_detectable_shift(
    se: float, df: float, *, alpha: float = DEFAULT_ALPHA, power: float = DEFAULT_POWER
) -> float:
    """The smallest true shift a two-sided ``alpha`` test detects with probability ``power``:
    ``(t_{1-alpha/2, df} + t_{power, df}) * SE`` (with many weeks (1.96 + 0.8416) * SE = 2.8016 * SE)."""
    return (t_value(1 - alpha / 2, df) + t_value(power, df)) * se


def weeks_needed(
    baseline_variance: float,
    week_variance: float,
    target_shift: float,
    baseline_weeks: int,
    *,
    alpha: float = DEFAULT_ALPHA,
    power: float = DEFAULT_POWER,
    horizon: int = 104,
    weeks_with_data_share: float = 1.0,
) -> int | None:
    """How many weeks of the current window make the minimum detectable shift reach ``target_shift``: the
    smallest ``k`` (up to ``horizon``) with ``minimum_detectable_shift(sqrt(baseline_variance +
    week_variance / k), df = baseline_weeks + k * weeks_with_data_share - 2) <= |target_shift|``, where
    ``week_variance`` (:func:`week_variance`) is what one week of the current window contributes and
    ``weeks_with_data_share`` the share of weeks expected to have data (units per week, at most 1). None when
    two years would not do (the baseline alone is too noisy or too short)."""
    if target_shift == 0 or week_variance == math.inf:
        return None
    for weeks in range(1, horizon + 1):
        se = math.sqrt(baseline_variance + week_variance / weeks)
        df = degrees_of_freedom(baseline_weeks + weeks * weeks_with_data_share)
        if minimum_detectable_shift(se, df, alpha=alpha, power=power) <= abs(target_shift):
            return weeks
    return None


@dataclass(frozen=True)
class Verdict:
    verdict: str
    basis: str


VERDICTS = ("improved", "worsened", "no detectable change", "not enough data to tell yet", "too little data")


def verdict(
    change: Interval,
    did: Interval,
    *,
    higher_is_better: bool,
    n_before: int,
    n_after: int,
    min_sample: int,
    has_control: bool,
    powered: bool | None = None,
    power_note: str = "",
    level: float = 0.95,
) -> Verdict:
    """The verdict rule of the module docstring, with a one-sentence basis a reader can check.

    ``powered``: whether the data could have shown the expected change (minimum detectable change <= expected
    change); None when no change is expected (a guard metric), then an interval including zero is "no
    detectable change". ``power_note`` is appended to the basis of the undecided verdicts."""
    if n_before < min_sample:
        return Verdict(
            "too little data",
            f"{n_before} observations in the baseline; at least {min_sample} are needed to compare with.",
        )
    note = f" {power_note}" if power_note else ""
    if n_after < min_sample:
        return Verdict(
            "not enough data to tell yet",
            f"{n_after} observations since the start; at least {min_sample} are needed.{note}",
        )
    good = 1 if higher_is_better else -1
    sign = change.sign()
    ci = f"{level:.0%} CI of the change [{_fmt(change.low)}, {_fmt(change.high)}]"
    if sign == 0:
        if powered is False:
            return Verdict("not enough data to tell yet", f"The {ci} includes zero.{note}")
        return Verdict("no detectable change", f"The {ci} includes zero.{note}")
    direction = "improved" if sign == good else "worsened"
    if not has_control or did.estimate is None:
        return Verdict(direction, f"The {ci} excludes zero; no control teams had data, so no DiD check.")
    did_ci = f"difference-in-differences {level:.0%} CI [{_fmt(did.low)}, {_fmt(did.high)}]"
    if did.sign() == sign:
        return Verdict(direction, f"The {ci} excludes zero and the {did_ci} agrees against the other teams.")
    return Verdict(
        "no detectable change",
        f"The {ci} excludes zero, but the {did_ci} does not: the other teams changed similarly.",
    )


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"
