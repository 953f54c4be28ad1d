{#- Incremental filter on a staging model's raw source (docs/operations.md, "Incremental builds"): true for the
    raw rows ingested at or after the newest `ingested_at` already in the model ({{ this }}), so a re-run
    re-reads the last load's rows (idempotent: delete+insert on the key) and never misses a later one. An empty
    model reads everything. Use inside `{% if is_incremental() %}`. -#}
{% macro ingested_since_last_build(column, watermark_column='ingested_at') -%}
    {{ column }} >= (
        select coalesce(max(built.{{ watermark_column }}), cast('-infinity' as timestamptz))
        from {{ this }} as built
    )
{%- endmacro %}
