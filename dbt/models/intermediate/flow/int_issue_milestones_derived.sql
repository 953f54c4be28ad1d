{#- One row per issue: the lifecycle events every flow metric is measured between.
    started_at = first entry into an in_progress or review interval (interval 0 counts: an issue whose
    history starts in an in-progress state started at `created`); done_at = last entry into a done
    interval, only when the issue's current status category is done (fallback resolutiondate, then
    updated, when the changelog has no done entry); reopen_count = exits from done to another category;
    active life = started_at (else created_at) to done_at (else the start of a current cancelled
    interval, else as_of). -#}
with

issues as (

    select * from {{ ref('stg_jira__issues') }}

),

intervals as (

    select * from {{ ref('int_status_intervals_derived') }}

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

intervals_with_previous as (

    select
        *,
        lag(status_category) over (partition by issue_id order by interval_seq) as previous_status_category
    from intervals

),

interval_summary as (

    select
        issue_id,
        min(case when {{ is_in_status_category_group('status_category', 'active') }} then started_at end) as first_started_at,
        max(case when status_category = 'done' then started_at end) as last_done_entered_at,
        max(case when is_current and status_category = 'cancelled' then started_at end) as cancelled_at,
        sum(
            case when previous_status_category = 'done' and status_category <> 'done' then 1 else 0 end
        ) as reopen_count
    from intervals_with_previous
    group by issue_id

),

joined as (

    select
        issues.issue_id,
        issues.created_at,
        current_categories.current_status_category,
        interval_summary.first_started_at,
        interval_summary.cancelled_at,
        coalesce(interval_summary.reopen_count, 0) as reopen_count,
        case
            when current_categories.current_status_category = 'done'
                then coalesce(interval_summary.last_done_entered_at, issues.resolved_at, issues.updated_at)
        end as done_at
    from issues
    inner join current_categories on issues.issue_id = current_categories.issue_id
    left join interval_summary on issues.issue_id = interval_summary.issue_id

),

final as (

    select
        issue_id,
        created_at,
        current_status_category,
        case
            when done_at is null or first_started_at <= done_at then first_started_at
        end as started_at,
        done_at,
        cast(reopen_count as integer) as reopen_count,
        coalesce(
            case when done_at is null or first_started_at <= done_at then first_started_at end,
            created_at
        ) as active_from,
        greatest(
            coalesce(
                case when done_at is null or first_started_at <= done_at then first_started_at end,
                created_at
            ),
            coalesce(done_at, cancelled_at, {{ as_of_ts() }})
        ) as active_to
    from joined

)

select * from final
