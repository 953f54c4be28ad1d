-- heimdall_ask: what Guarded Ask (insights/ask/, `heimdall ask`, `heimdall api serve`) may do in the warehouse,
-- and nothing more.
--
-- * SELECT on the tables and views of `marts` only (now and every table dbt creates later): no `raw`, no `app`,
--   no `analysis`, `staging`, `intermediate` or `seeds`; no INSERT/UPDATE/DELETE/TRUNCATE, no DDL.
-- * NOLOGIN and member of no other role: `heimdall ask` and `heimdall api serve` create the login role they sign
--   in with (HEIMDALL_API_LOGIN, default heimdall_asker) as a member of this role, with a password generated on
--   this machine and kept under HEIMDALL_HOME (never in git), and copy the settings below onto it.
-- * Every session: read-only transactions, a 10 s statement timeout, idle transactions ended after 1 minute,
--   search_path marts. Each question runs in its own `begin transaction read only` with a shorter
--   `statement_timeout` set locally (insights/ask/execute.py), and only the allowlisted templates of
--   insights/ask/intents.py ever run (docs/ask.md).
--
-- As in 0013, a migrating user that may not create roles gets a notice instead of an error.
do $$
begin
    if not exists (select from pg_catalog.pg_roles where rolname = 'heimdall_ask') then
        begin
            create role heimdall_ask nologin nosuperuser nocreatedb nocreaterole noreplication nobypassrls;
        exception
            when duplicate_object or unique_violation then
                null;  -- created meanwhile by a migration of another database on the same server
            when insufficient_privilege then
                raise notice 'heimdall_ask not created (the migrating user may not create roles); '
                    'Guarded Ask needs it: see docs/ask.md';
                return;
        end;
    end if;

    create schema if not exists marts;
    execute format('grant connect on database %I to heimdall_ask', current_database());
    grant usage on schema marts to heimdall_ask;
    grant select on all tables in schema marts to heimdall_ask;
    -- tables and views dbt creates later (as this same user) are readable too
    alter default privileges in schema marts grant select on tables to heimdall_ask;

    begin
        alter role heimdall_ask set default_transaction_read_only = on;
        alter role heimdall_ask set statement_timeout = '10s';
        alter role heimdall_ask set idle_in_transaction_session_timeout = '1min';
        alter role heimdall_ask set search_path = marts;
    exception
        when insufficient_privilege then
            raise notice 'heimdall_ask settings not changed (the migrating user may not alter the role)';
    end;
end
$$;
