-- A rejected webhook delivery keeps its request headers (secret headers' values replaced by "[redacted]"), so an
-- oversized or stale signed delivery can be found and resent from the source (its webhook-id /
-- Idempotency-Key / X-Atlassian-Webhook-Identifier, its event, its size).
alter table app.webhook_rejections add column if not exists headers jsonb;
