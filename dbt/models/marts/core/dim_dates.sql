{#- Calendar spine (UTC days) over the data window: from the earliest Jira issue creation, GitLab merge request
    creation or successful production deployment to the as_of day. Every daily and weekly mart uses it. -#}
with

issues as (

    select * from {{ ref('stg_jira__issues') }}

),

merge_requests as (

    select * from {{ ref('stg_gitlab__merge_requests') }}

),

deployments as (

    select * from {{ ref('int_deployments_classified') }}

),

production_deployments as (

    select * from deployments
    where is_successful_production

),

bounds as (

    select
        least(
            coalesce((select min({{ utc_date('created_at') }}) from issues), {{ utc_date(as_of_ts()) }}),
            coalesce((select min({{ utc_date('created_at') }}) from merge_requests), {{ utc_date(as_of_ts()) }}),
            coalesce(
                (select min({{ utc_date('deployed_at') }}) from production_deployments),
                {{ utc_date(as_of_ts()) }}
            ),
            {{ utc_date(as_of_ts()) }}
        ) as first_day,
        {{ utc_date(as_of_ts()) }} as last_day

),

days as (

    {{ day_series('(select first_day from bounds)', '(select last_day from bounds)') }}

),

final as (

    select
        date_day,
        cast(date_trunc('week', date_day) as date) as week_start_date,
        cast(date_trunc('month', date_day) as date) as month_start_date,
        cast(extract(year from date_day) as integer) as year_number,
        cast(extract(isodow from date_day) as integer) as iso_day_of_week,
        extract(isodow from date_day) in (6, 7) as is_weekend,
        date_day = {{ utc_date(as_of_ts()) }} as is_as_of_day
    from days

)

select * from final
