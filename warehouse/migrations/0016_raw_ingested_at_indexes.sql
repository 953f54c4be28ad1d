-- Incremental dbt builds read only the raw documents ingested since the model's last build
-- (docs/operations.md, "Incremental builds"): an index on ingested_at per raw table keeps that a range scan.
create index if not exists jira_issues_ingested_at_idx on raw.jira_issues (ingested_at);
create index if not exists jira_changelogs_ingested_at_idx on raw.jira_changelogs (ingested_at);
create index if not exists jira_sprints_ingested_at_idx on raw.jira_sprints (ingested_at);
create index if not exists gitlab_projects_ingested_at_idx on raw.gitlab_projects (ingested_at);
create index if not exists gitlab_merge_requests_ingested_at_idx on raw.gitlab_merge_requests (ingested_at);
create index if not exists gitlab_mr_notes_ingested_at_idx on raw.gitlab_mr_notes (ingested_at);
create index if not exists gitlab_mr_commits_ingested_at_idx on raw.gitlab_mr_commits (ingested_at);
create index if not exists gitlab_pipelines_ingested_at_idx on raw.gitlab_pipelines (ingested_at);
create index if not exists gitlab_jobs_ingested_at_idx on raw.gitlab_jobs (ingested_at);
create index if not exists gitlab_deployments_ingested_at_idx on raw.gitlab_deployments (ingested_at);
create index if not exists gitlab_deployment_merge_requests_ingested_at_idx
    on raw.gitlab_deployment_merge_requests (ingested_at);
create index if not exists gitlab_issues_ingested_at_idx on raw.gitlab_issues (ingested_at);
