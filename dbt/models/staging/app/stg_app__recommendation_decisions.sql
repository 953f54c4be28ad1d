with

source as (

    select * from {{ source('app', 'recommendation_decisions') }}

),

renamed as (

    select
        cast(decision_id as text) as decision_id,
        recommendation_id,
        decision,
        decided_by,
        decided_at,
        note as decision_note,
        intervention_start_date,
        team_id,
        rule_id,
        metric_name,
        title
    from source

),

final as (

    select * from renamed

)

select * from final
