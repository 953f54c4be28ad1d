"""insights.verification.stats on small explicit samples; expectations computed by hand in the comments."""

from __future__ import annotations

import math
import random

import pytest

from insights.verification.stats import (
    GroupWindows,
    Interval,
    bootstrap_change,
    bootstrap_did,
    common_week_covariance,
    did_test,
    expected_shift,
    minimum_detectable_shift,
    percentile,
    relative_change,
    shift_test,
    t_value,
    variance_components,
    verdict,
    week_stats,
    week_variance,
    weeks_needed,
    window_variance,
)


def items(values: list[float]) -> list[list[float]]:
    """One observation per block: the block bootstrap is then the ordinary item bootstrap."""
    return [[value] for value in values]


def test_percentile_interpolates_like_percentile_cont() -> None:
    assert percentile([1, 2, 3, 4], 0.5) == 2.5  # position 1.5: 2 + 0.5 * (3 - 2)
    assert percentile([1, 2, 3, 4], 0.85) == pytest.approx(3.55)  # position 2.55: 3 + 0.55 * 1
    assert percentile([7], 0.975) == 7


def test_change_in_the_median_with_its_interval() -> None:
    # medians: before [10, 12, 14] -> 12, after [5, 6, 7] -> 6; change -6, relative 6 / 12 - 1 = -0.5
    result = bootstrap_change(items([10, 12, 14]), items([5, 6, 7]), "median", seed=1, resamples=500)
    assert (result.before, result.after) == (12, 6)
    assert result.change.estimate == -6
    assert result.change_pct.estimate == pytest.approx(-0.5)
    # a resampled median of 3 values is one of them: changes lie in [5 - 14, 7 - 10] = [-9, -3]
    assert -9 <= result.change.low <= result.change.high <= -3
    assert result.change.excludes_zero() and result.change.sign() == -1


def test_change_in_the_mean_for_rates() -> None:
    # 0/1 rates: mean 1/4 = 0.25 before, 4/4 = 1 after: change +0.75, relative 1 / 0.25 - 1 = +3
    result = bootstrap_change(items([0, 0, 0, 1]), items([1, 1, 1, 1]), "mean", seed=2, resamples=300)
    assert (result.before, result.after, result.change.estimate) == (0.25, 1.0, 0.75)
    assert result.change_pct.estimate == pytest.approx(3.0)


def test_difference_in_differences() -> None:
    # treated 12 -> 6 (-6); control 10 -> 10 (0): DiD = -6 - 0 = -6
    did = bootstrap_did(
        items([10, 12, 14]), items([5, 6, 7]), items([10, 10, 10]), items([10, 10, 10]), seed=3, resamples=500
    )
    assert did.estimate == -6
    assert -9 <= did.low <= did.high <= -3  # the control never moves, so DiD draws are the treated draws
    # control falls the same 6: DiD = -6 - (4 - 10) = 0
    flat = bootstrap_did(
        items([10, 12, 14]), items([5, 6, 7]), items([10, 10, 10]), items([4, 4, 4]), seed=3, resamples=500
    )
    assert flat.estimate == 0 and not flat.excludes_zero()


def test_verdicts() -> None:
    down = Interval(-6, -9, -3)
    kwargs = {"n_before": 20, "n_after": 20, "min_sample": 8, "has_control": True}
    assert verdict(down, Interval(-6, -9, -3), higher_is_better=False, **kwargs).verdict == "improved"
    assert verdict(down, Interval(-6, -9, -3), higher_is_better=True, **kwargs).verdict == "worsened"
    # the other teams moved the same way: the DiD interval includes zero
    judged = verdict(down, Interval(0, -3, 3), higher_is_better=False, **kwargs)
    assert judged.verdict == "no detectable change" and "other teams" in judged.basis
    assert verdict(Interval(-1, -3, 2), Interval(-1, -3, 2), higher_is_better=False, **kwargs).verdict == (
        "no detectable change"
    )
    # issue 12: a baseline too small to compare with is "too little data" (waiting does not help); a current
    # window still too small is "not enough data to tell yet"
    thin_baseline = {**kwargs, "n_before": 5}
    assert verdict(down, Interval(-6, -9, -3), higher_is_better=False, **thin_baseline).verdict == (
        "too little data"
    )
    few = {**kwargs, "n_after": 5}
    assert verdict(down, Interval(-6, -9, -3), higher_is_better=False, **few).verdict == (
        "not enough data to tell yet"
    )
    no_control = {**kwargs, "has_control": False}
    judged = verdict(down, Interval(None, None, None), higher_is_better=False, **no_control)
    assert judged.verdict == "improved" and "no DiD" in judged.basis


def _normal(seed: int, mean: float, n: int) -> list[float]:
    rng = random.Random(seed)
    return [rng.gauss(mean, 1.0) for _ in range(n)]


def test_intervals_cover_the_true_shift_about_95_percent_of_the_time() -> None:
    """Coverage, the property a 95% interval promises: over 40 independent replications of a -5 shift between
    two normal samples of 80, the interval contains -5 in most of them (binomial: >= 34 of 40 unless coverage
    is well below 95%) and always excludes zero."""
    covered = 0
    for replication in range(40):
        before = _normal(1000 + replication, 10.0, 80)
        after = _normal(2000 + replication, 5.0, 80)
        change = bootstrap_change(
            items(before), items(after), "median", seed=replication, resamples=400
        ).change
        assert change.high < 0
        covered += change.low <= -5 <= change.high
    assert covered >= 34, covered


def test_no_effect_gives_no_detectable_change() -> None:
    before, after = _normal(20, 10.0, 60), _normal(21, 10.0, 60)
    control_before, control_after = _normal(22, 10.0, 60), _normal(23, 10.0, 60)
    change = bootstrap_change(items(before), items(after), "median", seed=5, resamples=1000).change
    did = bootstrap_did(
        items(before), items(after), items(control_before), items(control_after), seed=6, resamples=1000
    )
    judged = verdict(
        change, did, higher_is_better=False, n_before=60, n_after=60, min_sample=8, has_control=True
    )
    assert judged.verdict == "no detectable change"


def _weeks(shares: list[float], size: int = 40) -> list[list[float]]:
    """Weeks of ``size`` 0/1 items of which ``share`` are 1: every item of a week shares its conditions."""
    return [[1.0] * round(share * size) + [0.0] * (size - round(share * size)) for share in shares]


def test_week_to_week_swings_are_not_an_effect() -> None:
    """Six weeks of 40 pipelines each side. Before: retry shares 0.1 0.5 0.2 0.4 0.3 0.3 (mean 0.30); after:
    0.2 0.6 0.3 0.5 0.4 0.4 (mean 0.40): the after weeks are the before weeks shifted by 0.1, well inside
    their own spread (weekly sd ~0.14, so the sd of a difference of two six-week means is
    ~0.14 * sqrt(2 / 6) = 0.08). Counted as 240 independent items a side, the same +0.1 would look
    significant (binomial sd sqrt(0.3 * 0.7 / 240 + 0.4 * 0.6 / 240) = 0.043: z = 2.3), which is how a
    placebo approval used to come out "worsened". Resampling whole weeks keeps zero inside the interval."""
    before = _weeks([0.1, 0.5, 0.2, 0.4, 0.3, 0.3])
    after = _weeks([0.2, 0.6, 0.3, 0.5, 0.4, 0.4])
    weekly = bootstrap_change(before, after, "mean", seed=11, resamples=2000)
    assert (weekly.before, weekly.after) == (pytest.approx(0.3), pytest.approx(0.4))
    assert weekly.change.low < 0 < weekly.change.high
    flat = [value for week in before for value in week], [value for week in after for value in week]
    by_item = bootstrap_change(items(flat[0]), items(flat[1]), "mean", seed=11, resamples=2000)
    assert by_item.change.estimate == pytest.approx(0.1) and by_item.change.low > 0


def test_difference_in_differences_draws_the_same_weeks_for_both_sides() -> None:
    """An organisation-wide swing: each week moves the treated team and the controls by the same amount
    (treated = control + 0.1 in every week, before and after), so every paired draw gives a DiD of exactly
    0.1 - 0.1 = 0, and the interval is the single point 0. Unpaired draws would mix good weeks of one side
    with bad weeks of the other and spread the DiD over about +/- 0.2."""
    control_before = _weeks([0.1, 0.5, 0.2, 0.4])
    control_after = _weeks([0.3, 0.1, 0.6, 0.2])
    treated_before = _weeks([0.2, 0.6, 0.3, 0.5])
    treated_after = _weeks([0.4, 0.2, 0.7, 0.3])
    did = bootstrap_did(treated_before, treated_after, control_before, control_after, "mean", seed=5)
    assert did.estimate == pytest.approx(0.0, abs=1e-12)
    assert did.low == pytest.approx(0.0, abs=1e-12) and did.high == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="same weeks"):
        bootstrap_did(treated_before, treated_after, control_before[:3], control_after, "mean", seed=5)


def test_same_seed_same_numbers() -> None:
    before, after = _normal(30, 10.0, 40), _normal(31, 8.0, 40)
    first = bootstrap_change(items(before), items(after), seed=7, resamples=300)
    again = bootstrap_change(items(before), items(after), seed=7, resamples=300)
    assert first == again


def test_build_vars_merge_project_defaults_settings_and_cli(tmp_path) -> None:
    """One set of build variables: the project's defaults, overridden by --vars; settings fill the gaps."""
    from warehouse.dbt_vars import cli_vars, effective_vars, vars_args, with_defaults

    (tmp_path / "dbt_project.yml").write_text("vars:\n  roi_baseline_weeks: 6\n  as_of: null\n")
    assert effective_vars([], tmp_path) == {"roi_baseline_weeks": 6, "as_of": None}
    args = ["build", *vars_args(as_of="2026-11-20", roi_baseline_weeks=8)]
    assert args[2] == '{"as_of": "2026-11-20T23:59:59+00:00", "roi_baseline_weeks": 8}'
    assert effective_vars(args, tmp_path)["roi_baseline_weeks"] == 8
    # a setting (HEIMDALL_ROI_BASELINE_WEEKS) is a default: --vars still wins, and it reaches dbt
    merged = with_defaults(args, {"roi_baseline_weeks": 5})
    assert cli_vars(merged) == {"as_of": "2026-11-20T23:59:59+00:00", "roi_baseline_weeks": 8}
    merged = with_defaults(
        ["build", "--vars", "{as_of: '2026-01-10T00:00:00+00:00'}"], {"roi_baseline_weeks": 5}
    )
    assert cli_vars(merged) == {"as_of": "2026-01-10T00:00:00+00:00", "roi_baseline_weeks": 5}
    assert merged[0] == "build" and merged.count("--vars") == 1


# ----------------------------------------------------------------------------------------------------
# The weekly random-effects test and its power (issue 12); expectations computed by hand in the comments.

BEFORE = [week_stats([2, 4]), week_stats([6, 8])]  # (2, 6, 20) and (2, 14, 100)
AFTER = [week_stats([1, 3]), week_stats([5, 7])]  # the same weeks, one lower


def test_variance_components_of_a_window() -> None:
    # weeks {2, 4} and {6, 8}: within SS (20 - 6^2 / 2) + (100 - 14^2 / 2) = 2 + 2 = 4 over 4 - 2 units:
    # s2 = 2; week means 3 and 7 around 5: between SS 2 * 2^2 + 2 * 2^2 = 16 over 1 df,
    # n0 = (4 - 8 / 4) / 1 = 2: tau2 = (16 - 2) / 2 = 7
    assert BEFORE == [(2, 6.0, 20.0), (2, 14.0, 100.0)]
    assert variance_components([BEFORE]) == (pytest.approx(2.0), pytest.approx(7.0))
    # Var(pooled mean) = (2^2 * 7 + 2 * 2) * 2 / 4^2 = 4: the variance of the mean of two week means 3 and 7
    # (sample variance 8, over 2 weeks)
    assert window_variance(BEFORE, 2.0, 7.0) == pytest.approx(4.0)
    # no week-to-week excess: the ordinary variance of a mean, s2 / N = 2 / 4
    assert window_variance(BEFORE, 2.0, 0.0) == pytest.approx(0.5)
    # each window is centred on its own mean: a shift between windows is not week-to-week noise
    assert variance_components([BEFORE, AFTER]) == (pytest.approx(2.0), pytest.approx(7.0))


def test_t_quantile_by_cornish_fisher() -> None:
    # z = 1.959964: z + (z^3 + z) / (4 df) + (5 z^5 + 16 z^3 + 3 z) / (96 df^2); with df = 2:
    # 1.959964 + 9.489085 / 8 + 270.95987 / 384 = 1.959964 + 1.186136 + 0.705625 = 3.851724
    assert t_value(0.975, 2) == pytest.approx(3.851724, rel=1e-6)
    assert t_value(0.975, 10) == pytest.approx(2.225416, rel=1e-6)  # exact 2.228
    assert t_value(0.975, 1e9) == pytest.approx(1.959964, rel=1e-6)


def test_shift_and_did_on_the_test_scale() -> None:
    # treated 5 -> 4: -1; s2 = 2, tau2 = 7 (both windows): variance 4 + 4, SE = sqrt(8) = 2.828427; 4 weeks
    # with data: df = 2, half-width 3.851724 * 2.828427 = 10.894321
    treated = GroupWindows(BEFORE, AFTER)
    shift = shift_test(treated)
    assert (shift.estimate, shift.df) == (pytest.approx(-1.0), 2)
    assert shift.se == pytest.approx(8**0.5)
    assert shift.interval.low == pytest.approx(-1 - 10.894321, rel=1e-6)
    assert shift.interval.high == pytest.approx(-1 + 10.894321, rel=1e-5)
    # controls 10 -> 10 in weeks of 100 identical values: change 0, variance 0; DiD = -1 with the treated SE
    flat = [week_stats([10.0] * 100)] * 2
    did = did_test(treated, GroupWindows(flat, flat))
    assert did.estimate == pytest.approx(-1.0) and did.se == pytest.approx(8**0.5)


def test_did_pairs_the_weeks_an_organisation_wide_swing_moves_both_groups() -> None:
    # the controls swing with the treated team week by week (week means 13 and 17 around 15 in both windows,
    # the treated 3 and 7, then 2 and 6) and do not change: the swing is common. Unpaired, the variances add:
    # 8 + 8 = 16. Week means centred per window: before (-2, -2) and (2, 2), after the same: covariance
    # (8 + 8) / (1 + 1) = 8; each window's shared weight (2 * 2 + 2 * 2) / (4 * 4) = 0.5, together 1: the
    # common part 8 * 1 = 8 comes off twice: 16 - 16 = 0, so the floor holds: the item noise, s2 = 2 in both
    # groups, (2 * 2 + 2 * 2) / 16 = 0.5 per window and group: 2. DiD -1 - 0 = -1 with SE sqrt(2).
    treated = GroupWindows(BEFORE, AFTER)
    swinging = [week_stats([12, 14]), week_stats([16, 18])]
    control = GroupWindows(swinging, swinging)
    assert common_week_covariance(treated, control) == pytest.approx(8.0)
    did = did_test(treated, control)
    assert did.estimate == pytest.approx(-1.0)
    assert did.se == pytest.approx(2**0.5)
    # the same controls with the swing in the opposite weeks share nothing: no covariance is taken off
    # (a negative one is noise, not added either): 8 + 8 = 16
    opposite = [week_stats([16, 18]), week_stats([12, 14])]
    assert common_week_covariance(treated, GroupWindows(opposite, opposite)) == 0.0
    assert did_test(treated, GroupWindows(opposite, opposite)).se == pytest.approx(4.0)


def test_expected_change_and_relative_change_on_the_log_scale() -> None:
    # a typical pickup of 8 hours (mean log(1 + h) = log 9) halving to 4: log(5) - log(9) = -0.587787, not
    # log(0.5) = -0.693147 (log(1 + h) compresses short waits)
    nine = math.log(9)
    assert expected_shift(nine, -0.5, "log1p") == pytest.approx(math.log(5) - math.log(9))
    assert relative_change(nine, math.log(5) - math.log(9), "log1p") == pytest.approx(-0.5)
    # a 0/1 rate of 0.3 expected to fall 60%: -0.18
    assert expected_shift(0.3, -0.6, "identity") == pytest.approx(-0.18)
    assert relative_change(0.3, -0.18, "identity") == pytest.approx(-0.6)
    assert relative_change(0.05, -0.2, "identity") == -1.0  # no metric falls below zero
    assert relative_change(0.0, 0.1, "identity") is None


def test_minimum_detectable_change() -> None:
    # (z_0.975 + z_0.8) * SE = (1.959964 + 0.841621) * 0.1 = 0.280159 with many weeks
    assert minimum_detectable_shift(0.1, 1e9) == pytest.approx(0.280159, rel=1e-5)
    # with 10 df: (2.225416 + 0.879042) * 0.1 = 0.310446
    assert minimum_detectable_shift(0.1, 10) == pytest.approx(0.310446, rel=1e-5)
    # a week adds tau2 + s2 / units per week = 0.5 + 2 / 4 = 1.0; with half a unit a week (a sprint every
    # other week) each unit is a week of its own: (0.5 + 2) / 0.5 = 5
    assert week_variance(2.0, 0.5, 4.0) == pytest.approx(1.0)
    assert week_variance(2.0, 0.5, 0.5) == pytest.approx(5.0)


def test_weeks_needed_to_reach_the_expected_change() -> None:
    """Baseline variance 0.01 (6 weeks), each current week adds 0.08, expected shift -0.5 (squared 0.25): the
    first k with (t_0.975 + t_0.8)^2 (0.01 + 0.08 / k) <= 0.25, df = 6 + k - 2:
    k=4 (df 8): (2.300599 + 0.888858)^2 * (0.01 + 0.02) = 10.1726 * 0.03 = 0.3052 > 0.25;
    k=5 (df 9): (2.258395 + 0.883382)^2 * (0.01 + 0.016) = 9.8708 * 0.026 = 0.2566 > 0.25;
    k=6 (df 10): (2.225416 + 0.879042)^2 * (0.01 + 0.013333) = 9.6377 * 0.023333 = 0.2249 <= 0.25."""
    assert weeks_needed(0.01, 0.08, -0.5, 6) == 6
    # a baseline variance of 0.04 alone needs (z + z)^2 * 0.04 = 7.849 * 0.04 = 0.314 > 0.25: never
    assert weeks_needed(0.04, 0.08, -0.5, 6) is None


def test_powered_and_unpowered_no_change_differ() -> None:
    """An interval including zero means "no detectable change" only when the data could have shown the
    expected change; otherwise it is "not enough data to tell yet"."""
    around_zero = Interval(-0.1, -0.4, 0.2)
    kwargs = {"higher_is_better": False, "n_before": 60, "n_after": 60, "min_sample": 8, "has_control": True}
    powered = verdict(around_zero, around_zero, powered=True, **kwargs)
    assert powered.verdict == "no detectable change"
    unpowered = verdict(
        around_zero, around_zero, powered=False, power_note="expected decidable on X", **kwargs
    )
    assert unpowered.verdict == "not enough data to tell yet" and "expected decidable on X" in unpowered.basis
    # a detected change is detected, powered or not
    assert verdict(Interval(-1, -2, -0.5), Interval(-1, -2, -0.5), powered=False, **kwargs).verdict == (
        "improved"
    )
    # a guard has no expected change (powered None): an interval including zero is "no detectable change"
    assert verdict(around_zero, around_zero, powered=None, **kwargs).verdict == "no detectable change"


def _normal_weeks(seed: int, mean: float, weeks: int, size: int = 8) -> list[tuple[int, float, float]]:
    rng = random.Random(seed)
    return [week_stats([rng.gauss(mean, 1.0) for _ in range(size)]) for _ in range(weeks)]


def test_placebo_stays_no_detectable_change_and_a_halving_is_found() -> None:
    """Ten weeks of eight items a side, no effect: the random-effects interval includes zero for the treated
    team and the DiD; the same data shifted by -1 (an effect of 1 sd, the item sd) is found."""
    before, after = _normal_weeks(40, 10.0, 10), _normal_weeks(41, 10.0, 10)
    controls = GroupWindows(_normal_weeks(42, 10.0, 10, 80), _normal_weeks(43, 10.0, 10, 80))
    treated = GroupWindows(before, after)
    kwargs = {"higher_is_better": False, "n_before": 80, "n_after": 80, "min_sample": 8, "has_control": True}
    judged = verdict(
        shift_test(treated).interval, did_test(treated, controls).interval, powered=True, **kwargs
    )
    assert judged.verdict == "no detectable change"
    lower = [(n, total - n, squares - 2 * total + n) for n, total, squares in after]  # every value minus 1
    shifted = GroupWindows(before, lower)
    assert shift_test(shifted).estimate == pytest.approx(shift_test(treated).estimate - 1)
    judged = verdict(shift_test(shifted).interval, did_test(shifted, controls).interval, **kwargs)
    assert judged.verdict == "improved"
