{#- Every `heimdall build`, newest first, and whether the marts are current. A view, not a table: when a build
    fails, the tables it could not refresh keep the previous build's rows, and this view (reading
    app.build_runs live) is what tells a reader so. -#}
{{ config(materialized='view') }}

with

runs as (

    select * from {{ ref('stg_app__build_runs') }}

),

last_success as (

    select max(started_at) as last_succeeded_at
    from runs
    where build_status = 'succeeded' and is_whole_project

),

final as (

    select
        runs.build_run_id,
        runs.started_at,
        runs.finished_at,
        runs.build_status,
        runs.is_whole_project,
        runs.as_of,
        runs.dbt_command,
        runs.models_built,
        runs.models_failed,
        runs.models_skipped,
        runs.tests_failed,
        runs.error_message,
        cardinality(runs.models_failed) + cardinality(runs.models_skipped) as stale_model_count,
        last_success.last_succeeded_at,
        runs.started_at = max(runs.started_at) over () as is_latest_run,
        (
            runs.build_status = 'succeeded' and runs.is_whole_project
            and runs.started_at = last_success.last_succeeded_at
        ) as is_latest_success
    from runs
    cross join last_success

)

select * from final
