{#- When each source was last loaded (the loader's or a connector sync's ingested_at) and how many documents it
    holds: the data freshness the weekly report prints in its Method section (the report reads marts only). One
    row per source system and document kind. -#}
{%- set documents = [
    ('jira', 'issues', 'stg_jira__issues'),
    ('jira', 'changelog items', 'stg_jira__changelog_items'),
    ('jira', 'sprints', 'stg_jira__sprints'),
    ('gitlab', 'projects', 'stg_gitlab__projects'),
    ('gitlab', 'merge requests', 'stg_gitlab__merge_requests'),
    ('gitlab', 'pipelines', 'stg_gitlab__pipelines'),
    ('gitlab', 'jobs', 'stg_gitlab__jobs'),
    ('gitlab', 'deployments', 'stg_gitlab__deployments'),
] -%}
with

loaded as (

    {% for source_system, document_kind, model in documents %}
        select
            '{{ source_system }}' as source_system,
            '{{ document_kind }}' as document_kind,
            {{ loop.index }} as display_order,
            max(ingested_at) as last_loaded_at,
            count(*) as document_count
        from {{ ref(model) }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        source_system || ':' || document_kind as source_freshness_id,
        source_system,
        document_kind,
        display_order,
        last_loaded_at,
        document_count
    from loaded

)

select * from final
