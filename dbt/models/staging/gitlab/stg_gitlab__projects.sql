with

source as (

    select * from {{ source('gitlab', 'gitlab_projects') }}

),

renamed as (

    select
        source_id as project_id,
        payload ->> 'name' as project_name,
        payload ->> 'path' as project_path,
        payload ->> 'path_with_namespace' as path_with_namespace,
        payload -> 'namespace' ->> 'id' as namespace_id,
        payload -> 'namespace' ->> 'name' as namespace_name,
        payload -> 'namespace' ->> 'path' as namespace_path,
        payload -> 'namespace' ->> 'full_path' as namespace_full_path,
        {{ slugify("payload -> 'namespace' ->> 'path'") }} as team_id,
        payload ->> 'web_url' as web_url,
        {{ parse_jira_ts("payload ->> 'created_at'") }} as created_at,
        {{ parse_jira_ts("payload ->> 'last_activity_at'") }} as last_activity_at,
        source as source_system,
        ingested_at

    from source

),

final as (

    select * from renamed

)

select * from final
