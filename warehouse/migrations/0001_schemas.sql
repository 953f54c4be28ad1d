-- Heimdall warehouse: base schemas, load bookkeeping, dead letters, raw source documents.
create schema if not exists raw;
create schema if not exists app;

create table if not exists app.load_batches (
    batch_id bigserial primary key,
    source text not null,
    table_name text not null,
    status text not null default 'running'
        check (status in ('running', 'succeeded', 'failed')),
    rows_received integer not null default 0,
    rows_loaded integer not null default 0,
    rows_unchanged integer not null default 0,
    rows_rejected integer not null default 0,
    error text,
    started_at timestamptz not null default now(),
    finished_at timestamptz
);

create table if not exists app.dead_letters (
    dead_letter_id bigserial primary key,
    batch_id bigint references app.load_batches (batch_id),
    source text not null,
    table_name text not null,
    reason text not null,
    document text not null,
    received_at timestamptz not null default now()
);
