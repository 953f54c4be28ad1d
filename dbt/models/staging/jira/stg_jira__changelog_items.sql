{#- Incremental (delete+insert on history_id): JSON is parsed once per raw document version, not by every
    consumer; a build reads only the raw rows ingested since the last one and the post-hook drops rows whose
    document left raw or was re-ingested (docs/operations.md, "Incremental builds"). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='history_id',
        on_schema_change='fail',
        indexes=[
            {'columns': ['history_id']},
            {'columns': ['ingested_at']},
            {'columns': ['issue_id']},
            {'columns': ['changed_at']}
        ],
        post_hook="{{ delete_stale_staging_rows(source('jira', 'jira_changelogs'), 'history_id') }}"
    )
}}

with

source as (

    select * from {{ source('jira', 'jira_changelogs') }}

),

histories as (

    select
        source_id as history_id,
        coalesce(parent_id, payload ->> 'issueId') as issue_id,
        payload -> 'author' ->> 'accountId' as author_account_id,
        {{ parse_jira_ts("payload ->> 'created'") }} as changed_at,
        case
            when jsonb_typeof(payload -> 'items') = 'array' then payload -> 'items'
            else cast('[]' as jsonb)
        end as items,
        source as source_system,
        ingested_at

    from source

    {% if is_incremental() %}

        where {{ ingested_since_last_build('source.ingested_at') }}

    {% endif %}

),

unnested as (

    select
        histories.history_id || ':' || cast(item.item_seq as text) as changelog_item_id,
        histories.history_id,
        cast(item.item_seq as integer) as item_seq,
        histories.issue_id,
        histories.author_account_id,
        histories.changed_at,
        item.doc ->> 'field' as field_name,
        item.doc ->> 'fieldId' as field_id,
        item.doc ->> 'fieldtype' as field_type,
        item.doc ->> 'from' as from_value,
        item.doc ->> 'fromString' as from_string,
        item.doc ->> 'to' as to_value,
        item.doc ->> 'toString' as to_string,
        histories.source_system,
        histories.ingested_at

    from histories
    cross join lateral jsonb_array_elements(histories.items) with ordinality as item (doc, item_seq)

),

final as (

    select * from unnested

)

select * from final
