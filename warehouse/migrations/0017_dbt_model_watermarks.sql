-- Incremental dbt models without an ingestion-time column of their own keep their watermark here
-- (docs/operations.md, "Incremental builds"): the newest raw `ingested_at` their last build had read. Written
-- only by the models' post-hooks (macro save_model_watermark), inside the model's own transaction.
create table if not exists app.dbt_model_watermarks (
    model_name text primary key,
    watermark timestamptz not null,
    saved_at timestamptz not null default now()
);
