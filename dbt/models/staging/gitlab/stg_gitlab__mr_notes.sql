with

source as (

    select * from {{ source('gitlab', 'gitlab_mr_notes') }}

),

renamed as (

    select
        source_id as note_id,
        coalesce(parent_id, payload ->> 'noteable_id') as merge_request_id,
        payload ->> 'body' as body,
        payload ->> 'type' as note_type,
        payload ->> 'noteable_type' as noteable_type,
        payload -> 'author' ->> 'id' as author_id,
        payload -> 'author' ->> 'username' as author_username,
        coalesce(cast(payload ->> 'system' as boolean), false) as is_system,
        coalesce(cast(payload ->> 'system' as boolean), false)
        and payload ->> 'body' = 'approved this merge request' as is_approval,
        {{ parse_jira_ts("payload ->> 'created_at'") }} as created_at,
        {{ parse_jira_ts("payload ->> 'updated_at'") }} as updated_at,
        source as source_system,
        ingested_at

    from source

),

final as (

    select * from renamed

)

select * from final
