{#- One row per window in which an issue was in a sprint, reconstructed from the `Sprint` changelog
    items (comma-separated sprint ids in from/to) plus the issue's current sprint field.
    Per (issue, sprint), before the first change the issue is in that change's from-state (a sprint in
    the first change's from-list is assumed to have held the issue since `created`); each change that
    adds the sprint opens a window, each change that removes it closes one. A sprint in the current
    field that no changelog item mentions is assumed to have held the issue since `created`.
    Items that carry only sprint names (no ids, as some webhooks send) are ignored. -#}
{#- Incremental (delete+insert on issue_id) by issue: the windows are a function of one issue's document (created,
    current sprint field) and change histories, so a build reconstructs only the issues with an issue document or
    change history ingested at or after the model's watermark (app.dbt_model_watermarks); issues that left
    staging are deleted. Independent of as_of; a change of the var jira_sprint_field needs --full-refresh
    (docs/operations.md, "Incremental builds"). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='issue_id',
        on_schema_change='fail',
        indexes=[
            {'columns': ['issue_id']},
            {'columns': ['sprint_id']}
        ],
        post_hook=[
            "delete from {{ this }} as built where not exists"
            " (select 1 from {{ ref('stg_jira__issues') }} as stg where stg.issue_id = built.issue_id)",
            "{{ save_model_watermark([ref('stg_jira__issues'), ref('stg_jira__changelog_items')]) }}"
        ]
    )
}}
with

{% if is_incremental() %}
    changed_issues as (

        {{ keys_ingested_since_watermark([
            (ref('stg_jira__issues'), 'issue_id'),
            (ref('stg_jira__changelog_items'), 'issue_id')
        ]) }}

    ),
{% endif %}

issues as (

    select * from {{ ref('stg_jira__issues') }}
    {% if is_incremental() %}
        where issue_id in (select changed_issues.changed_key from changed_issues)
    {% endif %}

),

issue_sprints as (

    select * from {{ ref('stg_jira__issue_sprints') }}
    {% if is_incremental() %}
        where issue_id in (select changed_issues.changed_key from changed_issues)
    {% endif %}

),

changelog_items as (

    select * from {{ ref('stg_jira__changelog_items') }}
    {% if is_incremental() %}
        where issue_id in (select changed_issues.changed_key from changed_issues)
    {% endif %}

),

sprint_items as (

    select
        changelog_items.issue_id,
        changelog_items.history_id,
        changelog_items.item_seq,
        changelog_items.changed_at,
        {{ split_id_list('changelog_items.from_value') }} as from_sprint_ids,
        {{ split_id_list('changelog_items.to_value') }} as to_sprint_ids
    from changelog_items
    inner join issues on changelog_items.issue_id = issues.issue_id
    where
        (
            lower(changelog_items.field_name) = 'sprint'
            or changelog_items.field_id = '{{ var("jira_sprint_field") }}'
        )
        and changelog_items.changed_at is not null

),

sprint_changes as (

    select distinct
        sprint_items.issue_id,
        sprint_items.history_id,
        sprint_items.item_seq,
        sprint_items.changed_at,
        mentioned.sprint_id,
        mentioned.sprint_id = any(sprint_items.from_sprint_ids) as was_member,
        mentioned.sprint_id = any(sprint_items.to_sprint_ids) as is_member
    from sprint_items
    cross join lateral unnest(sprint_items.from_sprint_ids || sprint_items.to_sprint_ids) as mentioned (sprint_id)

),

effective_changes as (

    select
        *,
        row_number() over (
            partition by issue_id, sprint_id, changed_at, is_member
            order by {{ numeric_id('history_id') }} nulls last, history_id, item_seq
        ) as duplicate_seq
    from sprint_changes
    where was_member <> is_member

),

ordered as (

    select
        issue_id,
        sprint_id,
        changed_at,
        was_member,
        is_member,
        row_number() over (
            partition by issue_id, sprint_id
            order by changed_at, {{ numeric_id('history_id') }} nulls last, history_id, item_seq
        ) as change_seq
    from effective_changes
    where duplicate_seq = 1

),

initial_windows as (

    select
        ordered.issue_id,
        ordered.sprint_id,
        0 as window_seq,
        ordered.was_member as is_member,
        least(issues.created_at, ordered.changed_at) as added_at,
        ordered.changed_at as removed_at,
        true as is_assumed_from_created
    from ordered
    inner join issues on ordered.issue_id = issues.issue_id
    where ordered.change_seq = 1

),

change_windows as (

    select
        issue_id,
        sprint_id,
        cast(change_seq as integer) as window_seq,
        is_member,
        changed_at as added_at,
        lead(changed_at) over (partition by issue_id, sprint_id order by change_seq) as removed_at,
        false as is_assumed_from_created
    from ordered

),

current_field_windows as (

    select distinct
        issue_sprints.issue_id,
        issue_sprints.sprint_id,
        0 as window_seq,
        true as is_member,
        issues.created_at as added_at,
        cast(null as timestamptz) as removed_at,
        true as is_assumed_from_created
    from issue_sprints
    inner join issues on issue_sprints.issue_id = issues.issue_id
    where not exists (
        select 1
        from ordered
        where ordered.issue_id = issue_sprints.issue_id and ordered.sprint_id = issue_sprints.sprint_id
    )

),

unioned as (

    select * from initial_windows
    union all
    select * from change_windows
    union all
    select * from current_field_windows

),

final as (

    select
        issue_id || ':' || sprint_id || ':' || cast(window_seq as text) as sprint_membership_id,
        issue_id,
        sprint_id,
        window_seq,
        added_at,
        removed_at,
        is_assumed_from_created
    from unioned
    where is_member

)

select * from final
