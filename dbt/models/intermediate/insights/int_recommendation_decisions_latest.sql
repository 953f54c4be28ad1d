{#- The current decision of every recommendation: its latest row in app.recommendation_decisions (by decided_at,
    then decision id). Decisions are append-only, so this is the only place "current status" is defined. -#}
with

decisions as (

    select * from {{ ref('stg_app__recommendation_decisions') }}

),

final as (

    select distinct on (recommendation_id) *
    from decisions
    order by recommendation_id asc, decided_at desc, cast(decision_id as bigint) desc

)

select * from final
