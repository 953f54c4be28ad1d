-- heimdall_apps: what the Streamlit investigation tools (streamlit_apps/) may do in the warehouse, and nothing more.
--
-- * SELECT on the tables and views of `marts` (now and every table dbt creates later), like heimdall_reader.
-- * Record a recommendation decision: INSERT into app.recommendation_decisions (append-only: its trigger refuses
--   UPDATE and DELETE, and no UPDATE/DELETE is granted anyway), SELECT on it for the decision history and the
--   RETURNING of the new decision_id, USAGE on its id sequence. The rule of what a decision must say lives in
--   insights/recommendations.py (`decide`), which the app calls.
-- * The Data status page: SELECT on the load and sync bookkeeping of `app` (load_batches, sync_state) and on the
--   harmless columns of dead_letters and webhook_rejections (never the rejected document, the request headers or
--   the sender's address).
-- * Nothing in `raw`, `staging`, `intermediate`, `seeds` or `analysis`; no other write, no DDL.
-- * NOLOGIN: `heimdall apps serve` creates the login role the app signs in with (HEIMDALL_APPS_LOGIN, default
--   heimdall_streamlit) as a member of this role, with a password generated on this machine and kept under
--   HEIMDALL_HOME, and copies the settings below onto it.
-- * Every session: a 30 s statement timeout, idle transactions ended after 5 minutes, search_path marts.
--
-- As in 0013, a migrating user that may not create roles gets a notice instead of an error.
do $$
begin
    if not exists (select from pg_catalog.pg_roles where rolname = 'heimdall_apps') then
        begin
            create role heimdall_apps nologin nosuperuser nocreatedb nocreaterole noreplication nobypassrls;
        exception
            when duplicate_object or unique_violation then
                null;  -- created meanwhile by a migration of another database on the same server
            when insufficient_privilege then
                raise notice 'heimdall_apps not created (the migrating user may not create roles); '
                    'the Streamlit tools need it: see docs/apps.md';
                return;
        end;
    end if;

    create schema if not exists marts;
    execute format('grant connect on database %I to heimdall_apps', current_database());
    grant usage on schema marts to heimdall_apps;
    grant select on all tables in schema marts to heimdall_apps;
    alter default privileges in schema marts grant select on tables to heimdall_apps;

    grant usage on schema app to heimdall_apps;
    grant select, insert on app.recommendation_decisions to heimdall_apps;
    grant usage on sequence app.recommendation_decisions_decision_id_seq to heimdall_apps;
    grant select on app.load_batches, app.sync_state to heimdall_apps;
    grant select (dead_letter_id, batch_id, source, table_name, reason, origin, received_at)
        on app.dead_letters to heimdall_apps;
    grant select (rejection_id, source, http_status, reason, delivery_id, received_at)
        on app.webhook_rejections to heimdall_apps;

    begin
        alter role heimdall_apps set statement_timeout = '30s';
        alter role heimdall_apps set idle_in_transaction_session_timeout = '5min';
        alter role heimdall_apps set search_path = marts;
    exception
        when insufficient_privilege then
            raise notice 'heimdall_apps settings not changed (the migrating user may not alter the role)';
    end;
end
$$;
