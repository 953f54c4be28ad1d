{#- Ordered-set percentile (continuous) of expr, e.g. percentile_of('x', 0.85); an aggregate. -#}
{% macro percentile_of(expr, fraction) -%}
    {{ return(adapter.dispatch('percentile_of', 'heimdall')(expr, fraction)) }}
{%- endmacro %}

{% macro default__percentile_of(expr, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expr }})
{%- endmacro %}

{#- numeric(14, 4) rounding used by every metric column. -#}
{% macro metric_round(expr) -%}
    cast(round(cast({{ expr }} as numeric), 4) as numeric(14, 4))
{%- endmacro %}

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
