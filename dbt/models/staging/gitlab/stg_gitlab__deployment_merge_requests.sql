with

source as (

    select * from {{ source('gitlab', 'gitlab_deployment_merge_requests') }}

),

renamed as (

    select
        source_id as deployment_merge_request_id,
        coalesce(parent_id, split_part(source_id, ':', 1)) as deployment_id,
        payload ->> 'id' as merge_request_id,
        payload ->> 'project_id' as project_id,
        payload ->> 'iid' as merge_request_iid,
        {{ parse_jira_ts("payload ->> 'merged_at'") }} as merged_at,
        source as source_system,
        ingested_at

    from source

),

final as (

    select * from renamed

)

select * from final
