{#- Every Jira issue key found in a merge request's title, source branch, description or commit messages:
    one row per (merge request, key, where it was found). Keys are matched case-insensitively and upper-cased;
    keys whose project is not a loaded Jira project are dropped (`fix-2`, `sha-256`, ...). -#}
{#- Incremental (delete+insert on merge_request_id) by merge request: a build searches again the texts of the merge
    requests with a merge request or commit document ingested at or after the model's watermark
    (app.dbt_model_watermarks), so a title edit adds or removes its keys; a Jira project seen for the first time
    (every issue of it ingested since the watermark) makes keys of any merge request count, so every merge
    request is searched again; rows of merge requests that left staging, or of projects with no loaded issue
    any more, are deleted. Independent of as_of; a change of the var jira_issue_key_pattern needs
    --full-refresh (docs/operations.md, "Incremental builds"). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='merge_request_id',
        on_schema_change='fail',
        indexes=[
            {'columns': ['merge_request_id']},
            {'columns': ['issue_key']}
        ],
        post_hook=[
            "delete from {{ this }} as built where not exists (select 1 from {{ ref('stg_gitlab__merge_requests') }}"
            " as stg where stg.merge_request_id = built.merge_request_id)",
            "delete from {{ this }} as built where regexp_replace(built.issue_key, '-[0-9]+$', '') not in"
            " (select upper(stg.project_key) from {{ ref('stg_jira__issues') }} as stg"
            " where stg.project_key is not null)",
            "{{ save_model_watermark([ref('stg_gitlab__merge_requests'), ref('stg_gitlab__mr_commits'),"
            " ref('stg_jira__issues')]) }}"
        ]
    )
}}
with

{% if is_incremental() %}
    new_projects as (

        select upper(project_key) as project_key
        from {{ ref('stg_jira__issues') }}
        where project_key is not null
        group by upper(project_key)
        having min(ingested_at) >= {{ model_watermark() }}

    ),

    changed_merge_requests as (

        {{ keys_ingested_since_watermark([
            (ref('stg_gitlab__merge_requests'), 'merge_request_id'),
            (ref('stg_gitlab__mr_commits'), 'merge_request_id')
        ]) }}

        union

        select every_merge_request.merge_request_id as changed_key
        from {{ ref('stg_gitlab__merge_requests') }} as every_merge_request
        where exists (select 1 from new_projects)

    ),
{% endif %}

merge_requests as (

    select * from {{ ref('stg_gitlab__merge_requests') }}
    {% if is_incremental() %}
        where merge_request_id in (select changed_merge_requests.changed_key from changed_merge_requests)
    {% endif %}

),

mr_commits as (

    select * from {{ ref('stg_gitlab__mr_commits') }}
    {% if is_incremental() %}
        where merge_request_id in (select changed_merge_requests.changed_key from changed_merge_requests)
    {% endif %}

),

jira_issues as (

    select * from {{ ref('stg_jira__issues') }}

),

known_projects as (

    select distinct upper(project_key) as project_key
    from jira_issues
    where project_key is not null

),

searched_texts as (

    select
        merge_request_id,
        'title' as found_in,
        title as searched_text
    from merge_requests
    union all
    select
        merge_request_id,
        'branch' as found_in,
        source_branch as searched_text
    from merge_requests
    union all
    select
        merge_request_id,
        'description' as found_in,
        description as searched_text
    from merge_requests
    union all
    select
        mr_commits.merge_request_id,
        'commit_message' as found_in,
        mr_commits.message as searched_text
    from mr_commits
    inner join merge_requests on mr_commits.merge_request_id = merge_requests.merge_request_id

),

key_matches as (

    select
        searched_texts.merge_request_id,
        searched_texts.found_in,
        upper(key_match.parts[1]) as issue_key
    from searched_texts
    cross join lateral {{ issue_key_matches('searched_texts.searched_text') }} as key_match (parts)
    where searched_texts.searched_text is not null

),

known_keys as (

    select distinct
        key_matches.merge_request_id,
        key_matches.issue_key,
        key_matches.found_in
    from key_matches
    inner join known_projects
        on regexp_replace(key_matches.issue_key, '-[0-9]+$', '') = known_projects.project_key

),

final as (

    select
        merge_request_id || ':' || issue_key || ':' || found_in as merge_request_issue_key_id,
        merge_request_id,
        issue_key,
        found_in,
        case found_in
            when 'title' then 1
            when 'branch' then 1
            when 'description' then 2
            else 3
        end as confidence_rank
    from known_keys

)

select * from final
