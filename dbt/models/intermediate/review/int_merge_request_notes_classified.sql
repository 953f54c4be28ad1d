{#- Merge-request notes classified for review metrics: who wrote them (MR author, bot, someone else), what
    they are (approval, draft/ready transition, review comment, ...) and whether they came after the merge.
    Review activity = a non-system note or an approval by someone who is neither the MR author nor a bot, made
    at or before the merge (a note after the merge is not review: `is_after_merge`). -#}
{#- Table, rebuilt whole every build (docs/operations.md, "Incremental builds"): read by the milestones and the review rounds; computed once instead of once per reader and per test. -#}
{{ config(materialized='table') }}
with

notes as (

    select * from {{ ref('stg_gitlab__mr_notes') }}

),

merge_requests as (

    select * from {{ ref('stg_gitlab__merge_requests') }}

),

flagged as (

    select
        notes.note_id,
        notes.merge_request_id,
        notes.author_username,
        notes.created_at,
        notes.is_system,
        notes.is_approval,
        {{ is_bot_username('notes.author_username') }} as is_bot_author,
        coalesce(lower(notes.author_username) = lower(merge_requests.author_username), false) as is_by_mr_author,
        coalesce(notes.created_at > merge_requests.merged_at, false) as is_after_merge,
        notes.is_system
        and notes.body ~* '^\s*(marked (this merge request )?as \*\*ready\*\*|unmarked (this merge request )?as a \*\*work in progress\*\*)'
            as is_ready_marker,
        notes.is_system
        and notes.body ~* '^\s*marked (this merge request )?as (a )?\*\*(draft|work in progress)\*\*'
            as is_draft_marker
    from notes
    inner join merge_requests on notes.merge_request_id = merge_requests.merge_request_id

),

classified as (

    select
        *,
        case
            when is_approval and is_by_mr_author then 'self_approval'
            when is_approval and is_bot_author then 'bot_approval'
            when is_approval then 'approval'
            when is_ready_marker then 'ready_marker'
            when is_draft_marker then 'draft_marker'
            when is_system then 'system'
            when is_bot_author then 'bot_comment'
            when is_by_mr_author then 'author_comment'
            else 'review_comment'
        end as note_kind
    from flagged

),

final as (

    select
        note_id,
        merge_request_id,
        author_username,
        created_at,
        note_kind,
        is_system,
        is_bot_author,
        is_by_mr_author,
        is_after_merge,
        note_kind in ('approval', 'review_comment') and not is_after_merge as is_review_activity,
        note_kind in ('approval', 'self_approval', 'bot_approval') and not is_after_merge as is_any_approval
    from classified

)

select * from final
