-- Recommendation decisions (append-only) and the verified intervention outcomes written back by Python.

create table if not exists app.recommendation_decisions (
    decision_id bigserial primary key,
    recommendation_id text not null check (length(trim(recommendation_id)) > 0),
    decision text not null check (decision in ('approved', 'rejected')),
    decided_by text not null check (length(trim(decided_by)) > 0),
    decided_at timestamptz not null default now(),
    note text,
    intervention_start_date date,
    -- snapshot of the recommendation at decision time: verification must work after the diagnosis stops firing
    team_id text not null,
    rule_id text not null,
    metric_name text not null,
    title text,
    constraint approved_needs_start_date check (decision <> 'approved' or intervention_start_date is not null)
);
create index if not exists recommendation_decisions_recommendation_idx
    on app.recommendation_decisions (recommendation_id, decided_at desc, decision_id desc);

create or replace function app.forbid_decision_changes() returns trigger
language plpgsql as $$
begin
    raise exception 'recommendation decisions are append-only: record a new decision instead of % on decision %',
        lower(tg_op), old.decision_id
        using errcode = 'restrict_violation';
end;
$$;

drop trigger if exists recommendation_decisions_append_only on app.recommendation_decisions;
create trigger recommendation_decisions_append_only
    before update or delete on app.recommendation_decisions
    for each row execute function app.forbid_decision_changes();

create schema if not exists analysis;

create table if not exists analysis.intervention_outcomes (
    recommendation_id text primary key,
    decision_id bigint not null,
    team_id text not null,
    metric_name text not null,
    aggregation text not null,
    intervention_start_date date not null,
    baseline_start date not null,
    baseline_end date not null,
    current_start date not null,
    current_end date not null,
    treated_n_before integer not null,
    treated_n_after integer not null,
    treated_before numeric,
    treated_after numeric,
    change numeric,
    change_pct numeric,
    change_ci_low numeric,
    change_ci_high numeric,
    change_pct_ci_low numeric,
    change_pct_ci_high numeric,
    control_teams text,
    control_n_before integer not null default 0,
    control_n_after integer not null default 0,
    control_before numeric,
    control_after numeric,
    did_estimate numeric,
    did_ci_low numeric,
    did_ci_high numeric,
    verdict text not null
        check (verdict in ('improved', 'no detectable change', 'worsened', 'too little data')),
    verdict_basis text not null,
    bootstrap_resamples integer not null,
    random_seed bigint not null,
    as_of timestamptz not null,
    computed_at timestamptz not null default now()
);
