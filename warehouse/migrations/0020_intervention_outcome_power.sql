-- Verification reports its power (issue 12): the minimum detectable change at the observed samples, whether the
-- data could have shown the playbook's expected change, and when it will be able to tell. A new verdict,
-- 'not enough data to tell yet', separates an underpowered "no change" from a powered "no detectable change".
-- The table is recomputed wholesale by every verification, so existing rows only need the new columns.

alter table analysis.intervention_outcomes drop constraint if exists intervention_outcomes_verdict_check;
alter table analysis.intervention_outcomes add constraint intervention_outcomes_verdict_check
    check (verdict in (
        'improved', 'no detectable change', 'worsened', 'too little data', 'not enough data to tell yet'
    ));

alter table analysis.intervention_outcomes
    add column if not exists test_scale text,
    add column if not exists effect_estimate numeric,
    add column if not exists effect_se numeric,
    add column if not exists treated_units_before integer,
    add column if not exists treated_units_after integer,
    add column if not exists treated_units_per_week numeric,
    add column if not exists expected_change_pct numeric,
    add column if not exists expected_effect_shift numeric,
    add column if not exists minimum_detectable_shift numeric,
    add column if not exists minimum_detectable_change_pct numeric,
    add column if not exists is_powered boolean,
    add column if not exists weeks_observed integer,
    add column if not exists weeks_needed integer,
    add column if not exists expected_decidable_on date,
    add column if not exists significance_alpha numeric,
    add column if not exists target_power numeric;
