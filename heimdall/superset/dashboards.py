"""The six dashboards: VALSKJALF, HUGINN, MUNINN, GJALLARHORN, Code review and CI, Recommendations and ROI.

Every dataset is SQL over ``marts`` only (the read-only role cannot see anything else); every chart says what
its number means and which mart/column it reads (the definitions are in docs/metrics.md). Edit here, then
``heimdall superset assets`` rewrites ``superset/assets/`` and ``heimdall superset provision`` imports it.
"""

from __future__ import annotations

from heimdall.superset.assets import (
    BOOLEAN,
    DATE,
    INTEGER,
    NUMBER,
    TEXT,
    TIMESTAMP,
    Chart,
    Column,
    Dashboard,
    Dataset,
    Filter,
    Markdown,
    Metric,
    big_number_total,
    big_number_trend,
    box_plot,
    category_bar,
    heatmap,
    html_link,
    issue_link,
    pie,
    table,
    timeseries,
)

# The build's as_of day (dim_dates runs to it) and the Monday of its week: weekly trends stop at the last
# complete week, so a half week never reads as a drop.
AS_OF_DAY = "(select max(date_day) from marts.dim_dates)"
AS_OF_WEEK = f"cast(date_trunc('week', {AS_OF_DAY}) as date)"
AS_OF_END = f"(cast({AS_OF_DAY} + 1 as timestamp) at time zone 'UTC')"
COMPLETE = Filter("is_complete_week", "IS TRUE")


def _c(name: str, type_: str, label: str, description: str = "") -> Column:
    return Column(name, type_, label, description)


TEAM = _c("team_id", TEXT, "Team", "Team slug (dim_teams.team_id).")
PROJECT_JIRA = _c("project", TEXT, "Project", "Jira project key.")
PROJECT_GITLAB = _c("project", TEXT, "Project", "GitLab project path (dim_projects.project_key).")
MR_LABEL = "'!' || mr.merge_request_iid || ' ' || coalesce(mr.title, '')"
PROJECT_JOIN = "left join marts.dim_projects as p on p.project_id = 'gitlab:' || {}"

# --- datasets ---------------------------------------------------------------------------------------------

TEAMS = Dataset(
    "teams",
    "Teams, for the team filter.",
    "select team_id, team_name from marts.dim_teams",
    ("dim_teams",),
    (TEAM, _c("team_name", TEXT, "Team name")),
)

PROJECTS = Dataset(
    "projects",
    "Jira projects and GitLab projects, for the project filter.",
    "select project_key as project, team_id, source_system from marts.dim_projects where project_key is not "
    "null",
    ("dim_projects",),
    (_c("project", TEXT, "Project"), TEAM, _c("source_system", TEXT, "Source")),
)

DONE_WORK = Dataset(
    "done_work",
    "Done work items (fct_issue_lifecycle.is_done_work: currently done, incidents excluded), one row per "
    "issue, dated by done_at (last entry into done).",
    f"""
select
    issue_key,
    {issue_link("issue_key")} as issue,
    team_id,
    project_key as project,
    issue_type,
    done_at,
    done_at < {AS_OF_WEEK} as is_complete_week,
    cycle_time_hours,
    cycle_time_hours / 24.0 as cycle_time_days,
    lead_time_hours / 24.0 as lead_time_days,
    blocked_hours,
    flow_efficiency,
    case when is_reworked then 1 else 0 end as reworked
from marts.fct_issue_lifecycle
where is_done_work
""",
    ("fct_issue_lifecycle", "dim_dates"),
    (
        _c("issue_key", TEXT, "Issue key"),
        _c("issue", TEXT, "Issue", "Issue key, linked to the Issue Investigator."),
        TEAM,
        PROJECT_JIRA,
        _c("issue_type", TEXT, "Type"),
        _c("done_at", TIMESTAMP, "Done at", "Last entry into a done status (fct_issue_lifecycle.done_at)."),
        _c("is_complete_week", BOOLEAN, "In a complete week", "Done before the week of as_of began."),
        _c("cycle_time_hours", NUMBER, "Cycle time (h)"),
        _c("cycle_time_days", NUMBER, "Cycle time (days)", "fct_issue_lifecycle.cycle_time_hours / 24."),
        _c("lead_time_days", NUMBER, "Lead time (days)", "fct_issue_lifecycle.lead_time_hours / 24."),
        _c("blocked_hours", NUMBER, "Blocked (h)"),
        _c("flow_efficiency", NUMBER, "Flow efficiency"),
        _c("reworked", INTEGER, "Reworked (0/1)", "1 when the issue was reopened (is_reworked)."),
    ),
    (
        Metric("done_items", "count(*)", "Done items", "Done work items (throughput).", ",d"),
        Metric(
            "cycle_time_p50_days",
            "percentile_cont(0.5) within group (order by cycle_time_days)",
            "Cycle time p50 (days)",
            "Median of fct_issue_lifecycle.cycle_time_hours / 24 (first start → last done).",
            ",.1f",
        ),
        Metric(
            "cycle_time_p85_days",
            "percentile_cont(0.85) within group (order by cycle_time_days)",
            "Cycle time p85 (days)",
            "85th percentile of the same.",
            ",.1f",
        ),
        Metric(
            "blocked_share",
            "sum(blocked_hours) / nullif(sum(cycle_time_hours), 0)",
            "Blocked share",
            "Σ blocked_hours / Σ cycle_time_hours of the done items (time spent blocked).",
            ".1%",
        ),
        Metric(
            "rework_rate",
            "avg(reworked)",
            "Rework rate",
            "Share of done items that were reopened (fct_issue_lifecycle.is_reworked).",
            ".1%",
        ),
    ),
    "done_at",
)

WIP_NOW = Dataset(
    "wip_now",
    "Open work at as_of (fct_wip_current): issues in progress, in review, waiting or blocked, with age and "
    "risk.",
    f"""
select
    issue_key,
    {issue_link("issue_key")} as issue,
    team_id,
    project_key as project,
    issue_type,
    current_status,
    current_status_category,
    created_at,
    started_at,
    age_days,
    age_percentile,
    blocked_hours,
    risk_score,
    case when is_flagged then 'flagged' else '' end as flag,
    case when has_assignee then '' else 'unassigned' end as assignee,
    case when is_flagged then 1 else 0 end as flagged,
    case when has_assignee then 0 else 1 end as unassigned,
    case when current_status_category = 'blocked' or is_flagged then 1 else 0 end as blocked_or_flagged
from marts.fct_wip_current
""",
    ("fct_wip_current",),
    (
        _c("issue_key", TEXT, "Issue key"),
        _c("issue", TEXT, "Issue", "Issue key, linked to the Issue Investigator."),
        TEAM,
        PROJECT_JIRA,
        _c("issue_type", TEXT, "Type"),
        _c("current_status", TEXT, "Status"),
        _c("current_status_category", TEXT, "Status category"),
        _c("created_at", TIMESTAMP, "Created"),
        _c("started_at", TIMESTAMP, "Started"),
        _c(
            "age_days", NUMBER, "Age (days)", "as_of − first start (else creation), fct_wip_current.age_days."
        ),
        _c("age_percentile", NUMBER, "Age percentile", "Share of the team's done work that took ≤ this age."),
        _c("blocked_hours", NUMBER, "Blocked (h)"),
        _c("risk_score", INTEGER, "Risk (0-100)", "fct_wip_current.risk_score."),
        _c("flag", TEXT, "Flag"),
        _c("assignee", TEXT, "Assignee"),
        _c("flagged", INTEGER, "Flagged (0/1)"),
        _c("unassigned", INTEGER, "Unassigned (0/1)"),
        _c("blocked_or_flagged", INTEGER, "Blocked or flagged (0/1)"),
    ),
    (
        Metric(
            "open_items",
            "count(*)",
            "Open items",
            "Issues in progress, review, waiting or blocked now.",
            ",d",
        ),
        Metric(
            "blocked_items",
            "sum(blocked_or_flagged)",
            "Blocked or flagged",
            "Open items in a blocked status or flagged now.",
            ",d",
        ),
        Metric(
            "flagged_items",
            "sum(flagged)",
            "Flagged",
            "Open items flagged now (fct_wip_current.is_flagged).",
            ",d",
        ),
        Metric(
            "unassigned_items",
            "sum(unassigned)",
            "Unassigned",
            "Open items with nobody assigned (fct_wip_current.has_assignee).",
            ",d",
        ),
    ),
    "created_at",
)

FLOW_DAILY = Dataset(
    "flow_daily",
    "Per team and day: open work by status category at the end of the day (fct_wip_daily) and the work done "
    "so far (running total of fct_throughput_daily.issues_completed).",
    """
select
    w.date_day,
    w.team_id,
    w.wip_in_progress,
    w.wip_review,
    w.wip_waiting,
    w.wip_blocked,
    w.wip_total,
    sum(coalesce(t.issues_completed, 0)) over (partition by w.team_id order by w.date_day) as done_cumulative
from marts.fct_wip_daily as w
left join marts.fct_throughput_daily as t on t.team_id = w.team_id and t.date_day = w.date_day
""",
    ("fct_wip_daily", "fct_throughput_daily"),
    (
        _c("date_day", DATE, "Day"),
        TEAM,
        _c("wip_in_progress", INTEGER, "In progress"),
        _c("wip_review", INTEGER, "In review"),
        _c("wip_waiting", INTEGER, "Waiting"),
        _c("wip_blocked", INTEGER, "Blocked"),
        _c("wip_total", INTEGER, "WIP"),
        _c("done_cumulative", INTEGER, "Done (cumulative)"),
    ),
    (
        Metric(
            "done",
            "sum(done_cumulative)",
            "Done (cumulative)",
            "Work done since the start of the data.",
            ",d",
        ),
        Metric("waiting", "sum(wip_waiting)", "Waiting", "Open items in a waiting status.", ",d"),
        Metric("blocked", "sum(wip_blocked)", "Blocked", "Open items in a blocked status.", ",d"),
        Metric("review", "sum(wip_review)", "In review", "Open items in review.", ",d"),
        Metric("in_progress", "sum(wip_in_progress)", "In progress", "Open items in progress.", ",d"),
    ),
    "date_day",
)

BLOCKED_NOW = Dataset(
    "blocked_now",
    "Blocked windows still open at as_of (fct_blocked_intervals.is_current) with their issue.",
    f"""
select
    i.issue_key,
    {issue_link("i.issue_key")} as issue,
    b.team_id,
    i.project_key as project,
    i.current_status,
    b.block_source,
    b.started_at,
    b.hours
from marts.fct_blocked_intervals as b
join marts.fct_issue_lifecycle as i on i.issue_id = b.issue_id
where b.is_current
""",
    ("fct_blocked_intervals", "fct_issue_lifecycle"),
    (
        _c("issue_key", TEXT, "Issue key"),
        _c("issue", TEXT, "Issue", "Issue key, linked to the Issue Investigator."),
        TEAM,
        PROJECT_JIRA,
        _c("current_status", TEXT, "Status"),
        _c("block_source", TEXT, "Blocked by", "status, flag or both (fct_blocked_intervals.block_source)."),
        _c("started_at", TIMESTAMP, "Blocked since"),
        _c("hours", NUMBER, "Blocked (h)", "Window length so far (fct_blocked_intervals.hours)."),
    ),
    (),
    "started_at",
)

REVIEW_QUEUE = Dataset(
    "review_queue",
    "Open human merge requests that are ready for review and nobody has reviewed yet (fct_merge_requests: "
    "state opened, not a draft, ready_at set, no first_review_at), with how long they have waited up to the "
    "end of the as_of day.",
    f"""
select
    mr.merge_request_id,
    {html_link("mr.web_url", MR_LABEL)} as merge_request,
    {issue_link("split_part(mr.linked_issue_keys, ',', 1)")} as issue,
    mr.team_id,
    p.project_key as project,
    mr.author_username,
    mr.ready_at,
    extract(epoch from ({AS_OF_END} - mr.ready_at)) / 3600.0 as waiting_hours,
    mr.size_lines
from marts.fct_merge_requests as mr
{PROJECT_JOIN.format("mr.project_id")}
where mr.state = 'opened' and not mr.is_draft and not mr.is_bot_author
    and mr.ready_at is not null and mr.first_review_at is null
""",
    ("fct_merge_requests", "dim_projects", "dim_dates"),
    (
        _c("merge_request_id", TEXT, "MR id"),
        _c("merge_request", TEXT, "Merge request", "Linked to GitLab."),
        _c("issue", TEXT, "Issue", "First linked Jira key, linked to the Issue Investigator."),
        TEAM,
        PROJECT_GITLAB,
        _c("author_username", TEXT, "Author"),
        _c("ready_at", TIMESTAMP, "Ready since"),
        _c("waiting_hours", NUMBER, "Waiting (h)", "End of the as_of day − ready_at, wall-clock hours."),
        _c("size_lines", INTEGER, "Size (lines)"),
    ),
    (
        Metric("waiting_mrs", "count(*)", "MRs waiting", "Ready MRs nobody has picked up yet.", ",d"),
        Metric(
            "oldest_wait_hours",
            "max(waiting_hours)",
            "Oldest wait (h)",
            "Longest time an open MR has waited for its first review, wall-clock hours.",
            ",.0f",
        ),
    ),
    "ready_at",
)

MERGE_REQUESTS = Dataset(
    "merge_requests",
    "Human merge requests (fct_merge_requests, bots excluded) with their review times in working hours and "
    "size.",
    f"""
select
    mr.merge_request_id,
    mr.team_id,
    p.project_key as project,
    mr.ready_at,
    mr.merged_at,
    mr.review_pickup_working_hours,
    mr.review_duration_working_hours,
    mr.size_lines,
    case
        when mr.size_lines is null then null
        when mr.size_lines < 50 then '1 XS <50'
        when mr.size_lines < 200 then '2 S <200'
        when mr.size_lines < 500 then '3 M <500'
        when mr.size_lines < 1000 then '4 L <1000'
        else '5 XL 1000+'
    end as size_bucket,
    case when mr.is_merged_without_review then 1 else 0 end as merged_without_review
from marts.fct_merge_requests as mr
{PROJECT_JOIN.format("mr.project_id")}
where not mr.is_bot_author
""",
    ("fct_merge_requests", "dim_projects"),
    (
        _c("merge_request_id", TEXT, "MR id"),
        TEAM,
        PROJECT_GITLAB,
        _c(
            "ready_at",
            TIMESTAMP,
            "Ready for review",
            "fct_merge_requests.ready_at (pickup counts from here).",
        ),
        _c("merged_at", TIMESTAMP, "Merged"),
        _c("review_pickup_working_hours", NUMBER, "Pickup (working h)"),
        _c("review_duration_working_hours", NUMBER, "Review (working h)"),
        _c("size_lines", INTEGER, "Size (lines)"),
        _c("size_bucket", TEXT, "Size", "Lines added + deleted (fct_merge_requests.size_lines), bucketed."),
        _c("merged_without_review", INTEGER, "Merged without review (0/1)"),
    ),
    (
        Metric(
            "pickup_p50",
            "percentile_cont(0.5) within group (order by review_pickup_working_hours)",
            "Pickup p50 (working h)",
            "Median review pickup: ready for review → first review, working hours "
            "(fct_merge_requests.review_pickup_working_hours).",
            ",.1f",
        ),
        Metric(
            "pickup_hours",
            "max(review_pickup_working_hours)",
            "Pickup (working h)",
            "One MR's review pickup in working hours.",
            ",.1f",
        ),
        Metric(
            "review_p50",
            "percentile_cont(0.5) within group (order by review_duration_working_hours)",
            "Review p50 (working h)",
            "Median review duration: first review → merge, working hours "
            "(fct_merge_requests.review_duration_working_hours).",
            ",.1f",
        ),
        Metric(
            "review_hours",
            "max(review_duration_working_hours)",
            "Review (working h)",
            "One MR's review duration in working hours.",
            ",.1f",
        ),
        Metric("mrs", "count(*)", "MRs", "Merge requests.", ",d"),
    ),
    "ready_at",
)

PIPELINES = Dataset(
    "pipelines",
    "CI pipelines (fct_pipelines), dated by creation, with failure, flakiness and retry waste.",
    f"""
select
    pl.pipeline_id,
    {html_link("pl.web_url", "'#' || pl.pipeline_id")} as pipeline,
    pl.team_id,
    p.project_key as project,
    pl.ref,
    pl.status,
    pl.created_at,
    case when pl.is_failed then 1 else 0 end as failed,
    case when pl.is_succeeded_or_failed then 1 else 0 end as succeeded_or_failed,
    case when pl.is_flaky then 1 else 0 end as flaky,
    pl.retried_job_count,
    pl.retry_waste_minutes
from marts.fct_pipelines as pl
{PROJECT_JOIN.format("pl.project_id")}
""",
    ("fct_pipelines", "dim_projects"),
    (
        _c("pipeline_id", TEXT, "Pipeline id"),
        _c("pipeline", TEXT, "Pipeline", "Linked to GitLab."),
        TEAM,
        PROJECT_GITLAB,
        _c("ref", TEXT, "Ref"),
        _c("status", TEXT, "Status"),
        _c("created_at", TIMESTAMP, "Created"),
        _c("failed", INTEGER, "Failed (0/1)"),
        _c("succeeded_or_failed", INTEGER, "Counted in the failure rate (0/1)"),
        _c("flaky", INTEGER, "Flaky (0/1)"),
        _c("retried_job_count", INTEGER, "Retried jobs"),
        _c("retry_waste_minutes", NUMBER, "Retry waste (min)"),
    ),
    (
        Metric(
            "failure_rate",
            "sum(failed)::numeric / nullif(sum(succeeded_or_failed), 0)",
            "Failure rate",
            "Failed / (succeeded + failed) pipelines; canceled and skipped excluded (fct_pipelines).",
            ".1%",
        ),
        Metric(
            "retry_waste_hours",
            "sum(retry_waste_minutes) / 60.0",
            "Retry waste (h)",
            "Run time of job attempts that a retry replaced (fct_pipelines.retry_waste_minutes), hours.",
            ",.1f",
        ),
        Metric("flaky_pipelines", "sum(flaky)", "Flaky pipelines", "Succeeded after a retried job.", ",d"),
    ),
    "created_at",
)

TEAM_WEEKS = Dataset(
    "team_weeks",
    "One row per team and ISO week (fct_team_weekly_metrics): every headline metric with its sample size. "
    "Medians and rates are per team-week values; charts show them per team.",
    f"""
select
    team_id,
    week_start_date,
    week_start_date < {AS_OF_WEEK} as is_complete_week,
    throughput,
    cycle_time_p50_hours / 24.0 as cycle_time_p50_days,
    cycle_time_n,
    blocked_share,
    flow_efficiency_p50,
    flow_efficiency_n,
    rework_rate,
    wip_avg,
    review_pickup_p50_working_hours,
    review_pickup_n,
    deployment_count,
    change_failure_rate,
    change_failure_n
from marts.fct_team_weekly_metrics
where week_start_date >= (select min(week_start_date) from marts.fct_team_weekly_metrics where throughput > 0)
""",
    ("fct_team_weekly_metrics", "dim_dates"),
    (
        TEAM,
        _c("week_start_date", DATE, "Week", "Monday of the ISO week."),
        _c("is_complete_week", BOOLEAN, "Complete week"),
        _c("throughput", INTEGER, "Throughput"),
        _c("cycle_time_p50_days", NUMBER, "Cycle time p50 (days)"),
        _c("cycle_time_n", INTEGER, "Done items (n)"),
        _c("blocked_share", NUMBER, "Blocked share"),
        _c("flow_efficiency_p50", NUMBER, "Flow efficiency p50"),
        _c("flow_efficiency_n", INTEGER, "Flow efficiency n"),
        _c("rework_rate", NUMBER, "Rework rate"),
        _c("wip_avg", NUMBER, "WIP (avg)"),
        _c("review_pickup_p50_working_hours", NUMBER, "Review pickup p50 (working h)"),
        _c("review_pickup_n", INTEGER, "MRs ready (n)"),
        _c("deployment_count", INTEGER, "Deployments"),
        _c("change_failure_rate", NUMBER, "Change failure rate"),
        _c("change_failure_n", INTEGER, "Deployments (n)"),
    ),
    (
        Metric("throughput", "sum(throughput)", "Throughput", "Done work items in the week.", ",d"),
        Metric(
            "cycle_time_p50",
            "max(cycle_time_p50_days)",
            "Cycle time p50 (days)",
            "The team-week's median cycle time (cycle_time_p50_hours / 24).",
            ",.1f",
        ),
        Metric(
            "blocked_share", "max(blocked_share)", "Blocked share", "The team-week's blocked share.", ".0%"
        ),
        Metric(
            "flow_efficiency",
            "max(flow_efficiency_p50)",
            "Flow efficiency p50",
            "The team-week's median flow efficiency.",
            ".0%",
        ),
        Metric("rework_rate", "max(rework_rate)", "Rework rate", "The team-week's rework rate.", ".0%"),
        Metric(
            "review_pickup_p50",
            "max(review_pickup_p50_working_hours)",
            "Review pickup p50 (working h)",
            "The team-week's median review pickup in working hours.",
            ",.1f",
        ),
        Metric(
            "deployments", "sum(deployment_count)", "Deployments", "Successful production deployments.", ",d"
        ),
        Metric(
            "change_failure_rate",
            "max(change_failure_rate)",
            "Change failure rate",
            "The team-week's change failure rate.",
            ".0%",
        ),
        Metric("done_n", "sum(cycle_time_n)", "Done items (n)", "Done items behind the cycle time.", ",d"),
        Metric("pickup_n", "sum(review_pickup_n)", "MRs (n)", "MRs behind the review pickup.", ",d"),
    ),
    "week_start_date",
)

DORA_WEEKS = Dataset(
    "dora_weeks",
    "The four DORA keys per team and ISO week with their bands (rpt_dora_weekly).",
    f"""
select
    team_id,
    week_start_date,
    week_start_date = {AS_OF_WEEK} - 7 as is_last_complete_week,
    deployments_per_week_4w,
    deployment_frequency_band,
    lead_time_for_changes_p50_hours / 24.0 as lead_time_for_changes_p50_days,
    lead_time_for_changes_n,
    lead_time_for_changes_band,
    change_failure_rate,
    change_failure_n,
    change_failure_rate_band,
    recovery_time_p50_hours,
    recovery_time_n,
    recovery_time_band
from marts.rpt_dora_weekly
""",
    ("rpt_dora_weekly", "dim_dates"),
    (
        TEAM,
        _c("week_start_date", DATE, "Week"),
        _c("is_last_complete_week", BOOLEAN, "Last complete week"),
        _c("deployments_per_week_4w", NUMBER, "Deploys / week (4w)"),
        _c("deployment_frequency_band", TEXT, "Frequency band"),
        _c("lead_time_for_changes_p50_days", NUMBER, "Lead time p50 (days)"),
        _c("lead_time_for_changes_n", INTEGER, "Lead time n"),
        _c("lead_time_for_changes_band", TEXT, "Lead time band"),
        _c("change_failure_rate", NUMBER, "Change failure rate"),
        _c("change_failure_n", INTEGER, "Deploys (n)"),
        _c("change_failure_rate_band", TEXT, "CFR band"),
        _c("recovery_time_p50_hours", NUMBER, "Recovery p50 (h)"),
        _c("recovery_time_n", INTEGER, "Recoveries (n)"),
        _c("recovery_time_band", TEXT, "Recovery band"),
    ),
    (),
    "week_start_date",
)

HEADLINES = Dataset(
    "headlines",
    "The organisation's headline numbers over the 4 weeks up to the latest completion "
    "(rpt_headline_metrics), as `heimdall summary` prints them.",
    """
select metric_name, display_order, label, value, unit, sample_size, meaning, window_start, window_end
from marts.rpt_headline_metrics
""",
    ("rpt_headline_metrics",),
    (
        _c("metric_name", TEXT, "Key"),
        _c("display_order", INTEGER, "#"),
        _c("label", TEXT, "Headline"),
        _c("value", NUMBER, "Value"),
        _c("unit", TEXT, "Unit"),
        _c("sample_size", INTEGER, "n"),
        _c("meaning", TEXT, "Meaning"),
        _c("window_start", TIMESTAMP, "From"),
        _c("window_end", TIMESTAMP, "To"),
    ),
    (
        Metric(
            "headline_value",
            "max(value)",
            "Value",
            "The headline's value (rpt_headline_metrics.value).",
            ",.1f",
        ),
    ),
)

RECOMMENDATIONS = Dataset(
    "recommendations",
    "Recommended interventions (fct_recommendations), costliest first, with their status from the decision "
    "table (app.recommendation_decisions via int_recommendation_decisions_latest) and ROI estimate.",
    """
select
    rank,
    recommendation_id,
    team_id,
    title,
    rule_id,
    severity,
    status,
    case when status = 'approved' then 1 else 0 end as approved,
    hours_lost_per_week,
    hours_recovered_per_week,
    weekly_value,
    hourly_cost_currency,
    evidence_count,
    decided_by,
    decided_at,
    intervention_start_date,
    is_currently_diagnosed,
    action,
    assumptions
from marts.fct_recommendations
""",
    ("fct_recommendations",),
    (
        _c("rank", INTEGER, "#"),
        _c("recommendation_id", TEXT, "Recommendation"),
        TEAM,
        _c("title", TEXT, "Intervention"),
        _c("rule_id", TEXT, "Diagnosis rule"),
        _c("severity", TEXT, "Severity"),
        _c("status", TEXT, "Status", "proposed, approved or rejected: the latest decision."),
        _c("approved", INTEGER, "Approved (0/1)"),
        _c("hours_lost_per_week", NUMBER, "Hours lost / week"),
        _c("hours_recovered_per_week", NUMBER, "Hours back / week (expected)"),
        _c("weekly_value", NUMBER, "Value / week (expected)"),
        _c("hourly_cost_currency", TEXT, "Currency"),
        _c("evidence_count", INTEGER, "Evidence items"),
        _c("decided_by", TEXT, "Decided by"),
        _c("decided_at", TIMESTAMP, "Decided at"),
        _c("intervention_start_date", DATE, "Starts"),
        _c("is_currently_diagnosed", BOOLEAN, "Fires now"),
        _c("action", TEXT, "Action"),
        _c("assumptions", TEXT, "Assumptions"),
    ),
    (
        Metric("recommendation_count", "count(*)", "Recommendations", "Recommendations listed.", ",d"),
        Metric(
            "approved_count",
            "sum(approved)",
            "Approved",
            "Recommendations whose latest decision approves.",
            ",d",
        ),
    ),
)

DIAGNOSES = Dataset(
    "diagnoses",
    "Diagnosed bottlenecks per team and week (fct_diagnoses): the rule, how far beyond its threshold and the "
    "organisation, the estimated hours lost per week and how many evidence items stand behind it.",
    """
select
    diagnosis_id,
    team_id,
    rule_id,
    week_start_date,
    is_current,
    severity,
    metric_value,
    threshold_value,
    org_baseline_value,
    sample_size,
    hours_lost_per_week,
    evidence_count,
    rank_in_team_week
from marts.fct_diagnoses
""",
    ("fct_diagnoses",),
    (
        _c("diagnosis_id", TEXT, "Diagnosis"),
        TEAM,
        _c("rule_id", TEXT, "Rule"),
        _c("week_start_date", DATE, "Week"),
        _c("is_current", BOOLEAN, "Current window"),
        _c("severity", TEXT, "Severity"),
        _c("metric_value", NUMBER, "Team value"),
        _c("threshold_value", NUMBER, "Threshold"),
        _c("org_baseline_value", NUMBER, "Organisation"),
        _c("sample_size", INTEGER, "n"),
        _c("hours_lost_per_week", NUMBER, "Hours lost / week"),
        _c("evidence_count", INTEGER, "Evidence items"),
        _c("rank_in_team_week", INTEGER, "Rank in team"),
    ),
    (
        Metric("diagnosis_count", "count(*)", "Diagnoses", "Diagnoses that fired.", ",d"),
        Metric(
            "hours_lost",
            "sum(hours_lost_per_week)",
            "Hours lost / week",
            "Σ fct_diagnoses.hours_lost_per_week.",
            ",.0f",
        ),
    ),
    "week_start_date",
)

EVIDENCE = Dataset(
    "evidence",
    "The items behind the current diagnoses (fct_diagnosis_evidence of diagnoses whose window ends with the "
    "week of as_of), worst first.",
    f"""
select
    e.diagnosis_id,
    e.team_id,
    e.rule_id,
    e.item_type,
    case
        when e.item_type in ('issue', 'blocked_interval') then {issue_link("e.item_label")}
        else {html_link("e.item_url", "e.item_label")}
    end as item,
    e.observed_at,
    e.value,
    e.evidence_rank
from marts.fct_diagnosis_evidence as e
join marts.fct_diagnoses as d on d.diagnosis_id = e.diagnosis_id
where d.is_current
""",
    ("fct_diagnosis_evidence", "fct_diagnoses"),
    (
        _c("diagnosis_id", TEXT, "Diagnosis"),
        TEAM,
        _c("rule_id", TEXT, "Rule"),
        _c("item_type", TEXT, "Kind"),
        _c("item", TEXT, "Item", "Issues link to the Issue Investigator, other items to GitLab."),
        _c("observed_at", TIMESTAMP, "When"),
        _c("value", NUMBER, "Value"),
        _c("evidence_rank", INTEGER, "Rank"),
    ),
    (),
    "observed_at",
)

ROI = Dataset(
    "roi",
    "Approved interventions: each metric of the treated team before (baseline window) and since the start "
    "(fct_roi_comparison).",
    """
select
    recommendation_id,
    team_id,
    metric_name,
    case when is_watched_metric then 'watched' else '' end as watched,
    case when is_watched_metric then 1 else 0 end as is_watched,
    intervention_start_date,
    baseline_n,
    baseline_value,
    current_n,
    current_value,
    delta_pct,
    direction_of_change,
    hours_recovered_per_week,
    value_recovered_per_week,
    value_currency,
    attribution_caveats
from marts.fct_roi_comparison
""",
    ("fct_roi_comparison",),
    (
        _c("recommendation_id", TEXT, "Recommendation"),
        TEAM,
        _c("metric_name", TEXT, "Metric"),
        _c("watched", TEXT, "Watched"),
        _c("is_watched", INTEGER, "Watched (0/1)"),
        _c("intervention_start_date", DATE, "Started"),
        _c("baseline_n", INTEGER, "n before"),
        _c("baseline_value", NUMBER, "Before"),
        _c("current_n", INTEGER, "n since"),
        _c("current_value", NUMBER, "Since"),
        _c("delta_pct", NUMBER, "Change"),
        _c("direction_of_change", TEXT, "Direction"),
        _c("hours_recovered_per_week", NUMBER, "Hours back / week"),
        _c("value_recovered_per_week", NUMBER, "Value back / week"),
        _c("value_currency", TEXT, "Currency"),
        _c("attribution_caveats", TEXT, "Caveats"),
    ),
    (
        Metric(
            "hours_recovered",
            "sum(hours_recovered_per_week * is_watched)",
            "Hours back / week",
            "Σ fct_roi_comparison.hours_recovered_per_week of the watched metrics (by each rule's cost "
            "model).",
            ",.1f",
        ),
        Metric(
            "value_recovered",
            "sum(value_recovered_per_week * is_watched)",
            "Value back / week",
            "Σ fct_roi_comparison.value_recovered_per_week of the watched metrics (var hourly_cost).",
            ",.0f",
        ),
    ),
)

OUTCOMES = Dataset(
    "outcomes",
    "Verified outcomes of approved interventions (fct_intervention_outcomes): the watched metric before and "
    "after, the 95% confidence interval of the change (weeks as the independent units), the "
    "difference-in-differences against the other teams and the verdict.",
    """
select
    recommendation_id,
    team_id,
    title,
    metric_name,
    intervention_start_date,
    treated_n_before,
    treated_before,
    treated_n_after,
    treated_after,
    change_pct,
    change_ci_low,
    change,
    change_ci_high,
    did_ci_low,
    did_estimate,
    did_ci_high,
    verdict,
    verdict_basis
from marts.fct_intervention_outcomes
""",
    ("fct_intervention_outcomes",),
    (
        _c("recommendation_id", TEXT, "Recommendation"),
        TEAM,
        _c("title", TEXT, "Intervention"),
        _c("metric_name", TEXT, "Metric"),
        _c("intervention_start_date", DATE, "Started"),
        _c("treated_n_before", INTEGER, "n before"),
        _c("treated_before", NUMBER, "Before"),
        _c("treated_n_after", INTEGER, "n after"),
        _c("treated_after", NUMBER, "After"),
        _c("change_pct", NUMBER, "Change"),
        _c("change_ci_low", NUMBER, "Change CI low"),
        _c("change", NUMBER, "Change (units)"),
        _c("change_ci_high", NUMBER, "Change CI high"),
        _c("did_ci_low", NUMBER, "DiD CI low"),
        _c("did_estimate", NUMBER, "DiD"),
        _c("did_ci_high", NUMBER, "DiD CI high"),
        _c("verdict", TEXT, "Verdict"),
        _c("verdict_basis", TEXT, "Basis"),
    ),
    (),
)

INCIDENTS = Dataset(
    "incidents",
    "Incidents from Jira and GitLab (fct_incidents) with the deployment they are attributed to and how.",
    f"""
select
    i.incident_id,
    case when i.incident_source = 'jira' then {issue_link("i.issue_key")} else i.issue_key end as incident,
    i.incident_source,
    i.team_id,
    d.project_path as project,
    i.created_at,
    i.resolved_at,
    case when i.is_resolved then 0 else 1 end as open,
    i.attribution_method,
    i.deployment_id,
    i.time_to_restore_hours,
    i.recovery_time_hours
from marts.fct_incidents as i
left join marts.fct_deployments as d on d.deployment_id = i.deployment_id
""",
    ("fct_incidents", "fct_deployments"),
    (
        _c("incident_id", TEXT, "Incident id"),
        _c("incident", TEXT, "Incident", "Jira keys link to the Issue Investigator."),
        _c("incident_source", TEXT, "Tracker"),
        TEAM,
        _c("project", TEXT, "Project", "GitLab project of the attributed deployment."),
        _c("created_at", TIMESTAMP, "Opened"),
        _c("resolved_at", TIMESTAMP, "Resolved"),
        _c("open", INTEGER, "Open (0/1)"),
        _c("attribution_method", TEXT, "Attribution", "fct_incidents.attribution_method."),
        _c("deployment_id", TEXT, "Deployment"),
        _c("time_to_restore_hours", NUMBER, "Time to restore (h)"),
        _c("recovery_time_hours", NUMBER, "Recovery from deployment (h)"),
    ),
    (
        Metric("incident_count", "count(*)", "Incidents", "Incidents opened.", ",d"),
        Metric("open_incidents", "sum(open)", "Open incidents", "Incidents not resolved at as_of.", ",d"),
    ),
    "created_at",
)

SPRINTS = Dataset(
    "sprints",
    "Closed sprints the diagnosis evaluates (fct_sprint_performance joined to the planning_accuracy "
    "observations of fct_metric_observations: over, and started inside the loaded history): what was "
    "committed, added, completed and carried over.",
    """
select
    s.sprint_id,
    s.sprint_name,
    s.team_id,
    s.sprint_state,
    s.started_at,
    s.evaluated_at,
    s.committed_count,
    s.added_count,
    s.removed_count,
    s.completed_committed_count,
    s.carried_over_count,
    s.planning_accuracy,
    case when s.planning_accuracy <= 0.6 then 1 else 0 end as over_committed
from marts.fct_sprint_performance as s
join marts.fct_metric_observations as o
    on o.metric_name = 'planning_accuracy' and cast(o.item_id as text) = cast(s.sprint_id as text)
""",
    ("fct_sprint_performance", "fct_metric_observations"),
    (
        _c("sprint_id", TEXT, "Sprint id"),
        _c("sprint_name", TEXT, "Sprint"),
        TEAM,
        _c("sprint_state", TEXT, "State"),
        _c("started_at", TIMESTAMP, "Started"),
        _c("evaluated_at", TIMESTAMP, "Ends"),
        _c("committed_count", INTEGER, "Committed"),
        _c("added_count", INTEGER, "Added"),
        _c("removed_count", INTEGER, "Removed"),
        _c("completed_committed_count", INTEGER, "Committed and done"),
        _c("carried_over_count", INTEGER, "Carried over"),
        _c("planning_accuracy", NUMBER, "Planning accuracy"),
        _c(
            "over_committed",
            INTEGER,
            "Over-committed (0/1)",
            "planning_accuracy ≤ 0.6 (sprint_overcommitment).",
        ),
    ),
    (
        Metric(
            "over_committed_sprints",
            "sum(over_committed)",
            "Over-committed sprints",
            "Sprints with planning accuracy ≤ 0.6.",
            ",d",
        ),
    ),
    "started_at",
)

UNESCALATED = Dataset(
    "unescalated_blockers",
    "Blocked windows that lasted at least blocked_escalation_hours (24 h) with no status or assignee change "
    "inside them (fct_metric_observations, metric unescalated_blocked_hours > 0).",
    f"""
select
    o.item_label as issue_key,
    {issue_link("o.item_label")} as issue,
    o.team_id,
    i.project_key as project,
    o.observed_at,
    o.value as unescalated_hours
from marts.fct_metric_observations as o
left join marts.fct_blocked_intervals as b on b.blocked_interval_id = o.item_id
left join marts.fct_issue_lifecycle as i on i.issue_id = b.issue_id
where o.metric_name = 'unescalated_blocked_hours' and o.value > 0
""",
    ("fct_metric_observations", "fct_blocked_intervals", "fct_issue_lifecycle"),
    (
        _c("issue_key", TEXT, "Issue key"),
        _c("issue", TEXT, "Issue", "Linked to the Issue Investigator."),
        TEAM,
        PROJECT_JIRA,
        _c("observed_at", TIMESTAMP, "Blocked since"),
        _c("unescalated_hours", NUMBER, "Blocked, unescalated (h)"),
    ),
    (),
    "observed_at",
)

UNLINKED = Dataset(
    "unlinked_work",
    "Done work (fct_issue_lifecycle.is_done_work) that no merge request links to "
    "(fct_issue_merge_request_links): work nobody can trace to code.",
    f"""
select
    i.issue_key,
    {issue_link("i.issue_key")} as issue,
    i.team_id,
    i.project_key as project,
    i.issue_type,
    i.done_at
from marts.fct_issue_lifecycle as i
where i.is_done_work
    and not exists (select 1 from marts.fct_issue_merge_request_links as l where l.issue_key = i.issue_key)
""",
    ("fct_issue_lifecycle", "fct_issue_merge_request_links"),
    (
        _c("issue_key", TEXT, "Issue key"),
        _c("issue", TEXT, "Issue", "Linked to the Issue Investigator."),
        TEAM,
        PROJECT_JIRA,
        _c("issue_type", TEXT, "Type"),
        _c("done_at", TIMESTAMP, "Done at"),
    ),
    (),
    "done_at",
)

LINKAGE = Dataset(
    "work_linkage",
    "Per team and ISO week: done work and merged MRs, and how many of each have no link (fct_work_linkage).",
    """
select
    team_id,
    week_start_date,
    done_issue_count,
    unlinked_done_issue_count,
    merged_merge_request_count,
    unlinked_merge_request_count
from marts.fct_work_linkage
""",
    ("fct_work_linkage",),
    (
        TEAM,
        _c("week_start_date", DATE, "Week"),
        _c("done_issue_count", INTEGER, "Done issues"),
        _c("unlinked_done_issue_count", INTEGER, "Unlinked done issues"),
        _c("merged_merge_request_count", INTEGER, "Merged MRs"),
        _c("unlinked_merge_request_count", INTEGER, "MRs without a key"),
    ),
    (
        Metric(
            "unlinked_work_share",
            "sum(unlinked_done_issue_count)::numeric / nullif(sum(done_issue_count), 0)",
            "Unlinked work share",
            "Done issues no MR links to / done issues (fct_work_linkage.unlinked_work_share).",
            ".0%",
        ),
        Metric(
            "unlinked_mr_share",
            "sum(unlinked_merge_request_count)::numeric / nullif(sum(merged_merge_request_count), 0)",
            "MRs without a Jira key",
            "Merged human MRs with no Jira key / merged human MRs.",
            ".0%",
        ),
    ),
    "week_start_date",
)

FILTERS = (TEAMS, PROJECTS)


def _intro(key: str, text: str) -> Markdown:
    return Markdown(f"{key}_intro", text, width=12, height=10)


# --- 1. VALSKJALF ------------------------------------------------------------------------------------------

VALSKJALF = Dashboard(
    "valskjalf",
    "valskjalf",
    "VALSKJALF — Executive overview",
    "Is delivery getting faster, what is in flight, how the DORA keys stand, and which one intervention "
    "pays.",
    (
        (
            _intro(
                "valskjalf",
                "**Executive overview.** Big numbers are the last complete week with the change against the "
                "week before. Every chart's description (its menu → Show chart description) says what it "
                "counts and which mart holds it; definitions are in docs/metrics.md.",
            ),
        ),
        (
            big_number_trend(
                "valskjalf_throughput",
                "Throughput",
                DONE_WORK,
                "done_items",
                "done_at",
                "Done work items per week (fct_issue_lifecycle, is_done_work, by done_at); the big number is "
                "the last complete week, the percentage its change against the week before.",
                number_format=",d",
                subtitle="items done per week",
                where=(COMPLETE,),
            ),
            big_number_trend(
                "valskjalf_cycle_time",
                "Cycle time p50",
                DONE_WORK,
                "cycle_time_p50_days",
                "done_at",
                "Median cycle time in days (first start → last done, fct_issue_lifecycle.cycle_time_hours / "
                "24) of the items done in the last complete week, against the week before. Lower is better.",
                subtitle="days, median",
                where=(COMPLETE,),
            ),
            big_number_trend(
                "valskjalf_blocked_share",
                "Blocked share",
                DONE_WORK,
                "blocked_share",
                "done_at",
                "Share of cycle time spent blocked (Σ fct_issue_lifecycle.blocked_hours / Σ "
                "cycle_time_hours) of the items done in the last complete week, against the week before.",
                number_format=".1%",
                subtitle="of cycle time",
                where=(COMPLETE,),
            ),
            big_number_trend(
                "valskjalf_rework_rate",
                "Rework rate",
                DONE_WORK,
                "rework_rate",
                "done_at",
                "Share of the items done in the last complete week that had been reopened "
                "(fct_issue_lifecycle.is_reworked), against the week before.",
                number_format=".1%",
                subtitle="reopened after done",
                where=(COMPLETE,),
            ),
        ),
        (
            big_number_total(
                "valskjalf_wip_now",
                "WIP now",
                WIP_NOW,
                "open_items",
                "Open work at as_of: issues in progress, in review, waiting or blocked (fct_wip_current).",
                subtitle="items in progress, review, waiting or blocked",
                number_format=",d",
                height=50,
            ),
            timeseries(
                "valskjalf_throughput_trend",
                "Throughput trend",
                DONE_WORK,
                "done_at",
                ["done_items"],
                "Done work items per week, stacked by team (fct_issue_lifecycle, is_done_work, by done_at); "
                "complete weeks only.",
                kind="bar",
                groupby=["team_id"],
                stack=True,
                number_format=",d",
                where=(COMPLETE,),
                width=5,
            ),
            timeseries(
                "valskjalf_cycle_time_trend",
                "Cycle time p50 and p85",
                DONE_WORK,
                "done_at",
                ["cycle_time_p50_days", "cycle_time_p85_days"],
                "Median and 85th percentile cycle time in days of the items done each week "
                "(fct_issue_lifecycle.cycle_time_hours / 24); complete weeks only.",
                where=(COMPLETE,),
                y_title="days",
                width=4,
            ),
        ),
        (
            table(
                "valskjalf_dora",
                "DORA keys by team",
                DORA_WEEKS,
                [
                    "team_id",
                    "deployments_per_week_4w",
                    "deployment_frequency_band",
                    "lead_time_for_changes_p50_days",
                    "lead_time_for_changes_band",
                    "change_failure_rate",
                    "change_failure_rate_band",
                    "recovery_time_p50_hours",
                    "recovery_time_band",
                ],
                "The four DORA keys of each team in the last complete week, each with its band "
                "(rpt_dora_weekly): deployments per week (4-week average), median lead time for changes "
                "(first commit → production), change failure rate, median failed-deployment recovery time. "
                "Bands from the seed dora_performance_bands; N/A when the week had no sample.",
                order_by=[("team_id", True)],
                where=(Filter("is_last_complete_week", "IS TRUE"),),
                formats={
                    "deployments_per_week_4w": ",.1f",
                    "lead_time_for_changes_p50_days": ",.1f",
                    "change_failure_rate": ".0%",
                    "recovery_time_p50_hours": ",.1f",
                },
                width=7,
                page_length=0,
            ),
            table(
                "valskjalf_top_recommendations",
                "Top recommendations and their ROI",
                RECOMMENDATIONS,
                ["rank", "team_id", "title", "hours_lost_per_week", "weekly_value", "status"],
                "The costliest diagnosed bottlenecks' recommended interventions (fct_recommendations, rank 1 "
                "= most engineer-hours lost per week), with the expected value per week (hours lost × "
                "expected recovery × hourly cost) and their status from the decision table.",
                order_by=[("rank", True)],
                where=(Filter("rank", "<=", 5),),
                formats={"hours_lost_per_week": ",.1f", "weekly_value": ",.0f"},
                width=5,
                page_length=0,
            ),
        ),
        (
            table(
                "valskjalf_headlines",
                "Headline numbers (last 4 weeks)",
                HEADLINES,
                ["label", "value", "unit", "sample_size", "meaning"],
                "The organisation's headline numbers exactly as `heimdall summary` prints them "
                "(rpt_headline_metrics): the 4 weeks up to the latest completion, with the sample behind "
                "each. Not filtered by team or project.",
                order_by=[("display_order", True)],
                formats={"value": ",.1f"},
                height=50,
                page_length=0,
            ),
        ),
    ),
    FILTERS,
)

# --- 2. HUGINN ---------------------------------------------------------------------------------------------

HUGINN = Dashboard(
    "huginn",
    "huginn",
    "HUGINN — Operational flow",
    "What is in flight right now, where it waits, what is blocked and which merge requests wait for a "
    "reviewer.",
    (
        (
            big_number_total(
                "huginn_wip",
                "WIP now",
                WIP_NOW,
                "open_items",
                "Issues in progress, in review, waiting or blocked at as_of (fct_wip_current).",
                subtitle="open items",
                number_format=",d",
            ),
            big_number_total(
                "huginn_blocked",
                "Blocked now",
                WIP_NOW,
                "blocked_items",
                "Open items in a blocked status or flagged at as_of "
                "(fct_wip_current.current_status_category, is_flagged).",
                subtitle="blocked or flagged",
                number_format=",d",
            ),
            big_number_total(
                "huginn_review_queue_size",
                "Review queue",
                REVIEW_QUEUE,
                "waiting_mrs",
                "Open human MRs ready for review that nobody has reviewed yet (fct_merge_requests).",
                subtitle="MRs waiting for a first review",
                number_format=",d",
            ),
            big_number_total(
                "huginn_oldest_wait",
                "Oldest review wait",
                REVIEW_QUEUE,
                "oldest_wait_hours",
                "The longest an open MR in the review queue has waited since it became ready "
                "(fct_merge_requests.ready_at), wall-clock hours up to the end of the as_of day.",
                subtitle="hours since ready",
                number_format=",.0f",
            ),
        ),
        (
            category_bar(
                "huginn_wip_by_status",
                "WIP by status category and team",
                WIP_NOW,
                "team_id",
                ["open_items"],
                "Open items at as_of per team, split by status category "
                "(fct_wip_current.current_status_category: in_progress, review, waiting, blocked).",
                groupby=["current_status_category"],
                stack=True,
                sort_by_label=True,
                label_rotation=45,
            ),
            timeseries(
                "huginn_cumulative_flow",
                "Cumulative flow (open work by state)",
                FLOW_DAILY,
                "date_day",
                ["in_progress", "review", "waiting", "blocked"],
                "Per day, the open work at the end of the day stacked by state (fct_wip_daily: "
                "wip_in_progress, wip_review, wip_waiting, wip_blocked). A band that widens is work piling "
                "up in that state; the completed work (fct_throughput_daily) is left out so the open work "
                "stays readable.",
                kind="area",
                grain="P1D",
                stack=True,
                number_format=",d",
            ),
        ),
        (
            table(
                "huginn_aging_wip",
                "Aging work in progress",
                WIP_NOW,
                [
                    "issue",
                    "team_id",
                    "project",
                    "current_status",
                    "age_days",
                    "age_percentile",
                    "blocked_hours",
                    "flag",
                    "assignee",
                ],
                "Open items oldest first (fct_wip_current): age in days since the first start, the share of "
                "the team's done work that finished faster (age percentile: near 100% = older than almost "
                "everything the team delivers), blocked hours so far, flagged and unassigned items.",
                order_by=[("age_days", False)],
                formats={"age_days": ",.1f", "age_percentile": ".0%", "blocked_hours": ",.0f"},
            ),
        ),
        (
            table(
                "huginn_blocked_items",
                "Blocked items",
                BLOCKED_NOW,
                ["issue", "team_id", "current_status", "block_source", "started_at", "hours"],
                "Blocked windows still open at as_of, longest first (fct_blocked_intervals.is_current): "
                "blocked by a status, a flag or both, since when, for how many hours.",
                order_by=[("hours", False)],
                formats={"hours": ",.0f"},
                width=6,
            ),
            table(
                "huginn_review_queue",
                "Review queue (oldest first)",
                REVIEW_QUEUE,
                ["merge_request", "issue", "team_id", "ready_at", "waiting_hours", "size_lines"],
                "Open human MRs ready for review with no review yet, longest waiting first "
                "(fct_merge_requests: ready_at set, first_review_at empty). Waiting = wall-clock hours since "
                "ready.",
                order_by=[("waiting_hours", False)],
                formats={"waiting_hours": ",.0f"},
                width=6,
            ),
        ),
    ),
    FILTERS,
)

# --- 3. MUNINN ---------------------------------------------------------------------------------------------


def _trend(key: str, title: str, metric: str, description: str, fmt: str, y_title: str = "") -> Chart:
    share = fmt.endswith("%")
    return timeseries(
        f"muninn_{key}",
        title,
        TEAM_WEEKS,
        "week_start_date",
        [metric],
        description + " One line per team, complete weeks (fct_team_weekly_metrics).",
        groupby=["team_id"],
        number_format=fmt,
        where=(COMPLETE,),
        y_title=y_title,
        y_bounds=(0, None) if share else (None, None),
    )


MUNINN = Dashboard(
    "muninn",
    "muninn",
    "MUNINN — Historical trends",
    "Every headline metric per team and week over the whole history (26 weeks and more), with the sample "
    "sizes behind the medians so thin weeks are visible.",
    (
        (
            _trend("throughput", "Throughput per week", "throughput", "Done work items per week.", ",d"),
            _trend(
                "cycle_time",
                "Cycle time p50 (days)",
                "cycle_time_p50",
                "Median cycle time in days (cycle_time_p50_hours / 24); the heatmap below shows how many "
                "items each median rests on.",
                ",.1f",
                "days",
            ),
        ),
        (
            _trend(
                "blocked_share", "Blocked share", "blocked_share", "Share of cycle time spent blocked.", ".0%"
            ),
            _trend(
                "flow_efficiency",
                "Flow efficiency p50",
                "flow_efficiency",
                "Median share of cycle time actively worked (flow_efficiency_p50).",
                ".0%",
            ),
        ),
        (
            _trend(
                "review_pickup",
                "Review pickup p50 (working hours)",
                "review_pickup_p50",
                "Median working hours from ready for review to the first review "
                "(review_pickup_p50_working_hours).",
                ",.1f",
                "working hours",
            ),
            _trend(
                "rework_rate", "Rework rate", "rework_rate", "Share of done items that were reopened.", ".0%"
            ),
        ),
        (
            _trend(
                "deployments",
                "Deployments per week",
                "deployments",
                "Successful production deployments, one per pipeline (DORA deployment frequency).",
                ",d",
            ),
            _trend(
                "change_failure_rate",
                "Change failure rate",
                "change_failure_rate",
                "Production deployments with an attributed incident / production deployments (DORA).",
                ".0%",
            ),
        ),
        (
            heatmap(
                "muninn_done_n",
                "Sample size: done items per team-week",
                TEAM_WEEKS,
                "week_start_date",
                "team_id",
                "done_n",
                "How many done items each team-week's cycle time, blocked share and rework rate rest on "
                "(fct_team_weekly_metrics.cycle_time_n). Pale cells are thin weeks: read their medians with "
                "care.",
                where=(COMPLETE,),
                width=12,
                height=40,
            ),
        ),
        (
            heatmap(
                "muninn_pickup_n",
                "Sample size: merge requests per team-week",
                TEAM_WEEKS,
                "week_start_date",
                "team_id",
                "pickup_n",
                "How many MRs each team-week's review pickup median rests on "
                "(fct_team_weekly_metrics.review_pickup_n). Pale cells are thin weeks.",
                where=(COMPLETE,),
                width=12,
                height=40,
            ),
        ),
    ),
    FILTERS,
)

# --- 4. GJALLARHORN ----------------------------------------------------------------------------------------

GJALLARHORN = Dashboard(
    "gjallarhorn",
    "gjallarhorn",
    "GJALLARHORN — Risk monitor",
    "What needs attention: the oldest and most blocked work, blockers nobody escalated, work nobody can "
    "trace to code, flaky CI, over-committed sprints and incidents.",
    (
        (
            big_number_total(
                "gjallarhorn_flagged",
                "Flagged now",
                WIP_NOW,
                "flagged_items",
                "Open items flagged as impeded at as_of (fct_wip_current.is_flagged).",
                subtitle="open items flagged",
                number_format=",d",
            ),
            big_number_total(
                "gjallarhorn_unassigned",
                "Unassigned WIP",
                WIP_NOW,
                "unassigned_items",
                "Open items in progress, review, waiting or blocked with nobody assigned (fct_wip_current).",
                subtitle="open items without an assignee",
                number_format=",d",
            ),
            big_number_total(
                "gjallarhorn_open_incidents",
                "Open incidents",
                INCIDENTS,
                "open_incidents",
                "Incidents (Jira and GitLab) not resolved at as_of (fct_incidents.is_resolved).",
                subtitle="not resolved",
                number_format=",d",
            ),
            big_number_total(
                "gjallarhorn_overcommitted",
                "Over-committed sprints",
                SPRINTS,
                "over_committed_sprints",
                "Sprints that completed at most 60% of what they committed "
                "(fct_sprint_performance.planning_accuracy ≤ 0.6, the sprint_overcommitment threshold), in "
                "the date range.",
                subtitle="planning accuracy ≤ 60%",
                number_format=",d",
                time_column="started_at",
            ),
        ),
        (
            table(
                "gjallarhorn_risky_work",
                "Oldest and most blocked open work",
                WIP_NOW,
                [
                    "issue",
                    "team_id",
                    "current_status",
                    "risk_score",
                    "age_days",
                    "blocked_hours",
                    "flag",
                    "assignee",
                ],
                "Open items by risk (fct_wip_current.risk_score, 0-100 = 50 × age percentile + 20 × blocked "
                "share + 20 if flagged + 10 if unassigned): old relative to the team's usual cycle time, "
                "long blocked, flagged and unowned work first.",
                order_by=[("risk_score", False), ("age_days", False)],
                formats={"age_days": ",.1f", "blocked_hours": ",.0f"},
            ),
        ),
        (
            table(
                "gjallarhorn_unescalated",
                "Unescalated blockers",
                UNESCALATED,
                ["issue", "team_id", "observed_at", "unescalated_hours"],
                "Blocked windows of at least 24 hours (var blocked_escalation_hours) during which nobody "
                "changed the status or the assignee (fct_metric_observations, unescalated_blocked_hours), "
                "longest first.",
                order_by=[("unescalated_hours", False)],
                time_column="observed_at",
                formats={"unescalated_hours": ",.0f"},
                width=6,
            ),
            table(
                "gjallarhorn_unlinked",
                "Done work without a merge request",
                UNLINKED,
                ["issue", "team_id", "issue_type", "done_at"],
                "Done work no merge request links to (fct_issue_lifecycle.is_done_work without a row in "
                "fct_issue_merge_request_links), newest first: work nobody can trace to code.",
                order_by=[("done_at", False)],
                time_column="done_at",
                width=6,
            ),
        ),
        (
            timeseries(
                "gjallarhorn_flaky_ci",
                "Flaky pipelines per week",
                PIPELINES,
                "created_at",
                ["flaky_pipelines"],
                "Pipelines that succeeded only after a failed job was retried (fct_pipelines.is_flaky), per "
                "week of creation, stacked by team.",
                kind="bar",
                groupby=["team_id"],
                stack=True,
                number_format=",d",
            ),
            timeseries(
                "gjallarhorn_unlinked_share",
                "Unlinked work share",
                LINKAGE,
                "week_start_date",
                ["unlinked_work_share"],
                "Share of each week's done work that no merge request links to, per team (fct_work_linkage).",
                groupby=["team_id"],
                number_format=".0%",
            ),
        ),
        (
            table(
                "gjallarhorn_sprints",
                "Over-committed sprints",
                SPRINTS,
                [
                    "sprint_name",
                    "team_id",
                    "started_at",
                    "committed_count",
                    "added_count",
                    "completed_committed_count",
                    "carried_over_count",
                    "planning_accuracy",
                ],
                "Sprints that completed at most 60% of their commitment "
                "(fct_sprint_performance.planning_accuracy = committed and done / committed), worst first, "
                "with what was added and carried over.",
                order_by=[("started_at", False), ("planning_accuracy", True)],
                where=(Filter("over_committed", "==", 1),),
                time_column="started_at",
                formats={"planning_accuracy": ".0%"},
                width=7,
            ),
            pie(
                "gjallarhorn_attribution",
                "Incidents by attribution",
                INCIDENTS,
                "attribution_method",
                "incident_count",
                "How each incident was tied to a deployment (fct_incidents.attribution_method): explicit "
                "references, inferred from the service's last production deployment, or unattributed.",
                time_column="created_at",
                width=5,
            ),
        ),
        (
            table(
                "gjallarhorn_incidents",
                "Incidents and their attribution",
                INCIDENTS,
                [
                    "incident",
                    "team_id",
                    "incident_source",
                    "created_at",
                    "resolved_at",
                    "attribution_method",
                    "deployment_id",
                    "time_to_restore_hours",
                ],
                "Incidents newest first (fct_incidents): tracker, opened and resolved, the production "
                "deployment they are attributed to and how (attribution_method), time to restore.",
                order_by=[("created_at", False)],
                time_column="created_at",
                formats={"time_to_restore_hours": ",.1f"},
            ),
        ),
    ),
    FILTERS,
)

# --- 5. Code review and CI ---------------------------------------------------------------------------------

CODE_REVIEW_CI = Dashboard(
    "code_review_ci",
    "code-review-ci",
    "Code review and CI",
    "How long merge requests wait for and spend in review (working hours), whether size matters, and what "
    "failing and flaky CI costs.",
    (
        (
            big_number_total(
                "review_pickup_p50",
                "Review pickup p50",
                MERGE_REQUESTS,
                "pickup_p50",
                "Median working hours from ready for review to the first review of human MRs ready in the "
                "date range (fct_merge_requests.review_pickup_working_hours).",
                subtitle="working hours, ready → first review",
                time_column="ready_at",
            ),
            big_number_total(
                "review_duration_p50",
                "Review duration p50",
                MERGE_REQUESTS,
                "review_p50",
                "Median working hours from the first review to the merge of human MRs merged in the date "
                "range (fct_merge_requests.review_duration_working_hours).",
                subtitle="working hours, first review → merge",
                time_column="merged_at",
            ),
            big_number_total(
                "ci_failure_rate",
                "CI failure rate",
                PIPELINES,
                "failure_rate",
                "Failed / (succeeded + failed) pipelines created in the date range (fct_pipelines); canceled "
                "and skipped pipelines say nothing about the code and are left out.",
                subtitle="of finished pipelines",
                number_format=".1%",
                time_column="created_at",
            ),
            big_number_total(
                "ci_retry_waste",
                "CI retry waste",
                PIPELINES,
                "retry_waste_hours",
                "Hours of job attempts that a retry replaced, in pipelines created in the date range "
                "(fct_pipelines.retry_waste_minutes / 60).",
                subtitle="hours of retried jobs",
                number_format=",.0f",
                time_column="created_at",
            ),
        ),
        (
            box_plot(
                "review_pickup_distribution",
                "Review pickup by team (working hours)",
                MERGE_REQUESTS,
                "team_id",
                "merge_request_id",
                "pickup_hours",
                "Distribution of review pickup per MR (ready for review → first review, working hours, "
                "fct_merge_requests.review_pickup_working_hours), by team: box = middle half, line = median, "
                "dots = outliers.",
                time_column="ready_at",
            ),
            box_plot(
                "review_duration_distribution",
                "Review duration by team (working hours)",
                MERGE_REQUESTS,
                "team_id",
                "merge_request_id",
                "review_hours",
                "Distribution of review duration per merged MR (first review → merge, working hours, "
                "fct_merge_requests.review_duration_working_hours), by team.",
                time_column="merged_at",
            ),
        ),
        (
            category_bar(
                "review_time_by_size",
                "Review time by MR size",
                MERGE_REQUESTS,
                "size_bucket",
                ["pickup_p50", "review_p50"],
                "Median pickup and review duration (working hours) by MR size (lines added + deleted, "
                "fct_merge_requests.size_lines): whether big MRs wait and take longer.",
                number_format=",.1f",
                sort_by_label=True,
                time_column="ready_at",
            ),
            timeseries(
                "ci_failure_rate_trend",
                "CI failure rate by team",
                PIPELINES,
                "created_at",
                ["failure_rate"],
                "Failed / (succeeded + failed) pipelines per week of creation and team (fct_pipelines).",
                groupby=["team_id"],
                number_format=".0%",
                y_bounds=(0, None),
            ),
        ),
        (
            timeseries(
                "ci_retry_waste_trend",
                "Retry waste by team (hours per week)",
                PIPELINES,
                "created_at",
                ["retry_waste_hours"],
                "Hours of retried job attempts per week and team (fct_pipelines.retry_waste_minutes / 60).",
                kind="bar",
                groupby=["team_id"],
                stack=True,
                number_format=",.1f",
                width=12,
                height=45,
            ),
        ),
        (
            table(
                "ci_wasteful_pipelines",
                "Pipelines with the most retry waste",
                PIPELINES,
                [
                    "pipeline",
                    "team_id",
                    "project",
                    "ref",
                    "status",
                    "retried_job_count",
                    "retry_waste_minutes",
                ],
                "The pipelines whose retried job attempts wasted the most run time "
                "(fct_pipelines.retry_waste_minutes), with how many jobs were retried.",
                order_by=[("retry_waste_minutes", False)],
                where=(Filter("retry_waste_minutes", ">", 0),),
                time_column="created_at",
                formats={"retry_waste_minutes": ",.1f"},
            ),
        ),
    ),
    FILTERS,
)

# --- 6. Recommendations and ROI ----------------------------------------------------------------------------

RECOMMENDATIONS_ROI = Dashboard(
    "recommendations_roi",
    "recommendations-roi",
    "Recommendations and ROI",
    "Which bottlenecks were diagnosed on what evidence, what was recommended and decided, and whether the "
    "approved interventions worked.",
    (
        (
            big_number_total(
                "roi_hours_recovered",
                "Hours recovered per week",
                ROI,
                "hours_recovered",
                "Engineer-hours per week recovered by approved interventions: hours lost per week before the "
                "start − since, by each rule's cost model, on the watched metric (fct_roi_comparison).",
                subtitle="approved interventions, watched metric",
            ),
            big_number_total(
                "roi_value_recovered",
                "Value recovered per week",
                ROI,
                "value_recovered",
                "The hours recovered per week × the hourly cost (dbt var hourly_cost; "
                "fct_roi_comparison.value_recovered_per_week).",
                subtitle="per week, at the configured hourly cost",
                number_format=",.0f",
            ),
            big_number_total(
                "roi_approved",
                "Approved interventions",
                RECOMMENDATIONS,
                "approved_count",
                "Recommendations whose latest decision approves them (fct_recommendations.status).",
                subtitle="latest decision: approved",
                number_format=",d",
            ),
            big_number_total(
                "roi_current_diagnoses",
                "Diagnoses firing now",
                DIAGNOSES,
                "diagnosis_count",
                "Diagnosis rules firing for a team in the current window (fct_diagnoses.is_current).",
                subtitle="team × rule, current window",
                number_format=",d",
                where=(Filter("is_current", "IS TRUE"),),
            ),
        ),
        (
            table(
                "roi_recommendations",
                "Recommendations and decisions",
                RECOMMENDATIONS,
                [
                    "rank",
                    "team_id",
                    "title",
                    "severity",
                    "hours_lost_per_week",
                    "weekly_value",
                    "evidence_count",
                    "status",
                    "decided_by",
                    "intervention_start_date",
                ],
                "Every recommendation (fct_recommendations), costliest first, with its expected value per "
                "week and its status from the append-only decision table (the latest decision; `heimdall "
                "recommendations approve|reject`).",
                order_by=[("rank", True)],
                timestamp_format="%Y-%m-%d",
                formats={"hours_lost_per_week": ",.1f", "weekly_value": ",.0f"},
                page_length=0,
            ),
        ),
        (
            table(
                "roi_diagnoses",
                "Current diagnoses and their evidence",
                DIAGNOSES,
                [
                    "team_id",
                    "rule_id",
                    "severity",
                    "metric_value",
                    "threshold_value",
                    "org_baseline_value",
                    "sample_size",
                    "evidence_count",
                    "hours_lost_per_week",
                ],
                "Rules firing in the current window (fct_diagnoses.is_current): the team's value against the "
                "threshold and the organisation, the sample, how many evidence items stand behind it and the "
                "estimated engineer-hours lost per week.",
                order_by=[("hours_lost_per_week", False)],
                where=(Filter("is_current", "IS TRUE"),),
                formats={
                    "metric_value": ",.2f",
                    "threshold_value": ",.2f",
                    "org_baseline_value": ",.2f",
                    "hours_lost_per_week": ",.1f",
                },
                height=35,
                page_length=0,
            ),
        ),
        (
            heatmap(
                "roi_hours_lost_heatmap",
                "Hours lost per week by team",
                DIAGNOSES,
                "week_start_date",
                "team_id",
                "hours_lost",
                "Estimated engineer-hours lost per week by the diagnosed bottlenecks of each team and week "
                "(Σ fct_diagnoses.hours_lost_per_week): when a problem started and whether it stopped.",
                width=12,
                height=40,
            ),
        ),
        (
            table(
                "roi_baseline_vs_current",
                "Baseline vs current",
                ROI,
                [
                    "recommendation_id",
                    "metric_name",
                    "watched",
                    "baseline_value",
                    "current_value",
                    "delta_pct",
                    "direction_of_change",
                    "baseline_n",
                    "current_n",
                    "hours_recovered_per_week",
                ],
                "For each approved intervention, every metric of the treated team in the baseline window "
                "(roi_baseline_weeks before the start) against the weeks since (fct_roi_comparison), with "
                "the samples behind each; fct_roi_comparison.attribution_caveats says why a change may not "
                "be (only) the intervention's doing.",
                order_by=[("recommendation_id", True), ("watched", False), ("metric_name", True)],
                formats={
                    "baseline_value": ",.2f",
                    "current_value": ",.2f",
                    "delta_pct": "+.0%",
                    "hours_recovered_per_week": ",.1f",
                },
                page_length=0,
            ),
        ),
        (
            table(
                "roi_outcomes",
                "Verified intervention outcomes",
                OUTCOMES,
                [
                    "recommendation_id",
                    "metric_name",
                    "treated_before",
                    "treated_after",
                    "change_pct",
                    "change_ci_low",
                    "change",
                    "change_ci_high",
                    "did_ci_low",
                    "did_estimate",
                    "did_ci_high",
                    "verdict",
                ],
                "The verification of each approved intervention (fct_intervention_outcomes, "
                "insights/verification): the watched metric before and after, the change with its "
                "95% confidence interval, the difference-in-differences against the other teams with its "
                "interval, and the verdict (improved / worsened only when both intervals exclude zero the "
                "same way).",
                order_by=[("recommendation_id", True)],
                formats={
                    "treated_before": ",.2f",
                    "treated_after": ",.2f",
                    "change_pct": "+.0%",
                    "change_ci_low": ",.2f",
                    "change": ",.2f",
                    "change_ci_high": ",.2f",
                    "did_ci_low": ",.2f",
                    "did_estimate": ",.2f",
                    "did_ci_high": ",.2f",
                },
                height=30,
                page_length=0,
            ),
        ),
        (
            table(
                "roi_evidence",
                "Evidence behind the current diagnoses",
                EVIDENCE,
                ["team_id", "rule_id", "item_type", "item", "observed_at", "value", "evidence_rank"],
                "The items each current diagnosis rests on (fct_diagnosis_evidence), worst first per "
                "diagnosis: slow MRs, failed or retried pipelines, long unescalated blocks, missed sprints. "
                "Issues link to the Issue Investigator, MRs and pipelines to GitLab.",
                order_by=[("team_id", True), ("rule_id", True), ("evidence_rank", True)],
                formats={"value": ",.1f"},
            ),
        ),
    ),
    FILTERS,
)

DASHBOARDS: tuple[Dashboard, ...] = (
    VALSKJALF,
    HUGINN,
    MUNINN,
    GJALLARHORN,
    CODE_REVIEW_CI,
    RECOMMENDATIONS_ROI,
)
