{#- Incremental (delete+insert on issue_id): JSON is parsed once per raw document version, not by every
    consumer; a build reads only the raw rows ingested since the last one and the post-hook drops rows whose
    document left raw or was re-ingested (docs/operations.md, "Incremental builds"). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='issue_id',
        on_schema_change='fail',
        indexes=[
            {'columns': ['issue_id'], 'unique': True},
            {'columns': ['ingested_at']},
            {'columns': ['team_id']}
        ],
        post_hook="{{ delete_stale_staging_rows(source('jira', 'jira_issues'), 'issue_id') }}"
    )
}}

{%- set incident_issue_types = var('incident_issue_types') -%}
with

source as (

    select * from {{ source('jira', 'jira_issues') }}

),

renamed as (

    select
        source.source_id as issue_id,
        source.payload ->> 'key' as issue_key,
        source.payload -> 'fields' -> 'project' ->> 'id' as project_id,
        source.payload -> 'fields' -> 'project' ->> 'key' as project_key,
        source.payload -> 'fields' -> 'project' ->> 'name' as project_name,
        source.payload -> 'fields' -> 'issuetype' ->> 'name' as issue_type,
        coalesce(
            source.payload -> 'fields' -> 'issuetype' ->> 'name' in (
                {%- for issue_type in incident_issue_types %}
                    '{{ issue_type }}'{{ ',' if not loop.last }}
                {%- endfor %}
            ),
            false
        ) as is_incident,
        source.payload -> 'fields' ->> 'summary' as summary,
        case jsonb_typeof(source.payload -> 'fields' -> 'description')
            when 'string' then source.payload -> 'fields' ->> 'description'
            when 'object' then (
                select string_agg(text_nodes.text_node #>> '{}', ' ')
                from jsonb_path_query(source.payload -> 'fields' -> 'description', 'strict $.**.text')
                    as text_nodes (text_node)
            )
        end as description_text,
        case
            when jsonb_typeof(source.payload -> 'fields' -> 'labels') = 'array'
                then (
                    select string_agg(labels.label #>> '{}', ' ')
                    from jsonb_array_elements(source.payload -> 'fields' -> 'labels') as labels (label)
                )
        end as labels_text,
        case
            when jsonb_typeof(source.payload -> 'fields' -> 'components') = 'array'
                then (
                    select string_agg(components.component ->> 'name', ' ')
                    from jsonb_array_elements(source.payload -> 'fields' -> 'components') as components (component)
                )
        end as components_text,
        source.payload -> 'fields' -> 'status' ->> 'id' as status_id,
        source.payload -> 'fields' -> 'status' ->> 'name' as status_name,
        {{ normalize_status_name("source.payload -> 'fields' -> 'status' ->> 'name'") }} as status_name_normalized,
        source.payload -> 'fields' -> 'status' -> 'statusCategory' ->> 'key' as jira_status_category_key,
        source.payload -> 'fields' -> 'priority' ->> 'name' as priority_name,
        source.payload -> 'fields' -> 'resolution' ->> 'name' as resolution_name,
        nullif(source.payload -> 'fields' -> 'assignee' ->> 'accountId', '') as assignee_account_id,
        nullif(trim(source.payload -> 'fields' -> 'assignee' ->> 'timeZone'), '') as assignee_time_zone,
        nullif(source.payload -> 'fields' -> 'reporter' ->> 'accountId', '') as reporter_account_id,
        coalesce(jsonb_typeof(source.payload -> 'fields' -> 'assignee') = 'object', false) as has_assignee,
        coalesce(
            jsonb_typeof(source.payload -> 'fields' -> '{{ var("jira_flagged_field") }}') = 'array'
            and jsonb_array_length(source.payload -> 'fields' -> '{{ var("jira_flagged_field") }}') > 0,
            false
        ) as is_flagged,
        nullif(source.payload -> 'fields' -> '{{ var("jira_team_field") }}' ->> 'id', '') as jira_team_id,
        nullif(
            trim(coalesce(
                source.payload -> 'fields' -> '{{ var("jira_team_field") }}' ->> 'name',
                source.payload -> 'fields' -> '{{ var("jira_team_field") }}' ->> 'title'
            )),
            ''
        ) as team_name,
        coalesce(
            {{ slugify("coalesce(source.payload -> 'fields' -> '" ~ var('jira_team_field') ~ "' ->> 'name', source.payload -> 'fields' -> '" ~ var('jira_team_field') ~ "' ->> 'title')") }},
            {{ slugify("source.payload -> 'fields' -> 'project' ->> 'key'") }}
        ) as team_id,
        case
            when jsonb_typeof(source.payload -> 'fields' -> '{{ var("jira_sprint_field") }}') = 'array'
                then source.payload -> 'fields' -> '{{ var("jira_sprint_field") }}'
            else cast('[]' as jsonb)
        end as sprints_json,
        {{ parse_jira_ts("source.payload -> 'fields' ->> 'created'") }} as created_at,
        {{ parse_jira_ts("source.payload -> 'fields' ->> 'updated'") }} as updated_at,
        {{ parse_jira_ts("source.payload -> 'fields' ->> 'resolutiondate'") }} as resolved_at,
        source.source as source_system,
        source.batch_id,
        source.ingested_at

    from source

    {% if is_incremental() %}

        where {{ ingested_since_last_build('source.ingested_at') }}

    {% endif %}

),

final as (

    select * from renamed

)

select * from final
