with

source as (

    select * from {{ source('jira', 'jira_sprints') }}

),

renamed as (

    select
        coalesce(payload ->> 'id', source_id) as sprint_id,
        payload ->> 'name' as sprint_name,
        lower(payload ->> 'state') as sprint_state,
        coalesce(payload ->> 'originBoardId', parent_id) as board_id,
        nullif(payload ->> 'goal', '') as sprint_goal,
        {{ parse_jira_ts("payload ->> 'startDate'") }} as started_at,
        {{ parse_jira_ts("payload ->> 'endDate'") }} as planned_end_at,
        {{ parse_jira_ts("payload ->> 'completeDate'") }} as completed_at,
        source as source_system,
        ingested_at

    from source

),

final as (

    select * from renamed

)

select * from final
