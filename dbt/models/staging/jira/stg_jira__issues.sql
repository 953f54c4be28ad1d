with

source as (

    select * from {{ source('jira', 'jira_issues') }}

),

renamed as (

    select
        source_id as issue_id,
        payload ->> 'key' as issue_key,
        payload -> 'fields' -> 'project' ->> 'id' as project_id,
        payload -> 'fields' -> 'project' ->> 'key' as project_key,
        payload -> 'fields' -> 'project' ->> 'name' as project_name,
        payload -> 'fields' -> 'issuetype' ->> 'name' as issue_type,
        payload -> 'fields' ->> 'summary' as summary,
        payload -> 'fields' -> 'status' ->> 'id' as status_id,
        payload -> 'fields' -> 'status' ->> 'name' as status_name,
        {{ normalize_status_name("payload -> 'fields' -> 'status' ->> 'name'") }} as status_name_normalized,
        payload -> 'fields' -> 'status' -> 'statusCategory' ->> 'key' as jira_status_category_key,
        payload -> 'fields' -> 'priority' ->> 'name' as priority_name,
        payload -> 'fields' -> 'resolution' ->> 'name' as resolution_name,
        nullif(payload -> 'fields' -> 'assignee' ->> 'accountId', '') as assignee_account_id,
        nullif(payload -> 'fields' -> 'reporter' ->> 'accountId', '') as reporter_account_id,
        coalesce(jsonb_typeof(payload -> 'fields' -> 'assignee') = 'object', false) as has_assignee,
        coalesce(
            jsonb_typeof(payload -> 'fields' -> '{{ var("jira_flagged_field") }}') = 'array'
            and jsonb_array_length(payload -> 'fields' -> '{{ var("jira_flagged_field") }}') > 0,
            false
        ) as is_flagged,
        nullif(payload -> 'fields' -> '{{ var("jira_team_field") }}' ->> 'id', '') as jira_team_id,
        nullif(
            trim(coalesce(
                payload -> 'fields' -> '{{ var("jira_team_field") }}' ->> 'name',
                payload -> 'fields' -> '{{ var("jira_team_field") }}' ->> 'title'
            )),
            ''
        ) as team_name,
        coalesce(
            {{ slugify("coalesce(payload -> 'fields' -> '" ~ var('jira_team_field') ~ "' ->> 'name', payload -> 'fields' -> '" ~ var('jira_team_field') ~ "' ->> 'title')") }},
            {{ slugify("payload -> 'fields' -> 'project' ->> 'key'") }}
        ) as team_id,
        case
            when jsonb_typeof(payload -> 'fields' -> '{{ var("jira_sprint_field") }}') = 'array'
                then payload -> 'fields' -> '{{ var("jira_sprint_field") }}'
            else cast('[]' as jsonb)
        end as sprints_json,
        {{ parse_jira_ts("payload -> 'fields' ->> 'created'") }} as created_at,
        {{ parse_jira_ts("payload -> 'fields' ->> 'updated'") }} as updated_at,
        {{ parse_jira_ts("payload -> 'fields' ->> 'resolutiondate'") }} as resolved_at,
        source as source_system,
        batch_id,
        ingested_at

    from source

),

final as (

    select * from renamed

)

select * from final
