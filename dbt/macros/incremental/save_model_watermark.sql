{#- Post-hook of an incremental model keyed on app.dbt_model_watermarks: saves the newest `ingested_at` of the
    given relations (the staging inputs this build read, already built and fixed for this run) as the model's
    watermark. Runs in the model's transaction, so a failed build keeps the previous watermark. -#}
{% macro save_model_watermark(relations) -%}
    insert into app.dbt_model_watermarks as saved (model_name, watermark)
    select
        '{{ this.schema }}.{{ this.identifier }}',
        coalesce(greatest(
            {%- for relation in relations %}
                (select max(ingested_at) from {{ relation }}){{ ',' if not loop.last }}
            {%- endfor %}
        ), cast('-infinity' as timestamptz))
    on conflict (model_name) do update set watermark = excluded.watermark, saved_at = now()
{%- endmacro %}
