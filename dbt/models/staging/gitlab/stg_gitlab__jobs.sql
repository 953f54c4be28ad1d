{#- Incremental (delete+insert on job_id): JSON is parsed once per raw document version, not by every
    consumer; a build reads only the raw rows ingested since the last one and the post-hook drops rows whose
    document left raw or was re-ingested (docs/operations.md, "Incremental builds"). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='job_id',
        on_schema_change='fail',
        indexes=[
            {'columns': ['job_id'], 'unique': True},
            {'columns': ['ingested_at']},
            {'columns': ['pipeline_id']}
        ],
        post_hook="{{ delete_stale_staging_rows(source('gitlab', 'gitlab_jobs'), 'job_id') }}"
    )
}}

with

source as (

    select * from {{ source('gitlab', 'gitlab_jobs') }}

),

renamed as (

    select
        source_id as job_id,
        coalesce(payload -> 'pipeline' ->> 'id', parent_id) as pipeline_id,
        payload -> 'pipeline' ->> 'project_id' as project_id,
        payload ->> 'name' as job_name,
        payload ->> 'stage' as stage,
        payload ->> 'status' as status,
        coalesce(cast(payload ->> 'allow_failure' as boolean), false) as is_allowed_to_fail,
        coalesce(cast(payload ->> 'retried' as boolean), false) as is_retried,
        payload ->> 'failure_reason' as failure_reason,
        cast(payload ->> 'duration' as numeric) as duration_seconds,
        cast(payload ->> 'queued_duration' as numeric) as queued_duration_seconds,
        {{ parse_jira_ts("payload ->> 'created_at'") }} as created_at,
        {{ parse_jira_ts("payload ->> 'started_at'") }} as started_at,
        {{ parse_jira_ts("payload ->> 'finished_at'") }} as finished_at,
        source as source_system,
        ingested_at

    from source

    {% if is_incremental() %}

        where {{ ingested_since_last_build('source.ingested_at') }}

    {% endif %}

),

final as (

    select * from renamed

)

select * from final
