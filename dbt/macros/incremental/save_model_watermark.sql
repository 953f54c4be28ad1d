{#- Post-hook of an incremental model keyed on app.dbt_model_watermarks: saves the newest `ingested_at` of the
    given relations (the staging inputs this build read, already built and fixed for this run) as the model's
    watermark, and with keep_as_of this build's as_of (migration 0022: read back by model_as_of()). Runs in the
    model's transaction, so a failed build keeps the previous watermark. -#}
{% macro save_model_watermark(relations, keep_as_of=false) -%}
    insert into app.dbt_model_watermarks as saved (model_name, watermark{{ ', as_of' if keep_as_of }})
    select
        '{{ this.schema }}.{{ this.identifier }}',
        coalesce(greatest(
            {%- for relation in relations %}
                (select max(ingested_at) from {{ relation }}){{ ',' if not loop.last }}
            {%- endfor %}
        ), cast('-infinity' as timestamptz)){{ ',' if keep_as_of }}
        {% if keep_as_of %}{{ as_of_ts() }}{% endif %}
    on conflict (model_name) do update
        set watermark = excluded.watermark, {{ 'as_of = excluded.as_of, ' if keep_as_of }}saved_at = now()
{%- endmacro %}
