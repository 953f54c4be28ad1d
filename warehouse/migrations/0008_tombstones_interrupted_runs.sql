-- Deletions are tombstones the loader respects, and runs killed mid-way are marked interrupted
-- (docs/raw-layer.md).

-- A row of app.deleted_documents is a tombstone while restored_at is null. A row deleted in its own right
-- (parent_table null) blocks every document of its (table_name, source_id) not newer than deleted_at, and
-- every child document whose parent it is. A row archived because its parent was deleted (a Jira issue's
-- change histories) names that parent in (parent_table, parent_id) and is restored with it.
alter table app.deleted_documents add column if not exists parent_table text;
alter table app.deleted_documents add column if not exists parent_id text;
alter table app.deleted_documents add column if not exists restored_at timestamptz;
create index if not exists deleted_documents_parent_idx on app.deleted_documents (parent_table, parent_id);

-- Which database session is loading a batch (its server process and that process's start time): a batch
-- still 'running' whose session no longer exists was interrupted.
alter table app.load_batches add column if not exists backend_pid integer;
alter table app.load_batches add column if not exists backend_started timestamptz;
alter table app.load_batches add column if not exists rows_tombstoned integer not null default 0;
alter table app.load_batches drop constraint if exists load_batches_status_check;
alter table app.load_batches add constraint load_batches_status_check
    check (status in ('running', 'succeeded', 'failed', 'interrupted'));
create index if not exists load_batches_running_idx on app.load_batches (batch_id) where status = 'running';

-- The run that owns a scope: an id, the client (host and process id) and its database session.
alter table app.sync_state add column if not exists run_id text;
alter table app.sync_state add column if not exists run_client text;
alter table app.sync_state add column if not exists run_backend_pid integer;
alter table app.sync_state add column if not exists run_backend_started timestamptz;
alter table app.sync_state drop constraint if exists sync_state_last_status_check;
alter table app.sync_state add constraint sync_state_last_status_check
    check (last_status in ('running', 'succeeded', 'failed', 'interrupted'));
