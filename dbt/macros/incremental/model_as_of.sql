{#- The as_of this incremental model's last build saved (save_model_watermark(..., keep_as_of=true); migration
    0022), null when there is none (the model then recomputes every entity). Use inside
    `{% if is_incremental() %}`. -#}
{% macro model_as_of() -%}
    (
        select max(saved.as_of)
        from app.dbt_model_watermarks as saved
        where saved.model_name = '{{ this.schema }}.{{ this.identifier }}'
    )
{%- endmacro %}
