{#- The seed status_category_map keyed for the status lookup (macro join_status_category): one row per
    (project_key, status_name_normalized), project_key '' for the rows that apply to every project. The only
    reader of the seed; every model and test that maps a status name imports this as `status_map`. -#}
with

status_category_map as (

    select * from {{ ref('status_category_map') }}

),

final as (

    select
        coalesce(project_key, '') || ':' || status_name_normalized as status_category_map_id,
        status_name_normalized,
        status_category,
        coalesce(project_key, '') as project_key
    from status_category_map

)

select * from final
