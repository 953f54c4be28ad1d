{#- One row per pipeline: status, timings, job attempts, retry waste (run time of every attempt a later attempt
    of the same job replaced, summed from seconds) and flakiness (succeeded, and at least one job failed, was
    retried and its final attempt succeeded). docs/metrics.md, "CI". -#}
{#- Incremental (delete+insert on pipeline_id): a build recomputes the pipelines with a pipeline or job document
    ingested at or after the model's watermark (app.dbt_model_watermarks) and those whose project's team changed;
    pipelines that left staging are deleted. Nothing here depends on as_of (docs/operations.md, "Incremental
    builds"). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='pipeline_id',
        on_schema_change='fail',
        indexes=[
            {'columns': ['pipeline_id']},
            {'columns': ['team_id', 'created_at']}
        ],
        post_hook=[
            "delete from {{ this }} as built where not exists"
            " (select 1 from {{ ref('stg_gitlab__pipelines') }} as stg where stg.pipeline_id = built.pipeline_id)",
            "{{ save_model_watermark([ref('stg_gitlab__jobs'), ref('stg_gitlab__pipelines')]) }}"
        ]
    )
}}
-- depends_on: {{ ref('stg_gitlab__jobs') }}
with

{% if is_incremental() %}
    changed_pipelines as (

        select pipelines.pipeline_id
        from {{ ref('stg_gitlab__pipelines') }} as pipelines
        where pipelines.ingested_at >= {{ model_watermark() }}

        union

        -- a project's team is the only value read from projects (whose documents change with every activity)
        select built.pipeline_id
        from {{ this }} as built
        left join {{ ref('stg_gitlab__projects') }} as projects on built.project_id = projects.project_id
        where built.team_id is distinct from projects.team_id

        union

        select jobs.pipeline_id
        from {{ ref('stg_gitlab__jobs') }} as jobs
        where jobs.ingested_at >= {{ model_watermark() }}

    ),
{% endif %}

pipelines as (

    select * from {{ ref('stg_gitlab__pipelines') }}
    {% if is_incremental() %}
        where pipeline_id in (select changed_pipelines.pipeline_id from changed_pipelines)
    {% endif %}

),

projects as (

    select * from {{ ref('stg_gitlab__projects') }}

),

jobs as (

    select * from {{ ref('fct_jobs') }}
    {% if is_incremental() %}
        where pipeline_id in (select changed_pipelines.pipeline_id from changed_pipelines)
    {% endif %}

),

job_outcomes as (

    select
        pipeline_id,
        job_name,
        bool_or(is_retried_attempt and status = 'failed') as has_failed_retried_attempt,
        bool_or(is_final_attempt and status = 'success') as is_final_attempt_successful
    from jobs
    group by pipeline_id, job_name

),

job_stats as (

    select
        pipeline_id,
        count(*) as job_attempt_count,
        count(distinct job_name) as job_count,
        count(*) filter (where is_retried_attempt) as retried_attempt_count,
        count(distinct job_name) filter (where is_retried_attempt) as retried_job_count,
        sum(case when is_retried_attempt then coalesce(duration_seconds, 0) else 0 end) / 60.0
            as retry_waste_minutes
    from jobs
    group by pipeline_id

),

flaky_jobs as (

    select
        pipeline_id,
        count(*) as flaky_job_count
    from job_outcomes
    where has_failed_retried_attempt and is_final_attempt_successful
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
        coalesce(pipelines.status in ('success', 'failed'), false) as is_succeeded_or_failed,
        pipelines.created_at,
        pipelines.started_at,
        pipelines.finished_at,
        pipelines.duration_seconds,
        pipelines.queued_duration_seconds,
        coalesce(job_stats.job_count, 0) as job_count,
        coalesce(job_stats.job_attempt_count, 0) as job_attempt_count,
        coalesce(job_stats.retried_attempt_count, 0) as retried_attempt_count,
        coalesce(job_stats.retried_job_count, 0) as retried_job_count,
        coalesce(flaky_jobs.flaky_job_count, 0) as flaky_job_count,
        {{ metric_round('coalesce(job_stats.retry_waste_minutes, 0)') }} as retry_waste_minutes,
        pipelines.status = 'success' and coalesce(flaky_jobs.flaky_job_count, 0) > 0 as is_flaky,
        pipelines.web_url
    from pipelines
    left join projects on pipelines.project_id = projects.project_id
    left join job_stats on pipelines.pipeline_id = job_stats.pipeline_id
    left join flaky_jobs on pipelines.pipeline_id = flaky_jobs.pipeline_id

)

select * from final
