-- Verification watches a guard metric beside the playbook's watched metric (issue 11: a review SLO must not look
-- successful by merging without review). analysis.intervention_outcomes becomes one row per approved
-- recommendation and metric: metric_role 'watched' (the playbook's metric_name) or 'guard' (guard_metric_name).
-- The table is recomputed wholesale by every verification, so existing rows are simply the watched ones.

alter table analysis.intervention_outcomes
    add column if not exists metric_role text not null default 'watched'
        check (metric_role in ('watched', 'guard'));

alter table analysis.intervention_outcomes drop constraint if exists intervention_outcomes_pkey;
alter table analysis.intervention_outcomes add primary key (recommendation_id, metric_name);
