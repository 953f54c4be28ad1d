{#- Review rounds per merge request. A round starts with a review activity (see
    int_merge_request_notes_classified) that comes after a commit, or is the first review activity; further
    review activity with no commit in between belongs to the same round. MRs with no review activity have 0. -#}
{#- Table, rebuilt whole every build (docs/operations.md, "Incremental builds"): read by fct_merge_requests; computed once instead of once per reader and per test. -#}
{{ config(materialized='table') }}
with

review_notes as (

    select * from {{ ref('int_merge_request_notes_classified') }}
    where is_review_activity

),

mr_commits as (

    select * from {{ ref('stg_gitlab__mr_commits') }}

),

events as (

    select
        merge_request_id,
        created_at as event_at,
        'review' as event_type
    from review_notes
    union all
    select
        merge_request_id,
        coalesce(committed_at, authored_at) as event_at,
        'commit' as event_type
    from mr_commits

),

sequenced as (

    select
        merge_request_id,
        event_type,
        lag(event_type) over (partition by merge_request_id order by event_at, event_type) as previous_event_type
    from events
    where event_at is not null

),

final as (

    select
        merge_request_id,
        count(*) filter (
            where event_type = 'review' and coalesce(previous_event_type, 'commit') = 'commit'
        ) as review_rounds
    from sequenced
    group by merge_request_id

)

select * from final
