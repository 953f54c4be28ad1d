{#- Non-negative hours from a to b, rounded to 4 decimals as numeric(14, 4); null when either end is null
    (unlike greatest(0, ...), which turns a null into 0). -#}
{% macro clamped_hours(start_expr, end_expr) -%}
    (case
        when ({{ start_expr }}) is not null and ({{ end_expr }}) is not null
            then cast(round(cast(greatest(0, {{ hours_between(start_expr, end_expr) }}) as numeric), 4) as numeric(14, 4))
    end)
{%- endmacro %}
