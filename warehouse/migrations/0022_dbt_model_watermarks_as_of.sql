-- The as_of of an incremental model's last build (docs/operations.md, "Incremental builds"), for the models whose
-- rows depend on as_of in a way a post-hook cannot move in place (fct_issue_changelog: the change items up to
-- as_of): when as_of moves, the entities with an input between the previous as_of and this one are recomputed.
-- Null when the model does not keep it (or was last built before this column): the model recomputes everything.
alter table app.dbt_model_watermarks add column if not exists as_of timestamptz;
