-- Raw source documents: one verbatim document per row (see docs/raw-layer.md).

create table if not exists raw.jira_issues (
    source_id text primary key,
    parent_id text,
    updated_at timestamptz,
    payload jsonb not null,
    source text not null,
    batch_id bigint not null references app.load_batches (batch_id),
    ingested_at timestamptz not null default now()
);
create index if not exists jira_issues_updated_at_idx on raw.jira_issues (updated_at);
create index if not exists jira_issues_parent_id_idx on raw.jira_issues (parent_id);

create table if not exists raw.jira_changelogs (
    source_id text primary key,
    parent_id text,
    updated_at timestamptz,
    payload jsonb not null,
    source text not null,
    batch_id bigint not null references app.load_batches (batch_id),
    ingested_at timestamptz not null default now()
);
create index if not exists jira_changelogs_updated_at_idx on raw.jira_changelogs (updated_at);
create index if not exists jira_changelogs_parent_id_idx on raw.jira_changelogs (parent_id);

create table if not exists raw.jira_sprints (
    source_id text primary key,
    parent_id text,
    updated_at timestamptz,
    payload jsonb not null,
    source text not null,
    batch_id bigint not null references app.load_batches (batch_id),
    ingested_at timestamptz not null default now()
);
create index if not exists jira_sprints_updated_at_idx on raw.jira_sprints (updated_at);
create index if not exists jira_sprints_parent_id_idx on raw.jira_sprints (parent_id);

create table if not exists raw.gitlab_projects (
    source_id text primary key,
    parent_id text,
    updated_at timestamptz,
    payload jsonb not null,
    source text not null,
    batch_id bigint not null references app.load_batches (batch_id),
    ingested_at timestamptz not null default now()
);
create index if not exists gitlab_projects_updated_at_idx on raw.gitlab_projects (updated_at);
create index if not exists gitlab_projects_parent_id_idx on raw.gitlab_projects (parent_id);

create table if not exists raw.gitlab_merge_requests (
    source_id text primary key,
    parent_id text,
    updated_at timestamptz,
    payload jsonb not null,
    source text not null,
    batch_id bigint not null references app.load_batches (batch_id),
    ingested_at timestamptz not null default now()
);
create index if not exists gitlab_merge_requests_updated_at_idx on raw.gitlab_merge_requests (updated_at);
create index if not exists gitlab_merge_requests_parent_id_idx on raw.gitlab_merge_requests (parent_id);

create table if not exists raw.gitlab_mr_notes (
    source_id text primary key,
    parent_id text,
    updated_at timestamptz,
    payload jsonb not null,
    source text not null,
    batch_id bigint not null references app.load_batches (batch_id),
    ingested_at timestamptz not null default now()
);
create index if not exists gitlab_mr_notes_updated_at_idx on raw.gitlab_mr_notes (updated_at);
create index if not exists gitlab_mr_notes_parent_id_idx on raw.gitlab_mr_notes (parent_id);

create table if not exists raw.gitlab_mr_commits (
    source_id text primary key,
    parent_id text,
    updated_at timestamptz,
    payload jsonb not null,
    source text not null,
    batch_id bigint not null references app.load_batches (batch_id),
    ingested_at timestamptz not null default now()
);
create index if not exists gitlab_mr_commits_updated_at_idx on raw.gitlab_mr_commits (updated_at);
create index if not exists gitlab_mr_commits_parent_id_idx on raw.gitlab_mr_commits (parent_id);

create table if not exists raw.gitlab_pipelines (
    source_id text primary key,
    parent_id text,
    updated_at timestamptz,
    payload jsonb not null,
    source text not null,
    batch_id bigint not null references app.load_batches (batch_id),
    ingested_at timestamptz not null default now()
);
create index if not exists gitlab_pipelines_updated_at_idx on raw.gitlab_pipelines (updated_at);
create index if not exists gitlab_pipelines_parent_id_idx on raw.gitlab_pipelines (parent_id);

create table if not exists raw.gitlab_jobs (
    source_id text primary key,
    parent_id text,
    updated_at timestamptz,
    payload jsonb not null,
    source text not null,
    batch_id bigint not null references app.load_batches (batch_id),
    ingested_at timestamptz not null default now()
);
create index if not exists gitlab_jobs_updated_at_idx on raw.gitlab_jobs (updated_at);
create index if not exists gitlab_jobs_parent_id_idx on raw.gitlab_jobs (parent_id);

create table if not exists raw.gitlab_deployments (
    source_id text primary key,
    parent_id text,
    updated_at timestamptz,
    payload jsonb not null,
    source text not null,
    batch_id bigint not null references app.load_batches (batch_id),
    ingested_at timestamptz not null default now()
);
create index if not exists gitlab_deployments_updated_at_idx on raw.gitlab_deployments (updated_at);
create index if not exists gitlab_deployments_parent_id_idx on raw.gitlab_deployments (parent_id);

create table if not exists raw.gitlab_deployment_merge_requests (
    source_id text primary key,
    parent_id text,
    updated_at timestamptz,
    payload jsonb not null,
    source text not null,
    batch_id bigint not null references app.load_batches (batch_id),
    ingested_at timestamptz not null default now()
);
create index if not exists gitlab_deployment_merge_requests_updated_at_idx on raw.gitlab_deployment_merge_requests (updated_at);
create index if not exists gitlab_deployment_merge_requests_parent_id_idx on raw.gitlab_deployment_merge_requests (parent_id);
