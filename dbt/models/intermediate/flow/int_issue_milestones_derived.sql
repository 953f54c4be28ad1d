{#- One row per issue: the lifecycle events every flow metric is measured between (docs/metrics.md).
    life_started_at = the earlier of `created` and the first status change (the start of interval 0);
    started_at = first entry into an in_progress or review interval (interval 0 counts: an issue whose
    history starts in an in-progress state started at its life start);
    done_at = first entry into the final uninterrupted run of done intervals (Resolved -> Closed does not
    move it), only when the issue's current status category is done. When the changelog holds no entry into
    that run (no status history, a history that starts in done, or a history that never reaches done),
    resolutiondate, then updated, never before the last known status state began (`done_at_source` says which);
    reopen_count = entries into an open category (not done or cancelled) straight after a closed run
    (done/cancelled intervals) that contains a done: Done -> Won't Do and Resolved -> Closed are not rework;
    active life = started_at (else life_started_at) to done_at (else the start of a current cancelled
    interval, else as_of). -#}
{#- Incremental (delete+insert on issue_id) by issue: a build recomputes the issues with an issue document or change
    history ingested at or after the model's watermark (app.dbt_model_watermarks), whose intervals were
    re-derived; active_to is the only as_of-dependent value (issues neither done nor in a current cancelled
    interval end their active life at as_of): a post-hook sets it again from this build's as_of, the same way the
    model computes it, for the issues not done; another deletes the issues that left staging. A status-seed
    change needs --full-refresh (docs/operations.md, "Incremental builds"). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='issue_id',
        on_schema_change='fail',
        indexes=[
            {'columns': ['issue_id'], 'unique': True}
        ],
        post_hook=[
            "update {{ this }} as built set active_to = moved.active_to from ("
            " select open_issues.issue_id, greatest(open_issues.active_from, coalesce(("
            " select max(intervals.started_at) from {{ ref('int_status_intervals_derived') }} as intervals"
            " where intervals.issue_id = open_issues.issue_id and intervals.is_current"
            " and intervals.status_category = 'cancelled'), {{ as_of_ts() }})) as active_to"
            " from {{ this }} as open_issues where open_issues.done_at is null) as moved"
            " where built.issue_id = moved.issue_id and built.active_to is distinct from moved.active_to",
            "delete from {{ this }} as built where not exists"
            " (select 1 from {{ ref('stg_jira__issues') }} as stg where stg.issue_id = built.issue_id)",
            "{{ save_model_watermark([ref('stg_jira__issues'), ref('stg_jira__changelog_items')]) }}"
        ]
    )
}}
-- depends_on: {{ ref('stg_jira__changelog_items') }}
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

intervals as (

    select * from {{ ref('int_status_intervals_derived') }}
    {% if is_incremental() %}
        where issue_id in (select changed_issues.changed_key from changed_issues)
    {% endif %}

),

status_map as (

    select * from {{ ref('int_status_category_map_keyed') }}

),

current_categories as (

    select
        issues.issue_id,
        {{ mapped_status_category() }} as current_status_category
    from issues
    {{ join_status_category('issues.status_name_normalized', 'issues.project_key') }}

),

intervals_in_context as (

    select
        issue_id,
        interval_seq,
        status_category,
        started_at,
        is_current,
        lag(status_category) over (partition by issue_id order by interval_seq) as previous_status_category,
        max(case when status_category = 'done' then interval_seq end) over (
            partition by issue_id
            order by interval_seq
            rows between unbounded preceding and 1 preceding
        ) as last_done_seq_before,
        max(case when coalesce(status_category, '') not in ('done', 'cancelled') then interval_seq end) over (
            partition by issue_id
            order by interval_seq
            rows between unbounded preceding and 1 preceding
        ) as last_open_seq_before,
        max(case when coalesce(status_category, '') <> 'done' then interval_seq end) over (
            partition by issue_id
        ) as last_not_done_seq
    from intervals

),

interval_summary as (

    select
        issue_id,
        min(started_at) as life_started_at,
        min(case when {{ is_in_status_category_group('status_category', 'active') }} then started_at end)
            as first_started_at,
        max(case when is_current then started_at end) as current_interval_started_at,
        max(case when is_current and status_category = 'cancelled' then started_at end) as cancelled_at,
        max(case when is_current and status_category = 'done' then coalesce(last_not_done_seq + 1, 0) end)
            as final_done_run_seq,
        sum(
            case
                when
                    coalesce(status_category, '') not in ('done', 'cancelled')
                    and previous_status_category in ('done', 'cancelled')
                    and last_done_seq_before > coalesce(last_open_seq_before, -1)
                    then 1
                else 0
            end
        ) as reopen_count
    from intervals_in_context
    group by issue_id

),

final_done_entries as (

    select
        interval_summary.issue_id,
        intervals.started_at as final_done_entered_at
    from interval_summary
    inner join intervals
        on
            interval_summary.issue_id = intervals.issue_id
            and interval_summary.final_done_run_seq = intervals.interval_seq
    where interval_summary.final_done_run_seq > 0

),

joined as (

    select
        issues.issue_id,
        issues.created_at,
        coalesce(interval_summary.life_started_at, issues.created_at) as life_started_at,
        current_categories.current_status_category,
        interval_summary.first_started_at,
        interval_summary.cancelled_at,
        coalesce(interval_summary.reopen_count, 0) as reopen_count,
        final_done_entries.final_done_entered_at,
        coalesce(issues.resolved_at, issues.updated_at) as fallback_done_at,
        case
            when issues.resolved_at is not null then 'resolutiondate'
            when issues.updated_at is not null then 'updated'
        end as fallback_source,
        -- the fallback never goes back before the state the history last shows began: the life start when the
        -- history begins in the final done run, else the start of the current (not done) interval
        case
            when interval_summary.final_done_run_seq = 0 then interval_summary.life_started_at
            else interval_summary.current_interval_started_at
        end as fallback_floor_at
    from issues
    inner join current_categories on issues.issue_id = current_categories.issue_id
    left join interval_summary on issues.issue_id = interval_summary.issue_id
    left join final_done_entries on issues.issue_id = final_done_entries.issue_id

),

done_resolved as (

    select
        *,
        case
            when current_status_category = 'done'
                then coalesce(final_done_entered_at, greatest(fallback_floor_at, fallback_done_at))
        end as done_at,
        case
            when coalesce(current_status_category, '') <> 'done' then null
            when final_done_entered_at is not null then 'changelog'
            when fallback_done_at is null or fallback_done_at < fallback_floor_at then 'status_history'
            else fallback_source
        end as done_at_source
    from joined

),

final as (

    select
        issue_id,
        created_at,
        life_started_at,
        current_status_category,
        case
            when done_at is null or first_started_at <= done_at then first_started_at
        end as started_at,
        done_at,
        done_at_source,
        cast(reopen_count as integer) as reopen_count,
        coalesce(
            case when done_at is null or first_started_at <= done_at then first_started_at end,
            life_started_at
        ) as active_from,
        greatest(
            coalesce(
                case when done_at is null or first_started_at <= done_at then first_started_at end,
                life_started_at
            ),
            coalesce(done_at, cancelled_at, {{ as_of_ts() }})
        ) as active_to
    from done_resolved

)

select * from final
