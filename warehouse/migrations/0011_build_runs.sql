-- Every `heimdall build`: when it ran, with which as_of, and what dbt built, failed or skipped. A failed build
-- leaves the previous marts in place; this table (published live by the view marts.rpt_build_runs) is how a
-- reader tells that the marts are stale.
create table if not exists app.build_runs (
    build_run_id bigserial primary key,
    started_at timestamptz not null default clock_timestamp(),
    finished_at timestamptz,
    status text not null default 'running' check (status in ('running', 'succeeded', 'failed', 'interrupted')),
    is_whole_project boolean not null,
    as_of timestamptz,
    dbt_command text not null,
    models_built text[] not null default '{}',
    models_failed text[] not null default '{}',
    models_skipped text[] not null default '{}',
    tests_failed text[] not null default '{}',
    error text
);
create index if not exists build_runs_started_at_idx on app.build_runs (started_at);
