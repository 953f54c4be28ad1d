{#- The organisation's headline numbers, one row per headline: what `heimdall summary` prints. Each reads the
    columns that own its definition (fct_issue_lifecycle.is_done_work, cycle_time_hours, blocked_hours,
    flow_efficiency; fct_merge_requests.review_pickup_working_hours; fct_production_changes: production changes
    counted once per pipeline, is_failed_change; fct_wip_current). The window is the 4 weeks (28 days) up to the
    latest completion in the data, so a demo generated "as of" some date reads the same whenever it is built;
    WIP is the open work at as_of. -#}
{%- set window_weeks = 4 -%}
{%- set headlines = [
    {'metric_name': 'throughput', 'label': 'Throughput', 'unit': 'issues / week',
     'meaning': 'issues done / week (last 4 weeks, incidents excluded)',
     'source_model': 'fct_issue_lifecycle', 'item_source': 'recent_done_work', 'window': 'recent',
     'value': 'round(count(*) / ' ~ window_weeks ~ '.0, 1)', 'sample_size': 'count(*)'},
    {'metric_name': 'cycle_time_p50', 'label': 'Cycle time p50', 'unit': 'days',
     'meaning': 'days (first start → last done, last 4 weeks)',
     'source_model': 'fct_issue_lifecycle', 'item_source': 'recent_done_work', 'window': 'recent',
     'value': 'round(cast(' ~ percentile_of('cycle_time_hours', 0.5) ~ ' / 24 as numeric), 1)',
     'sample_size': 'count(cycle_time_hours)'},
    {'metric_name': 'wip_now', 'label': 'WIP now', 'unit': 'issues',
     'meaning': 'issues in progress / review / waiting / blocked',
     'source_model': 'fct_wip_current', 'item_source': 'wip_current', 'window': 'as_of',
     'value': 'count(*)', 'sample_size': 'count(*)'},
    {'metric_name': 'blocked_share', 'label': 'Blocked share', 'unit': '%',
     'meaning': '% of cycle time spent blocked (last 4 weeks)',
     'source_model': 'fct_issue_lifecycle', 'item_source': 'recent_done_work', 'window': 'recent',
     'value': 'round(cast(100 * sum(blocked_hours) / nullif(sum(cycle_time_hours), 0) as numeric), 1)',
     'sample_size': 'count(*)'},
    {'metric_name': 'flow_efficiency_p50', 'label': 'Flow efficiency', 'unit': '%',
     'meaning': '% of cycle time actively worked, median (last 4 weeks)',
     'source_model': 'fct_issue_lifecycle', 'item_source': 'recent_done_work', 'window': 'recent',
     'value': 'round(cast(100 * ' ~ percentile_of('flow_efficiency', 0.5) ~ ' as numeric), 1)',
     'sample_size': 'count(flow_efficiency)'},
    {'metric_name': 'review_pickup_p50', 'label': 'Review pickup p50', 'unit': 'working hours',
     'meaning': 'working hours, MR ready → first review, reviewed MRs (last 4 weeks, bots excluded)',
     'source_model': 'fct_merge_requests', 'item_source': 'recent_human_merge_requests', 'window': 'recent',
     'value': 'round(cast(' ~ percentile_of('review_pickup_working_hours', 0.5) ~ ' as numeric), 1)',
     'sample_size': 'count(review_pickup_working_hours)'},
    {'metric_name': 'deployments_per_week', 'label': 'Deployments', 'unit': 'deployments / week',
     'meaning': 'successful production deployments / week, one per pipeline (last 4 weeks)',
     'source_model': 'fct_production_changes', 'item_source': 'recent_production_changes', 'window': 'recent',
     'value': 'round(count(*) / ' ~ window_weeks ~ '.0, 1)',
     'sample_size': 'count(*)'},
    {'metric_name': 'change_failure_rate', 'label': 'Change failure rate', 'unit': '%',
     'meaning': '% of those deployments with an attributed incident, explicit or inferred (last 4 weeks)',
     'source_model': 'fct_production_changes', 'item_source': 'recent_production_changes', 'window': 'recent',
     'value': 'round(100.0 * count(*) filter (where is_failed_change) / nullif(count(*), 0), 1)',
     'sample_size': 'count(*)'},
] -%}
with

lifecycle as (

    select * from {{ ref('fct_issue_lifecycle') }}

),

wip_current as (

    select * from {{ ref('fct_wip_current') }}

),

merge_requests as (

    select * from {{ ref('fct_merge_requests') }}

),

production_changes as (

    select * from {{ ref('fct_production_changes') }}

),

recent_window as (

    select
        max(done_at) - interval '{{ window_weeks * 7 }} days' as window_start,
        max(done_at) as window_end
    from lifecycle

),

recent_done_work as (

    select lifecycle.*
    from lifecycle
    cross join recent_window
    where
        lifecycle.is_done_work
        and lifecycle.done_at > recent_window.window_start
        and lifecycle.done_at <= recent_window.window_end

),

recent_human_merge_requests as (

    select merge_requests.*
    from merge_requests
    cross join recent_window
    where
        not merge_requests.is_bot_author
        and merge_requests.ready_at > recent_window.window_start
        and merge_requests.ready_at <= recent_window.window_end

),

recent_production_changes as (

    select production_changes.*
    from production_changes
    cross join recent_window
    where
        production_changes.first_deployed_at > recent_window.window_start
        and production_changes.first_deployed_at <= recent_window.window_end

),

headlines as (

    {% for headline in headlines %}
        select
            '{{ headline.metric_name }}' as metric_name,
            {{ loop.index }} as display_order,
            '{{ headline.label }}' as label,
            '{{ headline.unit }}' as unit,
            '{{ headline.meaning }}' as meaning,
            '{{ headline.source_model }}' as source_model,
            '{{ headline.window }}' as window_kind,
            cast({{ headline.value }} as numeric) as value,
            cast({{ headline.sample_size }} as integer) as sample_size
        from {{ headline.item_source }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        headlines.metric_name,
        headlines.display_order,
        headlines.label,
        headlines.unit,
        headlines.meaning,
        headlines.value,
        headlines.sample_size,
        case when headlines.window_kind = 'as_of' then {{ as_of_ts() }} else recent_window.window_start end
            as window_start,
        case when headlines.window_kind = 'as_of' then {{ as_of_ts() }} else recent_window.window_end end
            as window_end,
        headlines.source_model
    from headlines
    cross join recent_window

)

select * from final
