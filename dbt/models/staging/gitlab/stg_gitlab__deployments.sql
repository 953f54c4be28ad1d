with

source as (

    select * from {{ source('gitlab', 'gitlab_deployments') }}

),

renamed as (

    select
        source_id as deployment_id,
        payload ->> 'iid' as deployment_iid,
        parent_id as project_id,
        payload ->> 'ref' as ref,
        payload ->> 'sha' as commit_sha,
        payload ->> 'status' as status,
        payload -> 'environment' ->> 'name' as environment_name,
        payload -> 'environment' ->> 'tier' as environment_tier,
        payload -> 'deployable' -> 'pipeline' ->> 'id' as pipeline_id,
        {{ parse_jira_ts("payload ->> 'created_at'") }} as created_at,
        {{ parse_jira_ts("payload ->> 'updated_at'") }} as updated_at,
        {{ parse_jira_ts("payload ->> 'finished_at'") }} as finished_at,
        source as source_system,
        ingested_at

    from source

),

final as (

    select * from renamed

)

select * from final
