{#- Review rounds per merge request. A round starts with a review activity (see
    int_merge_request_notes_classified) that comes after a commit, or is the first review activity; further
    review activity with no commit in between belongs to the same round. MRs with no review activity have 0. -#}
{#- Incremental (delete+insert on merge_request_id) by merge request: a build recounts the merge requests with a
    merge request, note or commit document ingested at or after the model's watermark (app.dbt_model_watermarks)
    and those whose merge request left staging (their notes no longer count); a post-hook deletes the rows of
    merge requests left with no event. Independent of as_of (docs/operations.md, "Incremental builds"). -#}
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
            "delete from {{ this }} as built"
            " where not exists (select 1 from {{ ref('int_merge_request_notes_classified') }} as notes"
            " where notes.merge_request_id = built.merge_request_id and notes.is_review_activity"
            " and notes.created_at is not null)"
            " and not exists (select 1 from {{ ref('stg_gitlab__mr_commits') }} as mr_commits"
            " where mr_commits.merge_request_id = built.merge_request_id"
            " and coalesce(mr_commits.committed_at, mr_commits.authored_at) is not null)",
            "{{ save_model_watermark([ref('stg_gitlab__merge_requests'), ref('stg_gitlab__mr_notes'),"
            " ref('stg_gitlab__mr_commits')]) }}"
        ]
    )
}}
-- depends_on: {{ ref('stg_gitlab__merge_requests') }}
-- depends_on: {{ ref('stg_gitlab__mr_notes') }}
with

{% if is_incremental() %}
    changed_merge_requests as (

        {{ keys_ingested_since_watermark([
            (ref('stg_gitlab__merge_requests'), 'merge_request_id'),
            (ref('stg_gitlab__mr_notes'), 'merge_request_id'),
            (ref('stg_gitlab__mr_commits'), 'merge_request_id')
        ]) }}

        union

        select built.merge_request_id as changed_key
        from {{ this }} as built
        where not exists (
            select 1 from {{ ref('stg_gitlab__merge_requests') }} as merge_requests
            where merge_requests.merge_request_id = built.merge_request_id
        )

    ),
{% endif %}

review_notes as (

    select * from {{ ref('int_merge_request_notes_classified') }}
    {% if is_incremental() %}
        where
            is_review_activity
            and merge_request_id in (select changed_merge_requests.changed_key from changed_merge_requests)
    {% else %}
        where is_review_activity
    {% endif %}

),

mr_commits as (

    select * from {{ ref('stg_gitlab__mr_commits') }}
    {% if is_incremental() %}
        where merge_request_id in (select changed_merge_requests.changed_key from changed_merge_requests)
    {% endif %}

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
