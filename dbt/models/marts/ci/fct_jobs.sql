{#- One row per job attempt (retried attempts included) with its attempt number and the minutes it wasted when a
    later attempt replaced it. -#}
with

attempts as (

    select * from {{ ref('int_job_attempts_ranked') }}

),

pipelines as (

    select * from {{ ref('stg_gitlab__pipelines') }}

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
