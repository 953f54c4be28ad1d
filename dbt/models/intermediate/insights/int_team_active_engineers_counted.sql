{#- Active engineers per team and ISO week: the larger of (distinct human merge-request authors) and (distinct
    Jira assignees of the team's issues started or done) over the four weeks ending with that week. Used to
    normalise WIP. -#}
with

merge_requests as (

    select * from {{ ref('fct_merge_requests') }}

),

lifecycle as (

    select * from {{ ref('fct_issue_lifecycle') }}

),

issues as (

    select * from {{ ref('stg_jira__issues') }}

),

dates as (

    select * from {{ ref('dim_dates') }}

),

weeks as (

    select distinct week_start_date
    from dates

),

authors as (

    select
        team_id,
        {{ utc_week_start('created_at') }} as week_start_date,
        lower(author_username) as person_id
    from merge_requests
    where not is_bot_author and team_id is not null and author_username is not null

),

assignees as (

    select
        lifecycle.team_id,
        {{ utc_week_start('coalesce(lifecycle.done_at, lifecycle.started_at)') }} as week_start_date,
        issues.assignee_account_id as person_id
    from lifecycle
    inner join issues on lifecycle.issue_id = issues.issue_id
    where lifecycle.started_at is not null and issues.assignee_account_id is not null

),

author_counts as (

    select
        authors.team_id,
        weeks.week_start_date,
        count(distinct authors.person_id) as merge_request_authors
    from weeks
    inner join authors
        on
            authors.week_start_date > weeks.week_start_date - 28
            and weeks.week_start_date >= authors.week_start_date
    group by 1, 2

),

assignee_counts as (

    select
        assignees.team_id,
        weeks.week_start_date,
        count(distinct assignees.person_id) as issue_assignees
    from weeks
    inner join assignees
        on
            assignees.week_start_date > weeks.week_start_date - 28
            and weeks.week_start_date >= assignees.week_start_date
    group by 1, 2

),

final as (

    select
        coalesce(author_counts.team_id, assignee_counts.team_id) || ':'
        || cast(coalesce(author_counts.week_start_date, assignee_counts.week_start_date) as text) as team_week_id,
        coalesce(author_counts.team_id, assignee_counts.team_id) as team_id,
        coalesce(author_counts.week_start_date, assignee_counts.week_start_date) as week_start_date,
        coalesce(author_counts.merge_request_authors, 0) as merge_request_authors,
        coalesce(assignee_counts.issue_assignees, 0) as issue_assignees,
        greatest(
            coalesce(author_counts.merge_request_authors, 0), coalesce(assignee_counts.issue_assignees, 0)
        ) as active_engineers
    from author_counts
    full outer join assignee_counts
        on
            author_counts.team_id = assignee_counts.team_id
            and author_counts.week_start_date = assignee_counts.week_start_date

)

select * from final
