{#- One row per GitLab merge request with its code-review timeline and metrics (definitions: docs/metrics.md,
    "Code review and linkage"). The events come from int_merge_request_milestones_derived; this model adds the
    team, the linked issues, the production deployment, and turns the events into durations.
    `lead_time_for_changes_hours` (first commit -> first production deployment) is the one definition of the
    DORA lead time for changes, read by fct_deployments and rpt_dora_weekly; it is kept unrounded because they
    aggregate it (percentiles of rounded values would drift in the fourth decimal). `merge_to_deploy_hours`
    (merge -> first production deployment) is GitLab's lead time for changes, reported beside it.
    Review pickup is measured on reviewed MRs only (ready -> first review; null when merged without review).
    Working hours are counted in the team's time zone (int_team_time_zones_resolved). -#}
{#- Table, rebuilt whole every build (docs/operations.md, "Incremental builds"), indexed for what the
    dashboards, apps and report ask (one team's days or weeks, one issue, one merge request). -#}
{{
    config(
        indexes=[
            {'columns': ['merge_request_id']},
            {'columns': ['team_id', 'created_at']}
        ]
    )
}}
with

merge_requests as (

    select * from {{ ref('stg_gitlab__merge_requests') }}

),

projects as (

    select * from {{ ref('stg_gitlab__projects') }}

),

mr_milestones as (

    select * from {{ ref('int_merge_request_milestones_derived') }}

),

review_rounds as (

    select * from {{ ref('int_merge_request_review_rounds_counted') }}

),

links as (

    select * from {{ ref('fct_issue_merge_request_links') }}

),

issue_milestones as (

    select * from {{ ref('int_issue_milestones_derived') }}

),

deployments as (

    select * from {{ ref('int_merge_request_deployments_matched') }}

),

team_time_zones as (

    select * from {{ ref('int_team_time_zones_resolved') }}

),

linked_issues as (

    select
        links.merge_request_id,
        string_agg(links.issue_key, ', ' order by links.issue_key) as linked_issue_keys,
        count(*) as linked_issue_count,
        min(links.issue_team_id) as linked_issue_team_id,
        min(issue_milestones.started_at) as first_linked_issue_started_at
    from links
    left join issue_milestones on links.issue_id = issue_milestones.issue_id
    group by links.merge_request_id

),

joined as (

    select
        merge_requests.merge_request_id,
        merge_requests.merge_request_iid,
        merge_requests.project_id,
        coalesce(projects.team_id, linked_issues.linked_issue_team_id) as team_id,
        coalesce(team_time_zones.time_zone, '{{ var("working_hours_timezone") }}') as working_hours_time_zone,
        merge_requests.title,
        merge_requests.web_url,
        merge_requests.state,
        merge_requests.is_draft,
        merge_requests.author_username,
        {{ is_bot_username('merge_requests.author_username') }} as is_bot_author,
        merge_requests.created_at,
        coalesce(mr_milestones.first_commit_at, linked_issues.first_linked_issue_started_at) as coding_started_at,
        case
            when mr_milestones.first_commit_at is not null then 'first_commit'
            when linked_issues.first_linked_issue_started_at is not null then 'issue_start'
        end as coding_started_from,
        mr_milestones.first_commit_at,
        mr_milestones.last_commit_at,
        mr_milestones.ready_at,
        mr_milestones.is_started_as_draft,
        mr_milestones.first_review_at,
        mr_milestones.first_reviewer_username,
        mr_milestones.first_approval_at,
        merge_requests.merged_at,
        merge_requests.closed_at,
        deployments.deployed_at,
        deployments.deployment_id as production_deployment_id,
        deployments.match_method as deployment_match_method,
        mr_milestones.pickup_ended_at,
        mr_milestones.is_merged_without_review,
        mr_milestones.is_self_approved,
        mr_milestones.reviewer_count,
        mr_milestones.approver_count,
        mr_milestones.approvers,
        coalesce(review_rounds.review_rounds, 0) as review_rounds,
        mr_milestones.commit_count,
        merge_requests.lines_added,
        merge_requests.lines_deleted,
        merge_requests.lines_added + merge_requests.lines_deleted as size_lines,
        merge_requests.files_changed,
        linked_issues.linked_issue_keys,
        coalesce(linked_issues.linked_issue_count, 0) as linked_issue_count
    from merge_requests
    inner join mr_milestones on merge_requests.merge_request_id = mr_milestones.merge_request_id
    left join projects on merge_requests.project_id = projects.project_id
    left join review_rounds on merge_requests.merge_request_id = review_rounds.merge_request_id
    left join linked_issues on merge_requests.merge_request_id = linked_issues.merge_request_id
    left join deployments on merge_requests.merge_request_id = deployments.merge_request_id
    left join team_time_zones
        on coalesce(projects.team_id, linked_issues.linked_issue_team_id) = team_time_zones.team_id

),

final as (

    select
        merge_request_id,
        merge_request_iid,
        project_id,
        team_id,
        title,
        web_url,
        state,
        is_draft,
        author_username,
        is_bot_author,
        created_at,
        coding_started_at,
        coding_started_from,
        first_commit_at,
        last_commit_at,
        ready_at,
        is_started_as_draft,
        first_review_at,
        first_reviewer_username,
        first_approval_at,
        merged_at,
        closed_at,
        deployed_at,
        production_deployment_id,
        deployment_match_method,
        {{ clamped_hours('coding_started_at', 'ready_at') }} as coding_time_hours,
        {{ clamped_hours('ready_at', 'pickup_ended_at') }} as review_pickup_hours,
        case
            when not is_merged_without_review
                then {{ clamped_hours('first_review_at', 'merged_at') }}
        end as review_duration_hours,
        {{ working_hours_between('ready_at', 'pickup_ended_at', 'working_hours_time_zone') }}
            as review_pickup_working_hours,
        case
            when not is_merged_without_review
                then {{ working_hours_between('first_review_at', 'merged_at', 'working_hours_time_zone') }}
        end as review_duration_working_hours,
        working_hours_time_zone,
        {{ clamped_hours('merged_at', 'deployed_at') }} as merge_to_deploy_hours,
        case
            when first_commit_at is not null and deployed_at is not null
                then greatest(0, {{ hours_between('first_commit_at', 'deployed_at') }})
        end as lead_time_for_changes_hours,
        {{ clamped_hours('coding_started_at', 'merged_at') }} as cycle_time_hours,
        merged_at is not null as is_merged,
        is_merged_without_review,
        is_self_approved,
        reviewer_count,
        approver_count,
        approvers,
        review_rounds,
        commit_count,
        lines_added,
        lines_deleted,
        size_lines,
        files_changed,
        linked_issue_keys,
        linked_issue_count,
        linked_issue_count > 0 as is_linked_to_issue
    from joined

)

select * from final
