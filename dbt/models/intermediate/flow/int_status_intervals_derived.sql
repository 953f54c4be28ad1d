{#- One row per status interval of an issue, rebuilt from the status changelog items.
    Interval 0 starts at the issue's `created` in the from-status of the earliest status change
    (or in the current status when there is no status change); interval k starts at change k in its
    to-status and ends at change k+1; the last one is open (`is_current`, ends at as_of).
    Order is by (changed_at, history id, item position), never load order; the same transition
    delivered twice (same time, from and to) counts once. -#}
{#- Incremental (delete+insert on issue_id), the table every interval consumer reads: a build re-sequences only
    the issues whose raw issue document or any raw change history was ingested at or after the newest
    `source_ingested_at` already here (late and out-of-order histories re-sequence the whole issue). The open
    intervals' end is the only as_of-dependent value: the first post-hook moves every current interval's end
    to this build's as_of (no rows when as_of did not move); the second drops the issues that left raw.
    A change to the status seed or var needs --full-refresh (docs/operations.md, "Incremental builds"). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='issue_id',
        on_schema_change='fail',
        indexes=[
            {'columns': ['issue_id', 'interval_seq'], 'unique': True},
            {'columns': ['team_id']},
            {'columns': ['source_ingested_at']}
        ],
        post_hook=[
            "update {{ this }} set ended_at = greatest(started_at, {{ as_of_ts() }}),"
            " hours = round(cast({{ hours_between('started_at', 'greatest(started_at, ' ~ as_of_ts() ~ ')') }}"
            " as numeric), 4)"
            " where is_current and ended_at is distinct from greatest(started_at, {{ as_of_ts() }})",
            "delete from {{ this }} as built where not exists"
            " (select 1 from {{ ref('stg_jira__issues') }} as stg where stg.issue_id = built.issue_id)"
        ]
    )
}}
-- depends_on: {{ source('jira', 'jira_issues') }}
-- depends_on: {{ source('jira', 'jira_changelogs') }}

with

{% if is_incremental() %}
    last_built as (

        select coalesce(max(source_ingested_at), cast('-infinity' as timestamptz)) as source_ingested_at
        from {{ this }}

    ),

    changed_issues as (

        select raw_issues.source_id as issue_id
        from {{ source('jira', 'jira_issues') }} as raw_issues
        where raw_issues.ingested_at >= (select last_built.source_ingested_at from last_built)

        union

        select coalesce(raw_histories.parent_id, raw_histories.payload ->> 'issueId') as issue_id
        from {{ source('jira', 'jira_changelogs') }} as raw_histories
        where raw_histories.ingested_at >= (select last_built.source_ingested_at from last_built)

    ),
{% endif %}

issues as (

    select * from {{ ref('stg_jira__issues') }}
    {% if is_incremental() %}
        where issue_id in (select changed_issues.issue_id from changed_issues)
    {% endif %}

),

changelog_items as (

    select * from {{ ref('stg_jira__changelog_items') }}
    {% if is_incremental() %}
        -- an array, not a semi-join: read through the issue_id index, not every status item (the join with
        -- issues below keeps the same rows)
        where issue_id = any(array(select changed_issues.issue_id from changed_issues))
    {% endif %}

),

status_map as (

    select * from {{ ref('int_status_category_map_keyed') }}

),

status_items as (

    select
        changelog_items.issue_id,
        changelog_items.history_id,
        changelog_items.item_seq,
        changelog_items.changed_at,
        changelog_items.from_string,
        changelog_items.to_string,
        changelog_items.ingested_at
    from changelog_items
    inner join issues on changelog_items.issue_id = issues.issue_id
    where
        (lower(changelog_items.field_name) = 'status' or changelog_items.field_id = 'status')
        and changelog_items.changed_at is not null

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by issue_id, changed_at, from_string, to_string
            order by {{ numeric_id('history_id') }} nulls last, history_id, item_seq
        ) as duplicate_seq
    from status_items

),

ordered as (

    select
        issue_id,
        history_id,
        changed_at,
        from_string,
        to_string,
        ingested_at,
        row_number() over (
            partition by issue_id
            order by changed_at, {{ numeric_id('history_id') }} nulls last, history_id, item_seq
        ) as change_seq
    from deduplicated
    where duplicate_seq = 1

),

first_intervals as (

    select
        issues.issue_id,
        0 as interval_seq,
        coalesce(first_change.from_string, issues.status_name) as status,
        least(issues.created_at, coalesce(first_change.changed_at, issues.created_at)) as started_at,
        first_change.changed_at as ended_at
    from issues
    left join ordered as first_change
        on issues.issue_id = first_change.issue_id and first_change.change_seq = 1
    where issues.created_at is not null

),

change_intervals as (

    select
        issue_id,
        cast(change_seq as integer) as interval_seq,
        to_string as status,
        changed_at as started_at,
        lead(changed_at) over (partition by issue_id order by change_seq) as ended_at
    from ordered

),

unioned as (

    select * from first_intervals
    union all
    select * from change_intervals

),

last_ingested as (

    select
        issues.issue_id,
        greatest(issues.ingested_at, max(ordered.ingested_at)) as source_ingested_at
    from issues
    left join ordered on issues.issue_id = ordered.issue_id
    group by issues.issue_id, issues.ingested_at

),

categorized as (

    select
        unioned.issue_id,
        unioned.interval_seq,
        unioned.status,
        {{ normalize_status_name('unioned.status') }} as status_name_normalized,
        issues.project_key,
        issues.team_id,
        unioned.started_at,
        unioned.ended_at,
        last_ingested.source_ingested_at
    from unioned
    inner join issues on unioned.issue_id = issues.issue_id
    inner join last_ingested on unioned.issue_id = last_ingested.issue_id

),

mapped as (

    select
        categorized.*,
        {{ mapped_status_category() }} as status_category
    from categorized
    {{ join_status_category('categorized.status_name_normalized', 'categorized.project_key') }}

),

final as (

    select
        issue_id || ':' || cast(interval_seq as text) as interval_id,
        issue_id,
        project_key,
        team_id,
        interval_seq,
        status,
        status_name_normalized,
        status_category,
        started_at,
        coalesce(ended_at, greatest(started_at, {{ as_of_ts() }})) as ended_at,
        cast(round(cast(
            {{ hours_between('started_at', 'coalesce(ended_at, greatest(started_at, ' ~ as_of_ts() ~ '))') }}
            as numeric
        ), 4) as numeric(14, 4)) as hours,
        ended_at is null as is_current,
        source_ingested_at
    from mapped

)

select * from final
