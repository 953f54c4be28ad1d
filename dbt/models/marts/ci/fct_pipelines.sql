{#- One row per pipeline: status, timings, job attempts, retry waste and flakiness (docs/metrics.md, "CI"). -#}
with

pipelines as (

    select * from {{ ref('stg_gitlab__pipelines') }}

),

projects as (

    select * from {{ ref('stg_gitlab__projects') }}

),

jobs as (

    select * from {{ ref('fct_jobs') }}

),

job_stats as (

    select
        pipeline_id,
        count(*) as job_attempt_count,
        count(distinct job_name) as job_count,
        count(*) filter (where is_retried_attempt) as retried_attempt_count,
        sum(retry_waste_minutes) as retry_waste_minutes,
        bool_or(is_retried_attempt and status = 'failed') as has_failed_retried_attempt,
        bool_and(not is_final_attempt or status in ('success', 'skipped', 'manual') or is_allowed_to_fail)
            as are_final_attempts_green
    from jobs
    group by pipeline_id

),

final as (

    select
        pipelines.pipeline_id,
        pipelines.project_id,
        projects.team_id,
        pipelines.ref,
        pipelines.trigger_source,
        pipelines.trigger_source = 'merge_request_event' or pipelines.ref like 'refs/merge-requests/%'
            as is_merge_request_pipeline,
        pipelines.commit_sha,
        pipelines.status,
        pipelines.status in ('success', 'failed', 'canceled', 'cancelled', 'skipped') as is_finished,
        pipelines.status = 'failed' as is_failed,
        pipelines.created_at,
        pipelines.started_at,
        pipelines.finished_at,
        pipelines.duration_seconds,
        pipelines.queued_duration_seconds,
        coalesce(job_stats.job_count, 0) as job_count,
        coalesce(job_stats.job_attempt_count, 0) as job_attempt_count,
        coalesce(job_stats.retried_attempt_count, 0) as retried_attempt_count,
        {{ metric_round('coalesce(job_stats.retry_waste_minutes, 0)') }} as retry_waste_minutes,
        pipelines.status = 'success' and coalesce(job_stats.has_failed_retried_attempt, false) as is_flaky,
        pipelines.web_url
    from pipelines
    left join projects on pipelines.project_id = projects.project_id
    left join job_stats on pipelines.pipeline_id = job_stats.pipeline_id

)

select * from final
