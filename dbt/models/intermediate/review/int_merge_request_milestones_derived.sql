{#- One row per merge request: the GitLab events its review metrics are measured between, and who reviewed it.
    ready_at = created_at, or the first draft -> ready transition when it was opened as a draft (its first draft
    transition note is a "ready" one, or it is a draft now with no transition notes); first review = the first
    review activity (int_merge_request_notes_classified: notes after the merge are never review activity, so
    every review column here -- first review, first reviewer, reviewers, approvals -- only sees the MR's life up
    to its merge); merged without review = merged with no review activity before the merge; the pickup ends at
    the first review (null when merged without review: review pickup is measured on reviewed MRs only). -#}
{#- Incremental (delete+insert on merge_request_id) by merge request: a build recomputes the merge requests with a
    merge request, note or commit document ingested at or after the model's watermark (app.dbt_model_watermarks);
    merge requests that left staging are deleted (notes and commits are only deleted with their MR). Independent
    of as_of (docs/operations.md, "Incremental builds"). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='merge_request_id',
        on_schema_change='fail',
        indexes=[
            {'columns': ['merge_request_id'], 'unique': True}
        ],
        post_hook=[
            "delete from {{ this }} as built where not exists (select 1 from {{ ref('stg_gitlab__merge_requests') }}"
            " as stg where stg.merge_request_id = built.merge_request_id)",
            "{{ save_model_watermark([ref('stg_gitlab__merge_requests'), ref('stg_gitlab__mr_notes'),"
            " ref('stg_gitlab__mr_commits')]) }}"
        ]
    )
}}
-- depends_on: {{ ref('stg_gitlab__mr_notes') }}
with

{% if is_incremental() %}
    changed_merge_requests as (

        {{ keys_ingested_since_watermark([
            (ref('stg_gitlab__merge_requests'), 'merge_request_id'),
            (ref('stg_gitlab__mr_notes'), 'merge_request_id'),
            (ref('stg_gitlab__mr_commits'), 'merge_request_id')
        ]) }}

    ),
{% endif %}

merge_requests as (

    select * from {{ ref('stg_gitlab__merge_requests') }}
    {% if is_incremental() %}
        where merge_request_id in (select changed_merge_requests.changed_key from changed_merge_requests)
    {% endif %}

),

notes as (

    select * from {{ ref('int_merge_request_notes_classified') }}
    {% if is_incremental() %}
        where merge_request_id in (select changed_merge_requests.changed_key from changed_merge_requests)
    {% endif %}

),

mr_commits as (

    select * from {{ ref('stg_gitlab__mr_commits') }}
    {% if is_incremental() %}
        where merge_request_id in (select changed_merge_requests.changed_key from changed_merge_requests)
    {% endif %}

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
        min(created_at) filter (where note_kind = 'approval' and is_review_activity) as first_approval_at,
        count(distinct lower(author_username)) filter (where is_review_activity) as reviewer_count,
        count(distinct lower(author_username)) filter (
            where note_kind = 'approval' and is_review_activity
        ) as approver_count,
        string_agg(distinct author_username, ', ' order by author_username) filter (where is_any_approval) as approvers,
        coalesce(bool_or(note_kind = 'self_approval' and is_any_approval), false) as is_self_approved
    from notes
    group by merge_request_id

),

first_reviewers as (

    select distinct on (merge_request_id)
        merge_request_id,
        author_username as first_reviewer_username
    from notes
    where is_review_activity
    order by merge_request_id asc, created_at asc, note_id asc

),

joined as (

    select
        merge_requests.merge_request_id,
        merge_requests.created_at,
        merge_requests.merged_at,
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
        coalesce(review_activity.is_self_approved, false) as is_self_approved
    from merge_requests
    left join commit_stats on merge_requests.merge_request_id = commit_stats.merge_request_id
    left join draft_transitions on merge_requests.merge_request_id = draft_transitions.merge_request_id
    left join review_activity on merge_requests.merge_request_id = review_activity.merge_request_id
    left join first_reviewers on merge_requests.merge_request_id = first_reviewers.merge_request_id

),

timeline as (

    select
        *,
        case when is_started_as_draft then first_ready_marker_at else created_at end as ready_at,
        merged_at is not null and (first_review_at is null or first_review_at > merged_at) as is_merged_without_review
    from joined

),

final as (

    select
        merge_request_id,
        created_at,
        first_commit_at,
        last_commit_at,
        commit_count,
        is_started_as_draft,
        ready_at,
        first_review_at,
        first_reviewer_username,
        first_approval_at,
        merged_at,
        is_merged_without_review,
        case when not is_merged_without_review then first_review_at end as pickup_ended_at,
        reviewer_count,
        approver_count,
        approvers,
        is_self_approved
    from timeline

)

select * from final
