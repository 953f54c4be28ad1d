{#- Merge-request notes classified for review metrics: who wrote them (MR author, bot, someone else), what
    they are (approval, draft/ready transition, review comment, ...) and whether they came after the merge.
    Review activity = a non-system note or an approval by someone who is neither the MR author nor a bot, made
    at or before the merge (a note after the merge is not review: `is_after_merge`). -#}
{#- Incremental (delete+insert on merge_request_id) by merge request: a build reclassifies every note of the merge
    requests with a merge request or note document ingested at or after the model's watermark
    (app.dbt_model_watermarks), since a note's class reads its MR's author and merge time; rows whose note or MR
    left staging are deleted (notes are only deleted with their MR). Independent of as_of; a change to the seed
    bot_accounts or the var bot_username_pattern needs --full-refresh (docs/operations.md, "Incremental builds"). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='merge_request_id',
        on_schema_change='fail',
        indexes=[
            {'columns': ['note_id']},
            {'columns': ['merge_request_id']}
        ],
        post_hook=[
            "delete from {{ this }} as built where not exists (select 1 from {{ ref('stg_gitlab__mr_notes') }} as stg"
            " inner join {{ ref('stg_gitlab__merge_requests') }} as merge_requests"
            " on stg.merge_request_id = merge_requests.merge_request_id"
            " where stg.note_id = built.note_id and stg.merge_request_id = built.merge_request_id)",
            "{{ save_model_watermark([ref('stg_gitlab__merge_requests'), ref('stg_gitlab__mr_notes')]) }}"
        ]
    )
}}
with

{% if is_incremental() %}
    changed_merge_requests as (

        {{ keys_ingested_since_watermark([
            (ref('stg_gitlab__merge_requests'), 'merge_request_id'),
            (ref('stg_gitlab__mr_notes'), 'merge_request_id')
        ]) }}

        union

        -- the merge request a re-delivered note was in before
        select built.merge_request_id as changed_key
        from {{ this }} as built
        inner join {{ ref('stg_gitlab__mr_notes') }} as changed_notes on built.note_id = changed_notes.note_id
        where changed_notes.ingested_at >= {{ model_watermark() }}

    ),
{% endif %}

notes as (

    select * from {{ ref('stg_gitlab__mr_notes') }}
    {% if is_incremental() %}
        where merge_request_id in (select changed_merge_requests.changed_key from changed_merge_requests)
    {% endif %}

),

merge_requests as (

    select * from {{ ref('stg_gitlab__merge_requests') }}
    {% if is_incremental() %}
        where merge_request_id in (select changed_merge_requests.changed_key from changed_merge_requests)
    {% endif %}

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
