{{ config(materialized='view') }}

with

source as (

    select * from {{ source('app', 'build_runs') }}

),

renamed as (

    select
        build_run_id,
        started_at,
        finished_at,
        status as build_status,
        is_whole_project,
        as_of,
        dbt_command,
        models_built,
        models_failed,
        models_skipped,
        tests_failed,
        error as error_message
    from source

),

final as (

    select * from renamed

)

select * from final
