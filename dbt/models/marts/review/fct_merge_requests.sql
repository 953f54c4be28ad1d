{#- One row per GitLab merge request with its code-review timeline and metrics (definitions: docs/metrics.md,
    "Code review and linkage"). -#}
with

merge_requests as (

    select * from {{ ref('stg_gitlab__merge_requests') }}

),

projects as (

    select * from {{ ref('stg_gitlab__projects') }}

),

notes as (

    select * from {{ ref('int_merge_request_notes_classified') }}

),

mr_commits as (

    select * from {{ ref('stg_gitlab__mr_commits') }}

),

review_rounds as (

    select * from {{ ref('int_merge_request_review_rounds_counted') }}

),

links as (

    select * from {{ ref('fct_issue_merge_request_links') }}

),

milestones as (

    select * from {{ ref('int_issue_milestones_derived') }}

),

deployments as (

    select * from {{ ref('int_merge_request_deployments_matched') }}

),

commit_stats as (

    select
        merge_request_id,
        min(coalesce(authored_at, committed_at)) as first_commit_at,
        max(coalesce(committed_at, authored_at)) as last_commit_at,
        count(*) as commit_count
    from mr_commits
    group by merge_request_id

),

draft_transitions as (

    select
        merge_request_id,
        min(created_at) filter (where note_kind = 'ready_marker') as first_ready_marker_at,
        min(created_at) filter (where note_kind = 'draft_marker') as first_draft_marker_at
    from notes
    group by merge_request_id

),

review_activity as (

    select
        merge_request_id,
        min(created_at) filter (where is_review_activity) as first_review_at,
        min(created_at) filter (where note_kind = 'approval') as first_approval_at,
        count(distinct lower(author_username)) filter (where is_review_activity) as reviewer_count,
        count(distinct lower(author_username)) filter (where note_kind = 'approval') as approver_count,
        string_agg(distinct author_username, ', ' order by author_username) filter (where is_any_approval) as approvers,
        coalesce(bool_or(note_kind = 'self_approval'), false) as is_self_approved,
        count(*) filter (where note_kind in ('review_comment', 'author_comment')) as human_comment_count
    from notes
    group by merge_request_id

),

first_reviewers as (

    select distinct on (merge_request_id)
        merge_request_id,
        author_username as first_reviewer_username
    from notes
    where is_review_activity
    order by merge_request_id, created_at, note_id

),

linked_issues as (

    select
        links.merge_request_id,
        string_agg(links.issue_key, ', ' order by links.issue_key) as linked_issue_keys,
        count(*) as linked_issue_count,
        min(links.issue_team_id) as linked_issue_team_id,
        min(milestones.started_at) as first_linked_issue_started_at
    from links
    left join milestones on links.issue_id = milestones.issue_id
    group by links.merge_request_id

),

joined as (

    select
        merge_requests.merge_request_id,
        merge_requests.merge_request_iid,
        merge_requests.project_id,
        coalesce(projects.team_id, linked_issues.linked_issue_team_id) as team_id,
        merge_requests.title,
        merge_requests.web_url,
        merge_requests.state,
        merge_requests.is_draft,
        merge_requests.author_username,
        {{ is_bot_username('merge_requests.author_username') }} as is_bot_author,
        merge_requests.created_at,
        merge_requests.merged_at,
        merge_requests.closed_at,
        commit_stats.first_commit_at,
        commit_stats.last_commit_at,
        coalesce(commit_stats.commit_count, 0) as commit_count,
        case
            when
                draft_transitions.first_ready_marker_at is not null
                and (
                    draft_transitions.first_draft_marker_at is null
                    or draft_transitions.first_ready_marker_at <= draft_transitions.first_draft_marker_at
                )
                then true
            when draft_transitions.first_draft_marker_at is null and merge_requests.is_draft then true
            else false
        end as is_started_as_draft,
        draft_transitions.first_ready_marker_at,
        review_activity.first_review_at,
        first_reviewers.first_reviewer_username,
        review_activity.first_approval_at,
        coalesce(review_activity.reviewer_count, 0) as reviewer_count,
        coalesce(review_activity.approver_count, 0) as approver_count,
        review_activity.approvers,
        coalesce(review_activity.is_self_approved, false) as is_self_approved,
        coalesce(review_rounds.review_rounds, 0) as review_rounds,
        merge_requests.lines_added,
        merge_requests.lines_deleted,
        merge_requests.lines_added + merge_requests.lines_deleted as size_lines,
        merge_requests.files_changed,
        linked_issues.linked_issue_keys,
        coalesce(linked_issues.linked_issue_count, 0) as linked_issue_count,
        linked_issues.first_linked_issue_started_at,
        deployments.deployment_id as production_deployment_id,
        deployments.deployed_at,
        deployments.match_method as deployment_match_method
    from merge_requests
    left join projects on merge_requests.project_id = projects.project_id
    left join commit_stats on merge_requests.merge_request_id = commit_stats.merge_request_id
    left join draft_transitions on merge_requests.merge_request_id = draft_transitions.merge_request_id
    left join review_activity on merge_requests.merge_request_id = review_activity.merge_request_id
    left join first_reviewers on merge_requests.merge_request_id = first_reviewers.merge_request_id
    left join review_rounds on merge_requests.merge_request_id = review_rounds.merge_request_id
    left join linked_issues on merge_requests.merge_request_id = linked_issues.merge_request_id
    left join deployments on merge_requests.merge_request_id = deployments.merge_request_id

),

timeline as (

    select
        *,
        case
            when is_started_as_draft then first_ready_marker_at
            else created_at
        end as ready_at,
        coalesce(first_commit_at, first_linked_issue_started_at) as coding_started_at,
        case
            when first_commit_at is not null then 'first_commit'
            when first_linked_issue_started_at is not null then 'issue_start'
        end as coding_started_from,
        merged_at is not null and (first_review_at is null or first_review_at > merged_at) as is_merged_without_review
    from joined

),

durations as (

    select
        *,
        case
            when is_merged_without_review then merged_at
            else first_review_at
        end as pickup_ended_at
    from timeline

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
        {{ clamped_hours('coding_started_at', 'ready_at') }}
            as coding_time_hours,
        {{ clamped_hours('ready_at', 'pickup_ended_at') }}
            as review_pickup_hours,
        case
            when not is_merged_without_review
                then {{ clamped_hours('first_review_at', 'merged_at') }}
        end as review_duration_hours,
        {{ working_hours_between('ready_at', 'pickup_ended_at') }} as review_pickup_working_hours,
        case
            when not is_merged_without_review
                then {{ working_hours_between('first_review_at', 'merged_at') }}
        end as review_duration_working_hours,
        {{ clamped_hours('merged_at', 'deployed_at') }}
            as merge_to_deploy_hours,
        {{ clamped_hours('coding_started_at', 'merged_at') }}
            as cycle_time_hours,
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
    from durations

)

select * from final
