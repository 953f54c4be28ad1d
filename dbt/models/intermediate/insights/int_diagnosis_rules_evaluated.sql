{#- Every diagnosis rule (seed diagnosis_rules) evaluated for every team and ISO week on the trailing window of
    var `diagnosis_window_weeks` weeks ending with that week, fired or not, so a reader can see why a rule did or
    did not fire (docs/metrics.md, "Diagnosis"). Three comparisons, each a one-sided test with a practical floor:

    * change: the window against the team's own reference, its best stretch of `diagnosis_reference_weeks`
      weeks (at least `diagnosis_reference_min_weeks`) that ends before the window and starts at most
      `diagnosis_lookback_weeks` before it, net of what the other teams did over the same weeks;
    * outlier: the window against the other teams' same weeks, only at a level at or beyond `threshold`;
    * level: the window significantly beyond `always_bad_value`.

    Median rules are tested on log(1 + value) (durations are skewed), mean rules on the values (Welch), and
    sum-per-week rules on the log of the weekly total, a compound Poisson sum whose log has variance
    sum(x^2) / sum(x)^2 (half an average item added as a continuity correction, so an empty stretch of a sparse
    metric is a small, uncertain rate rather than log 0); the test units are the
    clusters of int_metric_observations_summed_weekly (items that share a cause count once). The test statistic must reach
    var `diagnosis_z` (t-corrected for the sample sizes) and the comparison needs its ratio floor and
    var `diagnosis_min_hours_lost_per_week`. A window that starts before the metric's first observed week
    never fires. -#}
{#- Table, rebuilt whole every build (docs/operations.md, "Incremental builds"): read by fct_diagnoses, the evidence and the recommendations; its reference search and medians
    are the heaviest computation of the insights layer, so it is computed once per build, not once per reader. -#}
{{ config(materialized='table') }}
{%- set window_weeks = var('diagnosis_window_weeks') | int -%}
{%- set reference_weeks = var('diagnosis_reference_weeks') | int -%}
{%- set reference_min_weeks = var('diagnosis_reference_min_weeks') | int -%}
{%- set lookback_weeks = var('diagnosis_lookback_weeks') | int -%}
{%- set z = var('diagnosis_z') | float -%}
{%- set min_hours = var('diagnosis_min_hours_lost_per_week') | float -%}
{%- set prior_df = var('diagnosis_prior_df') | float -%}
with

weekly as (

    select * from {{ ref('int_metric_observations_summed_weekly') }}

),

observations as (

    select * from {{ ref('fct_metric_observations') }}

),

rules as (

    select * from {{ ref('diagnosis_rules') }}

),

dates as (

    select * from {{ ref('dim_dates') }}

),

weeks as (

    select distinct week_start_date from dates

),

org_activity as (

    -- the whole organisation's observations per week (every metric): a holiday or an org-wide outage empties
    -- a week for everybody at once
    select
        week_start_date,
        sum(observation_count) as observation_count
    from weekly
    group by week_start_date

),

usual_activity as (

    select percentile_cont(0.5) within group (order by observation_count) as median_observation_count
    from org_activity

),

quiet_weeks as (

    -- weeks in which the organisation observed less than half its usual (median) activity; only weeks wholly
    -- inside the data (the first week of the loaded history and the week of the as_of date are partial, not
    -- quiet)
    select org_activity.week_start_date
    from org_activity
    cross join usual_activity
    where
        org_activity.observation_count < 0.5 * usual_activity.median_observation_count
        and org_activity.week_start_date > (select min(first_week.week_start_date) from org_activity as first_week)
        and org_activity.week_start_date + 7 <= cast({{ as_of_ts() }} at time zone 'UTC' as date)

),

calendar_clean_weeks as (

    -- windows (by their last week) that neither contain a quiet week nor end just before one or start just
    -- after one: durations around an org-wide break (an MR ready before the holidays and reviewed after them)
    -- are the calendar's, not the team's, and working hours here know weekends but not the organisation's
    -- holidays
    select
        weeks.week_start_date,
        not exists (
            select 1
            from quiet_weeks
            where
                quiet_weeks.week_start_date
                between weeks.week_start_date - {{ window_weeks * 7 }} and weeks.week_start_date + 7
        ) as is_calendar_clean
    from weeks

),

metric_starts as (

    select
        metric_name,
        min(week_start_date) as first_week_start_date,
        -- half an average item: the continuity correction of log totals (an empty stretch of a sparse metric
        -- counts as half an event, so its log is finite and uncertain, whatever the metric's unit)
        greatest(0.5 * sum(value_sum) / nullif(sum(observation_count), 0), 0.001) as half_item_value,
        -- squared coefficient of variation of one unit's value over the whole organisation: the size part of
        -- a compound Poisson total's variance (diagnosis_test_se2)
        coalesce(
            greatest(
                sum(unit_value_square_sum) * sum(positive_unit_count) / nullif(sum(unit_value_sum) ^ 2, 0) - 1, 0
            ),
            0
        ) as size_cv2
    from weekly
    group by metric_name

),

rule_weeks as (

    select
        weekly.team_id,
        rules.rule_id,
        weekly.week_start_date,
        weekly.observation_count,
        weekly.unit_count,
        weekly.positive_unit_count,
        weekly.value_sum,
        weekly.engineer_count_sum,
        case when rules.window_aggregation = 'median' then weekly.unit_log_value_sum else weekly.unit_value_sum end
            as scaled_sum,
        case
            when rules.window_aggregation = 'median' then weekly.unit_log_value_square_sum
            else weekly.unit_value_square_sum
        end as scaled_square_sum
    from weekly
    inner join rules on weekly.metric_name = rules.metric_name

),

team_rules as (

    select distinct
        team_id,
        rule_id
    from rule_weeks

),

team_rule_totals as (

    select
        team_id,
        rule_id,
        sum(unit_count) as u,
        sum(scaled_sum) as scaled_sum,
        sum(scaled_square_sum) as scaled_square_sum
    from rule_weeks
    group by team_id, rule_id

),

rule_priors as (

    -- the organisation's variance of one test unit of the rule's metric: the within-team variance pooled over
    -- the teams (each team centred on its own mean over the loaded history), the prior that moderates a
    -- short stretch's own variance (diagnosis_test_se2); a team's changes stay in it, which only makes it
    -- larger (conservative)
    select
        rule_id,
        sum(greatest(scaled_square_sum - scaled_sum ^ 2 / u, 0)) / nullif(sum(u - 1), 0) as prior_variance
    from team_rule_totals
    where u > 1
    group by rule_id

),

series_rules as (

    -- rules observed once per team-week (WIP per engineer) are weekly series
    select rule_id
    from rule_weeks
    group by rule_id
    having max(unit_count) = 1

),

series_deviations as (

    -- each team's weekly values around its own mean, with the previous week's
    select
        rule_weeks.team_id,
        rule_weeks.rule_id,
        rule_weeks.scaled_sum / rule_weeks.unit_count
        - avg(rule_weeks.scaled_sum / rule_weeks.unit_count)
            over (partition by rule_weeks.team_id, rule_weeks.rule_id)
            as deviation,
        lag(rule_weeks.scaled_sum / rule_weeks.unit_count)
            over (partition by rule_weeks.team_id, rule_weeks.rule_id order by rule_weeks.week_start_date)
        - avg(rule_weeks.scaled_sum / rule_weeks.unit_count)
            over (partition by rule_weeks.team_id, rule_weeks.rule_id)
            as previous_deviation,
        rule_weeks.week_start_date
        - lag(rule_weeks.week_start_date)
            over (partition by rule_weeks.team_id, rule_weeks.rule_id order by rule_weeks.week_start_date)
            as days_since_previous
    from rule_weeks
    inner join series_rules on rule_weeks.rule_id = series_rules.rule_id

),

team_autocorrelations as (

    select
        team_id,
        rule_id,
        sum(deviation * previous_deviation) filter (where days_since_previous = 7)
        / nullif(sum(deviation * deviation), 0) as rho
    from series_deviations
    group by team_id, rule_id

),

rule_autocorrelations as (

    -- the lag-1 autocorrelation of a weekly series, the median over the teams (a team whose level moved, the
    -- very thing the diagnosis looks for, looks autocorrelated around its whole-history mean; the median is
    -- the teams' usual carry-over), between 0 and 0.8
    select
        rule_id,
        least(greatest(coalesce(percentile_cont(0.5) within group (order by rho), 0), 0), 0.8) as rho
    from team_autocorrelations
    where rho is not null
    group by rule_id

),

rule_series as (

    -- a weekly series' consecutive weeks are not independent (WIP carries over from one week to the next):
    -- the variance of a stretch's mean is its units' variance / units times (1 + rho) / (1 - rho); rules of
    -- independent items have no row (no inflation)
    select
        rule_id,
        (1 + rho) / (1 - rho) as variance_inflation
    from rule_autocorrelations

),

windows as (

    select
        team_rules.team_id,
        team_rules.rule_id,
        weeks.week_start_date,
        weeks.week_start_date - {{ (window_weeks - 1) * 7 }} as window_start_date,
        coalesce(sum(rule_weeks.observation_count), 0) as n,
        coalesce(sum(rule_weeks.unit_count), 0) as u,
        coalesce(sum(rule_weeks.positive_unit_count), 0) as p,
        coalesce(sum(rule_weeks.value_sum), 0) as value_sum,
        coalesce(sum(rule_weeks.engineer_count_sum), 0) as engineer_count_sum,
        coalesce(sum(rule_weeks.scaled_sum), 0) as scaled_sum,
        coalesce(sum(rule_weeks.scaled_square_sum), 0) as scaled_square_sum
    from team_rules
    cross join weeks
    left join rule_weeks
        on
            team_rules.team_id = rule_weeks.team_id
            and team_rules.rule_id = rule_weeks.rule_id
            and rule_weeks.week_start_date between weeks.week_start_date - {{ (window_weeks - 1) * 7 }}
            and weeks.week_start_date
    group by team_rules.team_id, team_rules.rule_id, weeks.week_start_date

),

org_windows as (

    select
        rule_id,
        week_start_date,
        count(*) filter (where n > 0) as team_count,
        sum(n) as n,
        sum(u) as u,
        sum(p) as p,
        sum(value_sum) as value_sum,
        sum(scaled_sum) as scaled_sum,
        sum(scaled_square_sum) as scaled_square_sum
    from windows
    group by rule_id, week_start_date

),

block_ends as (

    select
        rules.rule_id,
        weeks.week_start_date as block_end_date,
        greatest(weeks.week_start_date - {{ (reference_weeks - 1) * 7 }}, metric_starts.first_week_start_date)
            as block_start_date
    from rules
    cross join weeks
    inner join metric_starts on rules.metric_name = metric_starts.metric_name
    where
        weeks.week_start_date
        - greatest(weeks.week_start_date - {{ (reference_weeks - 1) * 7 }}, metric_starts.first_week_start_date)
        >= {{ (reference_min_weeks - 1) * 7 }}

),

blocks as (

    select
        team_rules.team_id,
        block_ends.rule_id,
        block_ends.block_start_date,
        block_ends.block_end_date,
        (block_ends.block_end_date - block_ends.block_start_date) / 7 + 1 as block_weeks,
        coalesce(sum(rule_weeks.observation_count), 0) as n,
        coalesce(sum(rule_weeks.unit_count), 0) as u,
        coalesce(sum(rule_weeks.positive_unit_count), 0) as p,
        coalesce(sum(rule_weeks.value_sum), 0) as value_sum,
        coalesce(sum(rule_weeks.scaled_sum), 0) as scaled_sum,
        coalesce(sum(rule_weeks.scaled_square_sum), 0) as scaled_square_sum
    from team_rules
    inner join block_ends on team_rules.rule_id = block_ends.rule_id
    left join rule_weeks
        on
            team_rules.team_id = rule_weeks.team_id
            and team_rules.rule_id = rule_weeks.rule_id
            and rule_weeks.week_start_date between block_ends.block_start_date and block_ends.block_end_date
    group by
        team_rules.team_id, block_ends.rule_id, block_ends.block_start_date, block_ends.block_end_date

),

org_blocks as (

    select
        rule_id,
        block_end_date,
        count(*) filter (where n > 0) as team_count,
        sum(n) as n,
        sum(u) as u,
        sum(p) as p,
        sum(value_sum) as value_sum,
        sum(scaled_sum) as scaled_sum,
        sum(scaled_square_sum) as scaled_square_sum
    from blocks
    group by rule_id, block_end_date

),

references_ranked as (

    -- the team's best admissible stretch before each window: its reference
    select distinct on (windows.team_id, windows.rule_id, windows.week_start_date)
        windows.team_id,
        windows.rule_id,
        windows.week_start_date,
        blocks.block_start_date as reference_start_date,
        blocks.block_end_date as reference_end_date,
        blocks.block_weeks as reference_weeks,
        blocks.n as reference_n,
        blocks.u as reference_u,
        blocks.p as reference_p,
        blocks.value_sum as reference_value_sum,
        blocks.scaled_sum as reference_scaled_sum,
        blocks.scaled_square_sum as reference_scaled_square_sum
    from windows
    inner join rules on windows.rule_id = rules.rule_id
    inner join metric_starts on rules.metric_name = metric_starts.metric_name
    left join rule_priors on windows.rule_id = rule_priors.rule_id
    left join rule_series on windows.rule_id = rule_series.rule_id
    inner join blocks
        on
            windows.team_id = blocks.team_id
            and windows.rule_id = blocks.rule_id
            and blocks.block_end_date <= windows.window_start_date - 7
            and blocks.block_start_date >= windows.window_start_date - {{ lookback_weeks * 7 }}
            and (rules.window_aggregation = 'sum_per_week' or rules.min_sample <= blocks.n)
    order by
        windows.team_id,
        windows.rule_id,
        windows.week_start_date,
        -- the best stretch the data are sure of: the best upper confidence bound (a lucky empty stretch of a
        -- sparse metric is uncertain, so it does not become the bar every later week fails)
        (case when rules.direction = 'above' then 1 else -1 end)
        * {{ diagnosis_test_mean(
            'rules.window_aggregation', 'blocks.value_sum', 'blocks.scaled_sum', 'blocks.u', 'blocks.block_weeks',
            'metric_starts.half_item_value'
        ) }}
        + {{ z }} * sqrt({{ diagnosis_test_se2(
            'rules.window_aggregation',
            'blocks.scaled_sum',
            'blocks.scaled_square_sum',
            'blocks.u',
            'blocks.p',
            'metric_starts.size_cv2',
            'rule_priors.prior_variance',
            prior_df
        ) }} * coalesce(rule_series.variance_inflation, 1)) asc,
        blocks.block_end_date desc

),

window_medians as (

    select
        windows.team_id,
        windows.rule_id,
        windows.week_start_date,
        {{ percentile_of('observations.value', 0.5) }} as median_value
    from windows
    inner join rules on windows.rule_id = rules.rule_id
    inner join observations
        on
            windows.team_id = observations.team_id
            and rules.metric_name = observations.metric_name
            and observations.observed_at >= cast(windows.window_start_date as timestamp) at time zone 'UTC'
            and observations.observed_at < cast(windows.week_start_date + 7 as timestamp) at time zone 'UTC'
    where rules.window_aggregation = 'median'
    group by windows.team_id, windows.rule_id, windows.week_start_date

),

org_medians as (

    select
        rules.rule_id,
        weeks.week_start_date,
        {{ percentile_of('observations.value', 0.5) }} as median_value
    from rules
    cross join weeks
    inner join observations
        on
            rules.metric_name = observations.metric_name
            and observations.observed_at
            >= cast(weeks.week_start_date - {{ (window_weeks - 1) * 7 }} as timestamp) at time zone 'UTC'
            and observations.observed_at < cast(weeks.week_start_date + 7 as timestamp) at time zone 'UTC'
    where rules.window_aggregation = 'median'
    group by rules.rule_id, weeks.week_start_date

),

reference_medians as (

    select
        references_ranked.team_id,
        references_ranked.rule_id,
        references_ranked.week_start_date,
        {{ percentile_of('observations.value', 0.5) }} as median_value
    from references_ranked
    inner join rules on references_ranked.rule_id = rules.rule_id
    inner join observations
        on
            references_ranked.team_id = observations.team_id
            and rules.metric_name = observations.metric_name
            and observations.observed_at
            >= cast(references_ranked.reference_start_date as timestamp) at time zone 'UTC'
            and observations.observed_at
            < cast(references_ranked.reference_end_date + 7 as timestamp) at time zone 'UTC'
    where rules.window_aggregation = 'median'
    group by references_ranked.team_id, references_ranked.rule_id, references_ranked.week_start_date

),

assembled as (

    select
        windows.team_id,
        windows.rule_id,
        windows.week_start_date,
        windows.window_start_date,
        rules.metric_name,
        rules.window_aggregation,
        rules.direction,
        case when rules.direction = 'above' then 1 else -1 end as sign,
        rules.threshold,
        rules.always_bad_value,
        rules.min_sample,
        rules.min_change_ratio,
        rules.min_ratio_to_baseline,
        rules.excess_basis,
        rules.hours_per_excess_unit,
        rules.excess_unit,
        rules.description as rule_description,
        metric_starts.first_week_start_date,
        calendar_clean_weeks.is_calendar_clean,
        windows.n,
        windows.u,
        windows.engineer_count_sum,
        references_ranked.reference_u,
        references_ranked.reference_start_date,
        references_ranked.reference_end_date,
        references_ranked.reference_weeks,
        references_ranked.reference_n,
        org_windows.team_count - case when windows.n > 0 then 1 else 0 end as other_team_count,
        org_windows.n - windows.n as other_n,
        org_windows.u - windows.u as other_u,
        org_blocks.n - coalesce(blocks.n, 0) as other_reference_n,
        -- window aggregate and the comparison values, in the metric's units
        case rules.window_aggregation
            when 'median' then window_medians.median_value
            when 'mean' then windows.value_sum / nullif(windows.n, 0)
            else windows.value_sum / {{ window_weeks }}.0
        end as metric_value,
        case rules.window_aggregation
            when 'median' then reference_medians.median_value
            when 'mean' then references_ranked.reference_value_sum / nullif(references_ranked.reference_n, 0)
            else references_ranked.reference_value_sum / references_ranked.reference_weeks
        end as reference_value,
        case rules.window_aggregation
            when 'median' then org_medians.median_value
            when 'mean' then org_windows.value_sum / nullif(org_windows.n, 0)
            else org_windows.value_sum / {{ window_weeks }}.0 / nullif(org_windows.team_count, 0)
        end as org_baseline_value,
        -- test scale: means and their squared standard errors
        {{ diagnosis_test_mean(
            'rules.window_aggregation',
            'windows.value_sum',
            'windows.scaled_sum',
            'windows.u',
            window_weeks ~ '.0',
            'metric_starts.half_item_value'
        ) }} as window_mean,
        {{ diagnosis_test_se2(
            'rules.window_aggregation',
            'windows.scaled_sum',
            'windows.scaled_square_sum',
            'windows.u',
            'windows.p',
            'metric_starts.size_cv2',
            'rule_priors.prior_variance',
            prior_df
        ) }} * coalesce(rule_series.variance_inflation, 1) as window_se2,
        {{ diagnosis_test_mean(
            'rules.window_aggregation',
            'references_ranked.reference_value_sum',
            'references_ranked.reference_scaled_sum',
            'references_ranked.reference_u',
            'references_ranked.reference_weeks',
            'metric_starts.half_item_value'
        ) }} as reference_mean,
        {{ diagnosis_test_se2(
            'rules.window_aggregation',
            'references_ranked.reference_scaled_sum',
            'references_ranked.reference_scaled_square_sum',
            'references_ranked.reference_u',
            'references_ranked.reference_p',
            'metric_starts.size_cv2',
            'rule_priors.prior_variance',
            prior_df
        ) }} * coalesce(rule_series.variance_inflation, 1) as reference_se2,
        -- the other teams over the window and over the reference's weeks
        {{ diagnosis_test_mean(
            'rules.window_aggregation',
            'org_windows.value_sum - windows.value_sum',
            'org_windows.scaled_sum - windows.scaled_sum',
            'org_windows.u - windows.u',
            window_weeks ~ '.0',
            'metric_starts.half_item_value',
            'org_windows.team_count - case when windows.n > 0 then 1 else 0 end'
        ) }} as other_mean,
        {{ diagnosis_test_se2(
            'rules.window_aggregation',
            'org_windows.scaled_sum - windows.scaled_sum',
            'org_windows.scaled_square_sum - windows.scaled_square_sum',
            'org_windows.u - windows.u',
            'org_windows.p - windows.p',
            'metric_starts.size_cv2'
        ) }} as other_se2,
        {{ diagnosis_test_mean(
            'rules.window_aggregation',
            'org_blocks.value_sum - blocks.value_sum',
            'org_blocks.scaled_sum - blocks.scaled_sum',
            'org_blocks.u - blocks.u',
            'blocks.block_weeks',
            'metric_starts.half_item_value',
            'org_blocks.team_count - case when blocks.n > 0 then 1 else 0 end'
        ) }} as other_reference_mean,
        {{ diagnosis_test_se2(
            'rules.window_aggregation',
            'org_blocks.scaled_sum - blocks.scaled_sum',
            'org_blocks.scaled_square_sum - blocks.scaled_square_sum',
            'org_blocks.u - blocks.u',
            'org_blocks.p - blocks.p',
            'metric_starts.size_cv2'
        ) }} as other_reference_se2,
        case
            when rules.window_aggregation = 'median' then ln(1 + greatest(rules.always_bad_value, 0))
            when rules.window_aggregation = 'sum_per_week'
                then ln(greatest(rules.always_bad_value, 0) + metric_starts.half_item_value / {{ window_weeks }}.0)
            else rules.always_bad_value
        end as always_bad_scaled
    from windows
    inner join rules on windows.rule_id = rules.rule_id
    inner join metric_starts on rules.metric_name = metric_starts.metric_name
    inner join org_windows
        on windows.rule_id = org_windows.rule_id and windows.week_start_date = org_windows.week_start_date
    left join rule_priors on windows.rule_id = rule_priors.rule_id
    left join rule_series on windows.rule_id = rule_series.rule_id
    left join references_ranked
        on
            windows.team_id = references_ranked.team_id
            and windows.rule_id = references_ranked.rule_id
            and windows.week_start_date = references_ranked.week_start_date
    left join blocks
        on
            references_ranked.team_id = blocks.team_id
            and references_ranked.rule_id = blocks.rule_id
            and references_ranked.reference_end_date = blocks.block_end_date
    left join org_blocks
        on references_ranked.rule_id = org_blocks.rule_id and references_ranked.reference_end_date = org_blocks.block_end_date
    left join window_medians
        on
            windows.team_id = window_medians.team_id
            and windows.rule_id = window_medians.rule_id
            and windows.week_start_date = window_medians.week_start_date
    left join reference_medians
        on
            windows.team_id = reference_medians.team_id
            and windows.rule_id = reference_medians.rule_id
            and windows.week_start_date = reference_medians.week_start_date
    left join org_medians
        on windows.rule_id = org_medians.rule_id and windows.week_start_date = org_medians.week_start_date
    inner join calendar_clean_weeks on windows.week_start_date = calendar_clean_weeks.week_start_date
    where windows.n > 0

),

candidate_counted as (

    -- m: roughly independent candidate stretches for the reference, the lookback's weeks before the window
    -- over the reference length (1 to 6)
    select
        *,
        least(
            greatest(
                ceil(
                    (window_start_date - greatest(first_week_start_date, window_start_date - {{ lookback_weeks * 7 }}))
                    / 7.0 / {{ reference_weeks }}
                ),
                1
            ),
            6
        ) as candidate_count
    from assembled

),

selection_corrected as (

    -- the reference is the best of the admissible stretches in the lookback, so some of its advantage is luck
    -- (the winner's curse): the best of m stretches is expected to be the expected maximum of m standard
    -- normals times its standard error better than the team's real level; the change test takes the
    -- reference that much worse
    select
        *,
        reference_mean
        + sign
        * (case candidate_count
            when 1 then 0
            when 2 then 0.564
            when 3 then 0.846
            when 4 then 1.029
            when 5 then 1.163
            else 1.267
        end)
        * sqrt(reference_se2) as reference_test_mean
    from candidate_counted

),

other_changes as (

    -- how much worse the other teams got over the same weeks, and whether that is more than one standard error
    -- of their change
    select
        *,
        sign * (other_mean - other_reference_mean) as other_change,
        other_se2 + other_reference_se2 as other_change_se2,
        coalesce(sign * (other_mean - other_reference_mean) > sqrt(other_se2 + other_reference_se2), false)
            as is_drift_significant
    from selection_corrected

),

drifted as (

    -- the organisation-wide drift a team's change is net of (an org-wide slowdown, a holiday, a CI outage):
    -- only a significant one, so ordinary noise in the other teams' weeks neither masks a team's own change
    -- nor adds its variance to the test
    select
        *,
        case when is_drift_significant then other_change else 0 end as drift,
        case when is_drift_significant then other_change_se2 else 0 end as drift_se2
    from other_changes

),

tested as (

    select
        *,
        window_start_date >= first_week_start_date as is_window_complete,
        n >= min_sample and window_start_date >= first_week_start_date as is_testable,
        -- change against the own reference, net of the other teams' drift over the same weeks
        case
            when reference_mean is not null
                then
                    (sign * (window_mean - reference_test_mean) - drift)
                    / nullif(sqrt(window_se2 + reference_se2 + drift_se2), 0)
        end as change_z,
        case
            when window_aggregation = 'sum_per_week' or reference_n is null then 1000
            when window_se2 + reference_se2 = 0 then 1000
            else
                (window_se2 + reference_se2) ^ 2
                / nullif(
                    window_se2 ^ 2 / greatest(u - 1 + {{ prior_df }}, 1)
                    + reference_se2 ^ 2 / greatest(reference_u - 1 + {{ prior_df }}, 1),
                    0
                )
        end as change_df,
        case
            when other_mean is not null and other_team_count > 0
                then sign * (window_mean - other_mean) / nullif(sqrt(window_se2 + other_se2), 0)
        end as outlier_z,
        case
            when window_aggregation = 'sum_per_week' or other_u is null or other_u < 2 then 1000
            when window_se2 + other_se2 = 0 then 1000
            else
                (window_se2 + other_se2) ^ 2
                / nullif(
                    window_se2 ^ 2 / greatest(u - 1 + {{ prior_df }}, 1) + other_se2 ^ 2 / greatest(other_u - 1, 1), 0
                )
        end as outlier_df,
        sign * (window_mean - always_bad_scaled) / nullif(sqrt(window_se2), 0) as level_z,
        case when window_aggregation = 'sum_per_week' then 1000 else greatest(u - 1 + {{ prior_df }}, 1) end as level_df,
        -- what one unit of excess costs per week: an aggregate once; a per-item excess for each item of a week;
        -- a per-engineer excess (items per engineer) for each engineer of the team, on average over the
        -- window's observed team-weeks
        case excess_basis
            when 'aggregate' then 1
            when 'per_engineer' then engineer_count_sum / nullif(n, 0)
            else n / {{ window_weeks }}.0
        end as units_per_week
    from drifted

),

valued as (

    select
        *,
        case
            when reference_value is null then null
            when reference_value > 0 and metric_value > 0 then power(metric_value / reference_value, sign)
            when sign * (metric_value - reference_value) > 0 then 999
            else 1
        end as change_ratio,
        case
            when org_baseline_value is null then null
            when org_baseline_value > 0 and metric_value > 0 then power(metric_value / org_baseline_value, sign)
            when sign * (metric_value - org_baseline_value) > 0 then 999
            else 1
        end as outlier_ratio,
        sign * (metric_value - reference_value) * units_per_week * hours_per_excess_unit as change_hours_lost,
        sign * (metric_value - org_baseline_value) * units_per_week * hours_per_excess_unit as outlier_hours_lost,
        sign * (metric_value - always_bad_value) * units_per_week * hours_per_excess_unit as level_hours_lost
    from tested

),

judged as (

    select
        *,
        is_testable
        and is_calendar_clean
        and reference_n is not null
        and change_z >= {{ t_critical(z, 'change_df') }}
        and change_ratio >= min_change_ratio
        and change_hours_lost >= {{ min_hours }} as is_change,
        is_testable
        and sign * (metric_value - threshold) >= 0
        and outlier_z >= {{ t_critical(z, 'outlier_df') }}
        and outlier_ratio >= min_ratio_to_baseline
        and outlier_hours_lost >= {{ min_hours }} as is_outlier,
        is_testable
        and sign * (metric_value - always_bad_value) >= 0
        and level_z >= {{ t_critical(z, 'level_df') }}
        and level_hours_lost >= {{ min_hours }} as is_always_bad
    from valued

),

decided as (

    select
        *,
        coalesce(is_change, false) or coalesce(is_outlier, false) or coalesce(is_always_bad, false) as is_fired,
        case
            when is_change then 'change_vs_own_reference'
            when is_outlier then 'outlier_vs_organisation'
            when is_always_bad then 'always_bad_level'
        end as fired_by,
        case
            when is_change then reference_value
            when is_outlier then org_baseline_value
            when is_always_bad then always_bad_value
        end as comparison_value,
        case
            when is_change then change_hours_lost
            when is_outlier then outlier_hours_lost
            when is_always_bad then level_hours_lost
            else 0
        end as fired_hours_lost,
        case
            when is_change then change_z
            when is_outlier then outlier_z
            when is_always_bad then level_z
        end as fired_z,
        case
            when is_change then sqrt(window_se2 + reference_se2 + drift_se2)
            when is_outlier then sqrt(window_se2 + other_se2)
            when is_always_bad then sqrt(window_se2)
        end as fired_se,
        case
            when is_change then reference_mean
            when is_outlier then other_mean
            when is_always_bad then always_bad_scaled
        end as fired_comparison_mean
    from judged

),

final as (

    select
        team_id || ':' || rule_id || ':' || cast(week_start_date as text) as rule_evaluation_id,
        team_id,
        week_start_date,
        window_start_date,
        week_start_date + 6 as window_end_date,
        rule_id,
        rule_description,
        metric_name,
        window_aggregation,
        direction,
        {{ metric_round('threshold') }} as threshold_value,
        {{ metric_round('always_bad_value') }} as always_bad_value,
        {{ metric_round('metric_value') }} as metric_value,
        {{ metric_round('org_baseline_value') }} as org_baseline_value,
        reference_start_date,
        reference_end_date + 6 as reference_end_date,
        reference_n as reference_sample_size,
        {{ metric_round('reference_value') }} as reference_value,
        n as sample_size,
        min_sample,
        min_change_ratio,
        min_ratio_to_baseline,
        is_window_complete,
        is_calendar_clean,
        {{ metric_round('change_z') }} as change_z,
        {{ metric_round('change_ratio') }} as change_ratio,
        {{ metric_round('outlier_z') }} as outlier_z,
        {{ metric_round('outlier_ratio') }} as outlier_ratio,
        {{ metric_round('level_z') }} as level_z,
        is_fired,
        fired_by,
        {{ metric_round('comparison_value') }} as comparison_value,
        -- effect of the comparison that fired, as a ratio (window / comparison; comparison / window for
        -- `below` rules) with its 95% interval from the test's standard error (log scale for median rules)
        {{ metric_round("case when fired_by is not null then case when window_aggregation in ('median', 'sum_per_week')
            then exp(sign * (window_mean - fired_comparison_mean))
            else 1 + sign * (window_mean - fired_comparison_mean) / nullif(abs(fired_comparison_mean), 0) end end") }}
            as effect_ratio,
        {{ metric_round("case when fired_by is not null then case when window_aggregation in ('median', 'sum_per_week')
            then exp(sign * (window_mean - fired_comparison_mean) - 1.96 * fired_se)
            else 1 + (sign * (window_mean - fired_comparison_mean) - 1.96 * fired_se)
                / nullif(abs(fired_comparison_mean), 0) end end") }} as effect_ratio_ci_low,
        {{ metric_round("case when fired_by is not null then case when window_aggregation in ('median', 'sum_per_week')
            then exp(sign * (window_mean - fired_comparison_mean) + 1.96 * fired_se)
            else 1 + (sign * (window_mean - fired_comparison_mean) + 1.96 * fired_se)
                / nullif(abs(fired_comparison_mean), 0) end end") }} as effect_ratio_ci_high,
        excess_unit,
        hours_per_excess_unit,
        {{ metric_round('case when is_fired then fired_hours_lost / hours_per_excess_unit else 0 end') }}
            as excess_units_per_week,
        {{ metric_round('case when is_fired then fired_hours_lost else 0 end') }} as hours_lost_per_week,
        case
            when direction = 'above' then {{ metric_round('metric_value / nullif(threshold, 0)') }}
            else {{ metric_round('threshold / nullif(metric_value, 0)') }}
        end as ratio_to_threshold,
        {{ metric_round('outlier_ratio') }} as ratio_to_baseline
    from decided

)

select * from final
