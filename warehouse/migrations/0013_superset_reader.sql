-- heimdall_reader: what dashboards (Superset) may do in the warehouse, and nothing more.
--
-- * SELECT on the tables and views of `marts` only (now and every table dbt creates later): no `raw`, no `app`,
--   no `analysis`, `staging`, `intermediate` or `seeds`; no INSERT/UPDATE/DELETE/TRUNCATE, no DDL.
-- * NOLOGIN and member of no other role: nobody signs in as it directly, and `set role` from it reaches nothing.
--   `heimdall superset provision` creates the login role Superset uses (HEIMDALL_SUPERSET_READER_LOGIN, default
--   heimdall_superset) as a member of this role, with a password generated on this machine and kept under
--   HEIMDALL_HOME (never in git), and copies the settings below onto it (role settings apply to the role that
--   signs in).
-- * Every session: read-only transactions, a 60 s statement timeout, idle transactions ended after 5 minutes.
--
-- Roles belong to the server, grants to the database: the role is created once per server (several warehouses
-- on one server share it) and granted in each database this migration runs in. A migrating user that may not
-- create roles gets a notice instead of an error (ask the DBA to run this file as a role-creating user;
-- `heimdall superset provision` then names what is missing).
do $$
begin
    if not exists (select from pg_catalog.pg_roles where rolname = 'heimdall_reader') then
        begin
            create role heimdall_reader nologin nosuperuser nocreatedb nocreaterole noreplication nobypassrls;
        exception
            when duplicate_object or unique_violation then
                null;  -- created meanwhile by a migration of another database on the same server
            when insufficient_privilege then
                raise notice 'heimdall_reader not created (the migrating user may not create roles); '
                    'dashboards need it: see docs/dashboards.md';
                return;
        end;
    end if;

    create schema if not exists marts;
    execute format('grant connect on database %I to heimdall_reader', current_database());
    grant usage on schema marts to heimdall_reader;
    grant select on all tables in schema marts to heimdall_reader;
    -- tables and views dbt creates later (as this same user) are readable too
    alter default privileges in schema marts grant select on tables to heimdall_reader;

    begin
        alter role heimdall_reader set default_transaction_read_only = on;
        alter role heimdall_reader set statement_timeout = '60s';
        alter role heimdall_reader set idle_in_transaction_session_timeout = '5min';
        alter role heimdall_reader set search_path = marts;
    exception
        when insufficient_privilege then
            raise notice 'heimdall_reader settings not changed (the migrating user may not alter the role)';
    end;
end
$$;
