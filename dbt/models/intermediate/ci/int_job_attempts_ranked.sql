{#- Every job attempt with its attempt number within (pipeline, job name): GitLab keeps each retried attempt
    as its own job (`retried = true` on all but the last). Attempts are ordered by creation, then start, then id. -#}
with

jobs as (

    select * from {{ ref('stg_gitlab__jobs') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by pipeline_id, job_name
            order by created_at, started_at nulls last, {{ numeric_id('job_id') }}, job_id
        ) as attempt_number,
        count(*) over (partition by pipeline_id, job_name) as attempt_count
    from jobs

),

final as (

    select
        job_id,
        pipeline_id,
        project_id,
        job_name,
        stage,
        status,
        is_allowed_to_fail,
        is_retried,
        failure_reason,
        duration_seconds,
        queued_duration_seconds,
        created_at,
        started_at,
        finished_at,
        cast(attempt_number as integer) as attempt_number,
        cast(attempt_count as integer) as attempt_count,
        attempt_number = attempt_count as is_final_attempt
    from ranked

)

select * from final
