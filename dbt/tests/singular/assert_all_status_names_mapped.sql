{#- Every status name seen in raw Jira data (current statuses and both sides of status changes) must be
    mapped by the status_category_map seed, for its project or for all projects. Fails with one row per
    unmapped (project, normalised name); the failing rows are stored (store_failures) so the offending
    names can be listed: select * from the test's audit table, or read `unmapped_status_names`. -#}
{{ config(severity='error', store_failures=true) }}

with

issues as (

    select * from {{ ref('stg_jira__issues') }}

),

changelog_items as (

    select * from {{ ref('stg_jira__changelog_items') }}

),

status_map as (

    select * from {{ ref('int_status_category_map_keyed') }}

),

seen as (

    select
        project_key,
        status_name
    from issues
    where status_name is not null

    union

    select
        issues.project_key,
        status_change.status_name
    from changelog_items
    inner join issues on changelog_items.issue_id = issues.issue_id
    cross join
        lateral (
            values (changelog_items.from_string), (changelog_items.to_string)
        ) as status_change (status_name)
    where
        (lower(changelog_items.field_name) = 'status' or changelog_items.field_id = 'status')
        and nullif(trim(status_change.status_name), '') is not null

),

unmapped as (

    select
        seen.project_key,
        {{ normalize_status_name('seen.status_name') }} as status_name_normalized,
        min(seen.status_name) as example_status_name
    from seen
    {{ join_status_category(normalize_status_name('seen.status_name'), 'seen.project_key') }}
    where {{ mapped_status_category() }} is null
    group by seen.project_key, {{ normalize_status_name('seen.status_name') }}

),

final as (

    select
        project_key,
        status_name_normalized,
        example_status_name,
        string_agg(example_status_name, ', ') over () as unmapped_status_names
    from unmapped

)

select * from final
