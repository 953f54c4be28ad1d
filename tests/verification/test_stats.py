"""insights.verification.stats on small explicit samples; expectations computed by hand in the comments."""

from __future__ import annotations

import random

import pytest

from insights.verification.stats import Interval, bootstrap_change, bootstrap_did, percentile, verdict


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
    few = {**kwargs, "n_after": 5}
    assert verdict(down, Interval(-6, -9, -3), higher_is_better=False, **few).verdict == "too little data"
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
