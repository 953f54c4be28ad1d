{#- One row per observed item of every diagnosable metric: the raw material of diagnosis windows, of the
    ROI comparison and of intervention verification (insights/verification reads it). `observed_at` is the
    event that places the item in time (documented per metric in seeds/metric_definitions.csv).
    Each item CTE below gives one kind of item its id, label and link; the list `observed_metrics` says, per
    metric, which items it observes, the event, the value and which items count, and (`cluster`) which items
    share one cause and so count once in the diagnosis tests (the MRs one deployment shipped wait together;
    default: every item is its own cluster), and (`engineers`) the head count of a per-engineer value (the
    cost of WIP overload is paid by every engineer of the team). Items truncated by the start of
    the loaded Jira history (blocked windows, sprints, WIP days, `is_truncated_by_history_start`; done issues whose
    done_at lies before it) and running sprints are never observed, so they are never diagnosis evidence. -#}
{#- Table, rebuilt whole every build (docs/operations.md, "Incremental builds"), indexed for what the
    dashboards, apps and report ask (one team's days or weeks, one issue, one merge request). -#}
{{
    config(
        indexes=[
            {'columns': ['metric_name', 'team_id', 'observed_at']},
            {'columns': ['team_id', 'observed_at']}
        ]
    )
}}
{%- set observed_metrics = [
    {'metric_name': 'review_pickup_working_hours', 'item_source': 'human_merge_request_items',
     'observed_at': 'ready_at', 'value': 'review_pickup_working_hours',
     'where': 'review_pickup_working_hours is not null'},
    {'metric_name': 'review_duration_working_hours', 'item_source': 'human_merge_request_items',
     'observed_at': 'merged_at', 'value': 'review_duration_working_hours',
     'where': 'review_duration_working_hours is not null'},
    {'metric_name': 'merge_to_deploy_working_hours', 'item_source': 'human_merge_request_items',
     'observed_at': 'merged_at', 'value': 'merge_to_deploy_working_hours',
     'where': 'merge_to_deploy_working_hours is not null',
     'cluster': "'deployment:' || production_deployment_id"},
    {'metric_name': 'merged_without_review', 'item_source': 'human_merge_request_items',
     'observed_at': 'merged_at', 'value': 'case when is_merged_without_review then 1 else 0 end',
     'where': 'is_merged'},
    {'metric_name': 'merge_request_unlinked', 'item_source': 'human_merge_request_items',
     'observed_at': 'merged_at', 'value': 'case when is_linked_to_issue then 0 else 1 end',
     'where': 'is_merged'},
    {'metric_name': 'cycle_time_hours', 'item_source': 'done_issue_items',
     'observed_at': 'done_at', 'value': 'cycle_time_hours',
     'where': 'cycle_time_hours is not null'},
    {'metric_name': 'issue_reworked', 'item_source': 'done_issue_items',
     'observed_at': 'done_at', 'value': 'case when is_reworked then 1 else 0 end',
     'where': none},
    {'metric_name': 'unescalated_blocked_hours', 'item_source': 'blocked_interval_items',
     'observed_at': 'started_at', 'value': 'unescalated_hours',
     'where': none},
    {'metric_name': 'ci_pipeline_failed', 'item_source': 'pipeline_items',
     'observed_at': 'created_at', 'value': 'case when is_failed then 1 else 0 end',
     'where': 'is_succeeded_or_failed'},
    {'metric_name': 'ci_pipeline_retried', 'item_source': 'pipeline_items',
     'observed_at': 'created_at', 'value': 'case when retry_waste_minutes > 0 then 1 else 0 end',
     'where': 'retry_waste_minutes is not null'},
    {'metric_name': 'ci_retry_waste_minutes', 'item_source': 'pipeline_items',
     'observed_at': 'created_at', 'value': 'retry_waste_minutes',
     'where': 'retry_waste_minutes is not null'},
    {'metric_name': 'planning_accuracy', 'item_source': 'closed_sprint_items',
     'observed_at': 'evaluated_at', 'value': 'planning_accuracy',
     'where': 'planning_accuracy is not null'},
    {'metric_name': 'committed_issue_completed', 'item_source': 'committed_sprint_issue_items',
     'observed_at': 'evaluated_at', 'value': 'case when is_completed then 1 else 0 end',
     'where': none},
    {'metric_name': 'wip_per_engineer', 'item_source': 'team_week_items',
     'observed_at': 'week_started_at', 'value': '1.0 * wip_in_progress_avg / active_engineers',
     'where': 'active_engineers > 0', 'engineers': 'active_engineers'},
] -%}
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

sprint_issues as (

    select * from {{ ref('int_sprint_issues_classified') }}

),

wip_daily as (

    select * from {{ ref('fct_wip_daily') }}

),

blocked_unescalated as (

    select * from {{ ref('int_blocked_intervals_escalation_checked') }}

),

active_engineers as (

    select * from {{ ref('int_team_active_engineers_counted') }}

),

history_start as (

    select * from {{ ref('int_jira_history_start_derived') }}

),

human_merge_request_items as (

    select
        *,
        -- the diagnosis's merge-to-production wait counts working hours in the team's time zone, like review
        -- pickup: a change merged on Friday evening and shipped on Monday morning waited for nobody (the
        -- wall-clock DORA figure, merge_to_deploy_hours, stays on fct_merge_requests)
        {{ working_hours_between('merged_at', 'deployed_at', 'working_hours_time_zone') }}
            as merge_to_deploy_working_hours,
        'merge_request' as item_type,
        merge_request_id as item_id,
        '!' || merge_request_iid || ' ' || title as item_label,
        web_url as item_url
    from merge_requests
    where not is_bot_author and team_id is not null

),

done_issue_items as (

    select
        lifecycle.*,
        'issue' as item_type,
        lifecycle.issue_id as item_id,
        lifecycle.issue_key as item_label,
        cast(null as text) as item_url
    from lifecycle
    cross join history_start
    where
        lifecycle.is_done_work
        -- done before the loaded history begins: a fallback done time (resolutiondate/updated), not evidence
        and (history_start.history_started_at is null or lifecycle.done_at >= history_start.history_started_at)

),

blocked_interval_items as (

    select
        *,
        'blocked_interval' as item_type,
        blocked_interval_id as item_id,
        issue_key as item_label,
        cast(null as text) as item_url
    from blocked_unescalated
    where not is_truncated_by_history_start

),

pipeline_items as (

    select
        *,
        'pipeline' as item_type,
        pipeline_id as item_id,
        'pipeline ' || pipeline_id as item_label,
        web_url as item_url
    from pipelines
    where team_id is not null

),

closed_sprint_items as (

    select
        *,
        'sprint' as item_type,
        sprint_id as item_id,
        sprint_name as item_label,
        cast(null as text) as item_url
    from sprints
    where sprint_state = 'closed' and not is_running and not is_truncated_by_history_start and team_id is not null

),

committed_sprint_issue_items as (

    -- the issues committed at the start of the sprints planning_accuracy scores, completed in the sprint or
    -- not: a sprint's planning accuracy is their mean, and they are the trials the diagnosis test counts
    select
        closed_sprint_items.team_id,
        closed_sprint_items.evaluated_at,
        sprint_issues.is_completed,
        'sprint_issue' as item_type,
        sprint_issues.sprint_issue_id as item_id,
        coalesce(lifecycle.issue_key, sprint_issues.issue_id) || ' in ' || closed_sprint_items.sprint_name
            as item_label,
        cast(null as text) as item_url
    from closed_sprint_items
    inner join sprint_issues on closed_sprint_items.sprint_id = sprint_issues.sprint_id
    left join lifecycle on sprint_issues.issue_id = lifecycle.issue_id
    where sprint_issues.is_committed and closed_sprint_items.planning_accuracy is not null

),

team_week_items as (

    -- WIP overload is about starting more than the team finishes: the work actively in progress (blocked,
    -- waiting and in-review items have their own rules), averaged over the days of the ISO week, one item per
    -- team-week (days of one week are not independent observations); weeks with days before the loaded
    -- history are not observed
    select
        wip_daily.team_id,
        active_engineers.active_engineers,
        {{ utc_week_start("cast(wip_daily.date_day as timestamp) at time zone 'UTC'") }} as week_start_date,
        avg(wip_daily.wip_in_progress) as wip_in_progress_avg,
        cast({{ utc_week_start("cast(wip_daily.date_day as timestamp) at time zone 'UTC'") }} as timestamp)
        at time zone 'UTC' as week_started_at,
        'team_week' as item_type,
        wip_daily.team_id || ':' || cast(
            {{ utc_week_start("cast(wip_daily.date_day as timestamp) at time zone 'UTC'") }} as text
        ) as item_id,
        'WIP in the week of ' || cast(
            {{ utc_week_start("cast(wip_daily.date_day as timestamp) at time zone 'UTC'") }} as text
        ) as item_label,
        cast(null as text) as item_url
    from wip_daily
    inner join active_engineers
        on
            wip_daily.team_id = active_engineers.team_id
            and {{ utc_week_start("cast(wip_daily.date_day as timestamp) at time zone 'UTC'") }}
            = active_engineers.week_start_date
    group by
        wip_daily.team_id,
        active_engineers.active_engineers,
        {{ utc_week_start("cast(wip_daily.date_day as timestamp) at time zone 'UTC'") }}
    -- only weeks wholly inside the loaded history: a week with truncated days is not comparable
    having not bool_or(wip_daily.is_truncated_by_history_start)

),

observations as (

    {% for metric in observed_metrics %}
        select
            '{{ metric.metric_name }}' as metric_name,
            team_id,
            item_type,
            item_id,
            item_label,
            item_url,
            {{ metric.observed_at }} as observed_at,
            {{ metric.value }} as observed_value,
            {{ metric.get('cluster', 'item_id') }} as cluster_id,
            cast({{ metric.get('engineers', 'null') }} as integer) as engineer_count
        from {{ metric.item_source }}
        {%- if metric.where %}
            where {{ metric.where }}
        {%- endif %}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

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
        {{ metric_round("observed_value") }} as value,
        cluster_id,
        engineer_count
    from observations
    where observed_at is not null

)

select * from final
