{#- Incremental (delete+insert on issue_id): a run rebuilds every interval of the issues whose raw
    issue document or changelog histories were ingested at or after the newest `source_ingested_at`
    already in the table, so out-of-order or late changelog deliveries re-sequence the whole issue.
    Open intervals end at as_of: the post-hook moves the end of every still-current interval to this
    run's as_of (writing only the rows whose end moved), so untouched issues stay correct too; a second
    post-hook removes the intervals of issues that left raw (deleted at the source, moved to
    app.deleted_documents). A status-seed change needs --full-refresh. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='issue_id',
        on_schema_change='fail',
        indexes=[
            {'columns': ['issue_id', 'interval_seq']},
            {'columns': ['team_id', 'started_at']}
        ],
        post_hook=[
            "update {{ this }} set ended_at = greatest(started_at, {{ as_of_ts() }}),"
            " hours = round(cast({{ hours_between('started_at', 'greatest(started_at, ' ~ as_of_ts() ~ ')') }} as numeric), 4)"
            " where is_current and ended_at is distinct from greatest(started_at, {{ as_of_ts() }})",
            "delete from {{ this }} where issue_id not in"
            " (select stg.issue_id from {{ ref('stg_jira__issues') }} as stg)"
        ]
    )
}}

with

intervals as (

    select * from {{ ref('int_status_intervals_derived') }}

),

{% if is_incremental() %}
    last_processed as (

        select coalesce(max(source_ingested_at), cast('1900-01-01' as timestamptz)) as max_source_ingested_at
        from {{ this }}

    ),

    changed_issues as (

        select intervals.issue_id
        from intervals
        cross join last_processed
        where intervals.source_ingested_at >= last_processed.max_source_ingested_at
        group by intervals.issue_id

    ),
{% endif %}

final as (

    select
        intervals.interval_id,
        intervals.issue_id,
        intervals.team_id,
        intervals.interval_seq,
        intervals.status,
        intervals.status_category,
        intervals.started_at,
        intervals.ended_at,
        intervals.hours,
        intervals.is_current,
        intervals.source_ingested_at
    from intervals
    {% if is_incremental() %}
        where intervals.issue_id in (select changed_issues.issue_id from changed_issues)
    {% endif %}

)

select * from final
