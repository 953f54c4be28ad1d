{#- Where the loaded Jira history begins, one row: var `jira_history_start` when set, else the earliest
    changelog change in the warehouse. Before it, every status, flag and sprint state of an issue is an
    assumption (the from-state of its first loaded change, held since `created`), so sprints, blocked windows
    and WIP days that start before it are marked `is_truncated_by_history_start` and never used as evidence. -#}
{#- Table, rebuilt whole every build (docs/operations.md, "Incremental builds"): one row read by every history-aware model (a view re-scanned all change items per reader); computed once instead of once per reader and per test. -#}
{{ config(materialized='table') }}
{%- set configured_start = var('jira_history_start') -%}
{%- set has_configured_start = configured_start is not none
    and (configured_start | string | trim) not in ('', 'None', 'null') -%}
with

changelog_items as (

    select * from {{ ref('stg_jira__changelog_items') }}

),

earliest_change as (

    select min(changed_at) as earliest_changed_at
    from changelog_items

),

final as (

    select
        'jira' as history_start_id,
        {%- if has_configured_start %}
            cast('{{ configured_start }}' as timestamptz) as history_started_at,
            'var jira_history_start' as history_start_source
        {%- else %}
            earliest_change.earliest_changed_at as history_started_at,
            'earliest changelog change' as history_start_source
        {%- endif %}
    from earliest_change

)

select * from final
