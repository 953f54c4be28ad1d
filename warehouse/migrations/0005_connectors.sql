-- Live connectors and webhooks: sync watermarks, verbatim webhook deliveries, rejected deliveries, deletions.

create table if not exists app.sync_state (
    source text not null,
    scope text not null,
    watermark timestamptz,
    last_run_started_at timestamptz,
    last_run_finished_at timestamptz,
    last_status text check (last_status in ('running', 'succeeded', 'failed')),
    last_error text,
    documents_loaded bigint not null default 0,
    updated_at timestamptz not null default now(),
    primary key (source, scope)
);

create table if not exists raw.webhook_events (
    webhook_event_id bigserial primary key,
    source text not null check (source in ('jira', 'gitlab')),
    delivery_id text not null,
    event_type text,
    headers jsonb not null,
    payload jsonb not null,
    received_at timestamptz not null default now(),
    unique (source, delivery_id)
);
create index if not exists webhook_events_received_at_idx on raw.webhook_events (received_at);

create table if not exists app.webhook_rejections (
    rejection_id bigserial primary key,
    source text not null,
    http_status integer not null,
    reason text not null,
    delivery_id text,
    remote_addr text,
    received_at timestamptz not null default now()
);

create table if not exists app.deleted_documents (
    table_name text not null,
    source_id text not null,
    detected_by text not null,
    payload jsonb,
    deleted_at timestamptz not null default now(),
    primary key (table_name, source_id)
);
