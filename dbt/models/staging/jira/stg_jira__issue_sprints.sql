{#- The issue's current sprint field (var jira_sprint_field) unnested: one row per issue and sprint.
    Sprint ids may be JSON numbers or strings; legacy Jira Server returns strings like
    `com.atlassian.greenhopper.service.sprint.Sprint@1[id=37,rapidViewId=5,state=CLOSED,name=S1,...]`. -#}
with

issues as (

    select
        issue_id,
        sprints_json
    from {{ ref('stg_jira__issues') }}

),

unnested as (

    select
        issues.issue_id,
        sprint.doc,
        cast(sprint.sprint_seq as integer) as sprint_seq
    from issues
    cross join lateral jsonb_array_elements(issues.sprints_json) with ordinality as sprint (doc, sprint_seq)

),

renamed as (

    select
        issue_id,
        case
            when jsonb_typeof(doc) = 'object' then doc ->> 'id'
            else substring(doc #>> '{}' from 'id=([0-9]+)')
        end as sprint_id,
        case
            when jsonb_typeof(doc) = 'object' then doc ->> 'name'
            else substring(doc #>> '{}' from 'name=([^,\]]*)')
        end as sprint_name,
        lower(case
            when jsonb_typeof(doc) = 'object' then doc ->> 'state'
            else substring(doc #>> '{}' from 'state=([A-Za-z]+)')
        end) as sprint_state,
        case
            when jsonb_typeof(doc) = 'object' then coalesce(doc ->> 'boardId', doc ->> 'originBoardId')
            else substring(doc #>> '{}' from 'rapidViewId=([0-9]+)')
        end as board_id,
        case when jsonb_typeof(doc) = 'object' then {{ parse_jira_ts("doc ->> 'startDate'") }} end as started_at,
        case when jsonb_typeof(doc) = 'object' then {{ parse_jira_ts("doc ->> 'endDate'") }} end as planned_end_at,
        case when jsonb_typeof(doc) = 'object' then {{ parse_jira_ts("doc ->> 'completeDate'") }} end as completed_at,
        sprint_seq
    from unnested

),

final as (

    select
        issue_id || ':' || sprint_id as issue_sprint_id,
        *
    from renamed
    where sprint_id is not null

)

select * from final
