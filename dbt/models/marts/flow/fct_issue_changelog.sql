{#- The Jira changelog of every issue, one row per changed field, as the source recorded it (for audit: the
    Issue Investigator shows it beside the intervals derived from it), with the kind of change named once
    here: status, assignee, sprint (var jira_sprint_field), flag, resolution or other. Items after as_of are
    left out, like every fact built from them. -#}
{#- Incremental (delete+insert on issue_id) by issue: a build rewrites the change items of the issues with a change
    history or issue document ingested at or after the model's watermark (app.dbt_model_watermarks), and, when
    as_of moved, of the issues with a change item between the previous build's as_of (saved with the watermark,
    migration 0022) and this one; post-hooks delete the items after as_of and the issues that left staging.
    Indexed for one issue's timeline (docs/operations.md, "Incremental builds"). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='issue_id',
        on_schema_change='fail',
        indexes=[
            {'columns': ['issue_id', 'changed_at']},
            {'columns': ['changed_at']}
        ],
        post_hook=[
            "delete from {{ this }} where changed_at > {{ as_of_ts() }}",
            "delete from {{ this }} as built where not exists"
            " (select 1 from {{ ref('stg_jira__issues') }} as stg where stg.issue_id = built.issue_id)",
            "{{ save_model_watermark([ref('stg_jira__changelog_items'), ref('stg_jira__issues')], keep_as_of=true) }}"
        ]
    )
}}
-- depends_on: {{ ref('stg_jira__issues') }}
with

{% if is_incremental() %}
    changed_issues as (

        {{ keys_ingested_since_watermark([
            (ref('stg_jira__changelog_items'), 'issue_id'),
            (ref('stg_jira__issues'), 'issue_id')
        ]) }}

        union

        -- as_of moved: the items between the previous build's as_of and this one's enter or leave
        select moved_items.issue_id as changed_key
        from {{ ref('stg_jira__changelog_items') }} as moved_items
        where
            moved_items.changed_at > least({{ model_as_of() }}, {{ as_of_ts() }})
            and moved_items.changed_at <= greatest({{ model_as_of() }}, {{ as_of_ts() }})

        union

        -- no as_of saved (first incremental build): every issue
        select every_issue.issue_id as changed_key
        from {{ ref('stg_jira__issues') }} as every_issue
        where {{ model_as_of() }} is null

    ),
{% endif %}

changelog_items as (

    select * from {{ ref('stg_jira__changelog_items') }}
    {% if is_incremental() %}
        where issue_id in (select changed_issues.changed_key from changed_issues)
    {% endif %}

),

lifecycle as (

    select * from {{ ref('fct_issue_lifecycle') }}
    {% if is_incremental() %}
        where issue_id in (select changed_issues.changed_key from changed_issues)
    {% endif %}

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
