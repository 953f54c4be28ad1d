{#- Set-returning: every Jira issue key (var `jira_issue_key_pattern`) in a text, as one-element text arrays.
    A key must not be glued to letters or digits on either side (`xPAY-1` and `PAY-1a` are not keys).
    Use as `cross join lateral {{ issue_key_matches('t.text') }} as key_match (parts)` and `parts[1]`. -#}
{% macro issue_key_matches(text_expr) -%}
    {{ return(adapter.dispatch('issue_key_matches', 'heimdall')(text_expr)) }}
{%- endmacro %}

{% macro default__issue_key_matches(text_expr) -%}
    regexp_matches({{ text_expr }}, '(?<![A-Za-z0-9])({{ var("jira_issue_key_pattern") }})(?![A-Za-z0-9])', 'g')
{%- endmacro %}
