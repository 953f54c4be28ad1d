{#- One row per observed item of every diagnosable metric: the raw material of diagnosis windows, of the
    ROI comparison and of intervention verification (warehouse/verification reads it). `observed_at` is the
    event that places the item in time (documented per metric in seeds/metric_definitions.csv). -#}
with

merge_requests as (

    select * from {{ ref('fct_merge_requests') }}

),

lifecycle as (

    select * from {{ ref('fct_issue_lifecycle') }}

),

pipelines as (

    select * from {{ ref('fct_pipelines') }}

),

sprints as (

    select * from {{ ref('fct_sprint_performance') }}

),

wip_daily as (

    select * from {{ ref('fct_wip_daily') }}

),

blocked_unescalated as (

    select * from {{ ref('int_blocked_intervals_escalation_checked') }}

),

team_weekly as (

    select
        team_id,
        week_start_date,
        active_engineers
    from {{ ref('int_team_active_engineers_counted') }}

),

human_merge_requests as (

    select * from merge_requests
    where not is_bot_author and team_id is not null

),

done_issues as (

    select * from lifecycle
    where
        current_status_category = 'done'
        and done_at is not null
        and issue_type not in ({{ "'" ~ var('incident_issue_types') | join("', '") ~ "'" }})

),

observations as (

    select
        'review_pickup_working_hours' as metric_name,
        team_id,
        'merge_request' as item_type,
        merge_request_id as item_id,
        '!' || merge_request_iid || ' ' || title as item_label,
        web_url as item_url,
        ready_at as observed_at,
        review_pickup_working_hours as observed_value
    from human_merge_requests
    where review_pickup_working_hours is not null

    union all

    select
        'review_duration_working_hours' as metric_name,
        team_id,
        'merge_request' as item_type,
        merge_request_id as item_id,
        '!' || merge_request_iid || ' ' || title as item_label,
        web_url as item_url,
        merged_at as observed_at,
        review_duration_working_hours as observed_value
    from human_merge_requests
    where review_duration_working_hours is not null

    union all

    select
        'merge_to_deploy_hours' as metric_name,
        team_id,
        'merge_request' as item_type,
        merge_request_id as item_id,
        '!' || merge_request_iid || ' ' || title as item_label,
        web_url as item_url,
        merged_at as observed_at,
        merge_to_deploy_hours as observed_value
    from human_merge_requests
    where merge_to_deploy_hours is not null

    union all

    select
        'merge_request_unlinked' as metric_name,
        team_id,
        'merge_request' as item_type,
        merge_request_id as item_id,
        '!' || merge_request_iid || ' ' || title as item_label,
        web_url as item_url,
        merged_at as observed_at,
        case when is_linked_to_issue then 0 else 1 end as observed_value
    from human_merge_requests
    where is_merged

    union all

    select
        'cycle_time_hours' as metric_name,
        team_id,
        'issue' as item_type,
        issue_id as item_id,
        issue_key as item_label,
        cast(null as text) as item_url,
        done_at as observed_at,
        cycle_time_hours as observed_value
    from done_issues
    where cycle_time_hours is not null

    union all

    select
        'issue_reworked' as metric_name,
        team_id,
        'issue' as item_type,
        issue_id as item_id,
        issue_key as item_label,
        cast(null as text) as item_url,
        done_at as observed_at,
        case when is_reworked then 1 else 0 end as observed_value
    from done_issues

    union all

    select
        'unescalated_blocked_hours' as metric_name,
        team_id,
        'blocked_interval' as item_type,
        blocked_interval_id as item_id,
        issue_key as item_label,
        cast(null as text) as item_url,
        started_at as observed_at,
        unescalated_hours as observed_value
    from blocked_unescalated

    union all

    select
        'ci_pipeline_failed' as metric_name,
        team_id,
        'pipeline' as item_type,
        pipeline_id as item_id,
        'pipeline ' || pipeline_id as item_label,
        web_url as item_url,
        created_at as observed_at,
        case when status = 'failed' then 1 else 0 end as observed_value
    from pipelines
    where status in ('success', 'failed') and team_id is not null

    union all

    select
        'ci_pipeline_retried' as metric_name,
        team_id,
        'pipeline' as item_type,
        pipeline_id as item_id,
        'pipeline ' || pipeline_id as item_label,
        web_url as item_url,
        created_at as observed_at,
        case when retry_waste_minutes > 0 then 1 else 0 end as observed_value
    from pipelines
    where team_id is not null and retry_waste_minutes is not null

    union all

    select
        'ci_retry_waste_minutes' as metric_name,
        team_id,
        'pipeline' as item_type,
        pipeline_id as item_id,
        'pipeline ' || pipeline_id as item_label,
        web_url as item_url,
        created_at as observed_at,
        retry_waste_minutes as observed_value
    from pipelines
    where team_id is not null and retry_waste_minutes is not null

    union all

    select
        'planning_accuracy' as metric_name,
        team_id,
        'sprint' as item_type,
        sprint_id as item_id,
        sprint_name as item_label,
        cast(null as text) as item_url,
        evaluated_at as observed_at,
        planning_accuracy as observed_value
    from sprints
    where sprint_state = 'closed' and planning_accuracy is not null and team_id is not null

    union all

    select
        'wip_per_engineer' as metric_name,
        wip_daily.team_id,
        'team_day' as item_type,
        wip_daily.team_id || ':' || cast(wip_daily.date_day as text) as item_id,
        'WIP on ' || cast(wip_daily.date_day as text) as item_label,
        cast(null as text) as item_url,
        cast(wip_daily.date_day as timestamp) at time zone 'UTC' as observed_at,
        1.0 * wip_daily.wip_total / team_weekly.active_engineers as observed_value
    from wip_daily
    inner join team_weekly
        on
            wip_daily.team_id = team_weekly.team_id
            and {{ utc_week_start("cast(wip_daily.date_day as timestamp) at time zone 'UTC'") }} = team_weekly.week_start_date
    where team_weekly.active_engineers > 0

),

final as (

    select
        metric_name || ':' || item_id as metric_observation_id,
        metric_name,
        team_id,
        item_type,
        item_id,
        item_label,
        item_url,
        observed_at,
        {{ metric_round("observed_value") }} as value
    from observations
    where observed_at is not null

)

select * from final
