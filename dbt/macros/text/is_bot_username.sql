{#- True when a GitLab username is a bot: listed in the seed `bot_accounts` (case-insensitive) or matching
    the var `bot_username_pattern`. Null usernames are not bots. -#}
{% macro is_bot_username(username_expr) -%}
    {{ return(adapter.dispatch('is_bot_username', 'heimdall')(username_expr)) }}
{%- endmacro %}

{% macro default__is_bot_username(username_expr) -%}
    coalesce(
        lower({{ username_expr }}) in (select lower(bot_accounts.username) from {{ ref('bot_accounts') }} as bot_accounts)
        or {{ username_expr }} ~* '{{ var("bot_username_pattern") }}',
        false
    )
{%- endmacro %}
