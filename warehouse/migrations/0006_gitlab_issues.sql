-- GitLab issues (incidents: issue_type = 'incident'), stored like every raw document (docs/raw-layer.md).

create table if not exists raw.gitlab_issues (
    source_id text primary key,
    parent_id text,
    updated_at timestamptz,
    payload jsonb not null,
    source text not null,
    batch_id bigint not null references app.load_batches (batch_id),
    ingested_at timestamptz not null default now()
);
create index if not exists gitlab_issues_updated_at_idx on raw.gitlab_issues (updated_at);
create index if not exists gitlab_issues_parent_id_idx on raw.gitlab_issues (parent_id);
