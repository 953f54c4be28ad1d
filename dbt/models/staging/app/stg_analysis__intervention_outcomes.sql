with

source as (

    select * from {{ source('analysis', 'intervention_outcomes') }}

),

final as (

    select * from source

)

select * from final
