{#- The watermark this incremental model saved after its last build (app.dbt_model_watermarks, migration 0017):
    the newest raw `ingested_at` it had read; -infinity when there is none (everything is new). Use inside
    `{% if is_incremental() %}`: entities with a source row ingested at or after it are recomputed. -#}
{% macro model_watermark() -%}
    (
        select coalesce(max(saved.watermark), cast('-infinity' as timestamptz))
        from app.dbt_model_watermarks as saved
        where saved.model_name = '{{ this.schema }}.{{ this.identifier }}'
    )
{%- endmacro %}
