{#- Post-hook of an incremental staging model: removes every row whose raw document is gone (deleted at the
    source: app.deleted_documents; purged) or was re-ingested after the row was built (its new version is in the
    model under the same key unless it no longer yields this row, e.g. a change history re-delivered with fewer
    items). After it, the model holds exactly the rows a full refresh would build from the raw rows present. -#}
{% macro delete_stale_staging_rows(source_relation, key_column) -%}
    delete from {{ this }} as built
    where not exists (
        select 1
        from {{ source_relation }} as raw_rows
        where raw_rows.source_id = built.{{ key_column }} and raw_rows.ingested_at = built.ingested_at
    )
{%- endmacro %}
