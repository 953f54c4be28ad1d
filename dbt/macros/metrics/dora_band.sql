{#- The DORA band of a value: the first row of the seed dora_performance_bands (CTE `bands`), best first, whose
    comparison with its threshold holds. -#}
{% macro dora_band(dora_key, value_expr) -%}
    (
        select bands.band from bands
        where
            bands.dora_key = '{{ dora_key }}'
            and (
                (bands.comparison = '>=' and {{ value_expr }} >= bands.threshold)
                or (bands.comparison = '<=' and {{ value_expr }} <= bands.threshold)
            )
        order by bands.band_order limit 1
    )
{%- endmacro %}
