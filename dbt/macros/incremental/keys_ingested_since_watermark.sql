{#- The entities an incremental model keyed on app.dbt_model_watermarks recomputes because a document of theirs
    arrived: for each (relation, key column) pair, the key of the relation's rows ingested at or after the model's
    watermark (model_watermark()), as one column `changed_key` (a union: no duplicates). The relations are
    staging tables with an `ingested_at` index, already built in this run. Use inside `{% if is_incremental() %}`
    (and name the relations in `-- depends_on:` comments: refs inside it are not seen when dbt parses). -#}
{% macro keys_ingested_since_watermark(sources) -%}
    {%- for relation, key_column in sources %}
        select changed_rows.{{ key_column }} as changed_key
        from {{ relation }} as changed_rows
        where changed_rows.ingested_at >= {{ model_watermark() }}
        {% if not loop.last %}union{% endif %}
    {%- endfor %}
{%- endmacro %}
