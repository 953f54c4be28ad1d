{#- Per team and UTC day of pipeline creation: pipelines, failure rate (failed / (succeeded + failed); cancelled
    and skipped excluded), flaky pipelines, retry waste and duration percentiles. -#}
{#- Table, rebuilt whole every build (docs/operations.md, "Incremental builds"), indexed for what the
    dashboards, apps and report ask (one team's days or weeks, one issue, one merge request). -#}
{{
    config(
        indexes=[
            {'columns': ['team_id', 'date_day']}
        ]
    )
}}
with

pipelines as (

    select * from {{ ref('fct_pipelines') }}

),

daily as (

    select
        team_id,
        {{ utc_date('created_at') }} as date_day,
        count(*) as pipelines_created,
        count(*) filter (where is_finished) as pipelines_finished,
        count(*) filter (where status = 'success') as pipelines_succeeded,
        count(*) filter (where status = 'failed') as pipelines_failed,
        count(*) filter (where status in ('canceled', 'cancelled', 'skipped')) as pipelines_cancelled_or_skipped,
        count(*) filter (where is_flaky) as flaky_pipelines,
        sum(retry_waste_minutes) as retry_waste_minutes,
        {{ percentile_of('duration_seconds', 0.5) }} / 60.0 as duration_p50_minutes,
        {{ percentile_of('duration_seconds', 0.85) }} / 60.0 as duration_p85_minutes,
        {{ percentile_of('queued_duration_seconds', 0.5) }} / 60.0 as queued_p50_minutes
    from pipelines
    where team_id is not null and created_at is not null
    group by team_id, {{ utc_date('created_at') }}

),

final as (

    select
        team_id || ':' || cast(date_day as text) as ci_daily_id,
        team_id,
        date_day,
        pipelines_created,
        pipelines_finished,
        pipelines_succeeded,
        pipelines_failed,
        pipelines_cancelled_or_skipped,
        {{ metric_round('1.0 * pipelines_failed / nullif(pipelines_succeeded + pipelines_failed, 0)') }} as failure_rate,
        flaky_pipelines,
        {{ metric_round('retry_waste_minutes') }} as retry_waste_minutes,
        {{ metric_round('duration_p50_minutes') }} as duration_p50_minutes,
        {{ metric_round('duration_p85_minutes') }} as duration_p85_minutes,
        {{ metric_round('queued_p50_minutes') }} as queued_p50_minutes
    from daily

)

select * from final
