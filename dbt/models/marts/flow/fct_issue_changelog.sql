{#- The Jira changelog of every issue, one row per changed field, as the source recorded it (for audit: the
    Issue Investigator shows it beside the intervals derived from it), with the kind of change named once
    here: status, assignee, sprint (var jira_sprint_field), flag, resolution or other. Items after as_of are
    left out, like every fact built from them. -#}
{#- Table, rebuilt whole every build (docs/operations.md, "Incremental builds"), indexed for what the
    dashboards, apps and report ask (one team's days or weeks, one issue, one merge request). -#}
{{
    config(
        indexes=[
            {'columns': ['issue_id', 'changed_at']}
        ]
    )
}}
with

changelog_items as (

    select * from {{ ref('stg_jira__changelog_items') }}

),

lifecycle as (

    select * from {{ ref('fct_issue_lifecycle') }}

),

final as (

    select
        changelog_items.changelog_item_id,
        changelog_items.history_id,
        changelog_items.item_seq,
        changelog_items.issue_id,
        lifecycle.issue_key,
        lifecycle.team_id,
        changelog_items.changed_at,
        changelog_items.author_account_id,
        changelog_items.field_name,
        changelog_items.field_id,
        case
            when lower(changelog_items.field_name) = 'status' then 'status'
            when lower(changelog_items.field_name) = 'assignee' then 'assignee'
            when
                lower(changelog_items.field_name) = 'sprint'
                or changelog_items.field_id = '{{ var("jira_sprint_field") }}'
                then 'sprint'
            when lower(changelog_items.field_name) = 'flagged' then 'flag'
            when lower(changelog_items.field_name) = 'resolution' then 'resolution'
            else 'other'
        end as change_kind,
        changelog_items.from_string,
        changelog_items.to_string
    from changelog_items
    inner join lifecycle on changelog_items.issue_id = lifecycle.issue_id
    where changelog_items.changed_at is not null and changelog_items.changed_at <= {{ as_of_ts() }}

)

select * from final
