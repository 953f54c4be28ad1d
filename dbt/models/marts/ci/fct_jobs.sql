{#- One row per job attempt (retried attempts included) with its attempt number and the minutes it wasted when a
    later attempt replaced it. -#}
{#- Incremental (delete+insert on job_id) by pipeline: a build recomputes every job attempt of the pipelines with a
    job or pipeline document ingested at or after the model's watermark (app.dbt_model_watermarks), since a new
    attempt renumbers its siblings, and of the pipelines whose project's team changed; jobs that left staging are
    deleted. Nothing here depends on as_of (docs/operations.md, "Incremental builds"). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='job_id',
        on_schema_change='fail',
        indexes=[
            {'columns': ['job_id']},
            {'columns': ['pipeline_id']},
            {'columns': ['team_id', 'created_at']}
        ],
        post_hook=[
            "delete from {{ this }} as built where not exists"
            " (select 1 from {{ ref('stg_gitlab__jobs') }} as stg where stg.job_id = built.job_id)",
            "{{ save_model_watermark([ref('stg_gitlab__jobs'), ref('stg_gitlab__pipelines')]) }}"
        ]
    )
}}
-- depends_on: {{ ref('stg_gitlab__jobs') }}
with

{% if is_incremental() %}
    changed_pipelines as (

        select coalesce(jobs.pipeline_id, '') as pipeline_key
        from {{ ref('stg_gitlab__jobs') }} as jobs
        where jobs.ingested_at >= {{ model_watermark() }}

        union

        -- (a pipeline with no job has no row here: its key changes nothing)
        select pipelines.pipeline_id as pipeline_key
        from {{ ref('stg_gitlab__pipelines') }} as pipelines
        where pipelines.ingested_at >= {{ model_watermark() }}

        union

        -- a project's team is the only value read from projects (whose documents change with every activity)
        select coalesce(built.pipeline_id, '') as pipeline_key
        from {{ this }} as built
        left join {{ ref('stg_gitlab__projects') }} as projects on built.project_id = projects.project_id
        where built.team_id is distinct from projects.team_id

        union

        -- the pipeline a re-delivered job was in before
        select coalesce(built.pipeline_id, '') as pipeline_key
        from {{ this }} as built
        inner join {{ ref('stg_gitlab__jobs') }} as jobs on built.job_id = jobs.job_id
        where jobs.ingested_at >= {{ model_watermark() }}

    ),
{% endif %}

attempts as (

    select * from {{ ref('int_job_attempts_ranked') }}
    {% if is_incremental() %}
        -- arrays, not a semi-join: the condition on the partition column is pushed below the view's window
        -- functions, so only the changed pipelines' jobs are read (stg_gitlab__jobs.pipeline_id index) and ranked
        where
            pipeline_id = any(array(select changed_pipelines.pipeline_key from changed_pipelines))
            or (pipeline_id is null and '' = any(array(select changed_pipelines.pipeline_key from changed_pipelines)))
    {% endif %}

),

pipelines as (

    select * from {{ ref('stg_gitlab__pipelines') }}
    {% if is_incremental() %}
        where pipeline_id = any(array(select changed_pipelines.pipeline_key from changed_pipelines))
    {% endif %}

),

projects as (

    select * from {{ ref('stg_gitlab__projects') }}

),

final as (

    select
        attempts.job_id,
        attempts.pipeline_id,
        coalesce(attempts.project_id, pipelines.project_id) as project_id,
        projects.team_id,
        attempts.job_name,
        attempts.stage,
        attempts.status,
        attempts.failure_reason,
        attempts.is_allowed_to_fail,
        attempts.attempt_number,
        attempts.attempt_count,
        attempts.is_final_attempt,
        attempts.is_retried or not attempts.is_final_attempt as is_retried_attempt,
        attempts.created_at,
        attempts.started_at,
        attempts.finished_at,
        attempts.duration_seconds,
        attempts.queued_duration_seconds,
        case
            when attempts.is_retried or not attempts.is_final_attempt
                then {{ metric_round('coalesce(attempts.duration_seconds, 0) / 60.0') }}
            else 0
        end as retry_waste_minutes
    from attempts
    left join pipelines on attempts.pipeline_id = pipelines.pipeline_id
    left join projects on coalesce(attempts.project_id, pipelines.project_id) = projects.project_id

)

select * from final
