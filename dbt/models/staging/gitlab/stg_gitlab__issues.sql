with

source as (

    select * from {{ source('gitlab', 'gitlab_issues') }}

),

renamed as (

    select
        source.source_id as gitlab_issue_id,
        source.payload ->> 'iid' as gitlab_issue_iid,
        coalesce(source.payload ->> 'project_id', source.parent_id) as project_id,
        source.payload -> 'references' ->> 'full' as issue_reference,
        source.payload ->> 'title' as title,
        source.payload ->> 'description' as description_text,
        lower(coalesce(source.payload ->> 'issue_type', source.payload ->> 'type')) as issue_type,
        source.payload ->> 'state' as state,
        case
            when jsonb_typeof(source.payload -> 'labels') = 'array'
                then (
                    select string_agg(coalesce(labels.label ->> 'title', labels.label #>> '{}'), ' ')
                    from jsonb_array_elements(source.payload -> 'labels') as labels (label)
                )
        end as labels_text,
        source.payload -> 'author' ->> 'username' as author_username,
        {{ parse_jira_ts("source.payload ->> 'created_at'") }} as created_at,
        {{ parse_jira_ts("source.payload ->> 'updated_at'") }} as updated_at,
        {{ parse_jira_ts("source.payload ->> 'closed_at'") }} as closed_at,
        source.payload ->> 'web_url' as web_url,
        source.source as source_system,
        source.ingested_at

    from source

),

final as (

    select * from renamed

)

select * from final
