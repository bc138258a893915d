-- +goose Up
-- Outbound webhooks: endpoints an admin registered (an existing Salesforce or HubSpot
-- kept in step), and the log of every delivery attempt made from the outbox.
-- The secret is stored as given: it is needed in clear to sign each delivery, and is
-- only ever shown back as its last four characters.
CREATE TABLE crm_webhooks (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url         text NOT NULL CHECK (url ~ '^https?://'),
    secret      text NOT NULL CHECK (length(secret) >= 16),
    -- engagement event kinds (crm.Kind) to deliver; '*' means every kind
    kinds       text[] NOT NULL CHECK (cardinality(kinds) > 0),
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  bigint REFERENCES users (id) ON DELETE SET NULL
);
-- crm.Append reads the active endpoints (through a short-lived cache).
CREATE INDEX crm_webhooks_active ON crm_webhooks (id) WHERE active;

-- One row per attempt. outbox_id is the X-Hearth-Delivery id receivers deduplicate on;
-- it has no foreign key because processed outbox rows are cleaned up after a week.
CREATE TABLE crm_webhook_deliveries (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id    bigint NOT NULL REFERENCES crm_webhooks (id) ON DELETE CASCADE,
    outbox_id     bigint NOT NULL,
    event_kind    text NOT NULL,
    payload       jsonb NOT NULL,
    attempt       integer NOT NULL,
    -- NULL when no HTTP response arrived (refused, timed out)
    status_code   integer,
    error         text NOT NULL DEFAULT '',
    duration_ms   integer NOT NULL DEFAULT 0,
    -- set only on a 2xx answer
    delivered_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);
-- the delivery log of one endpoint, newest first
CREATE INDEX crm_webhook_deliveries_webhook ON crm_webhook_deliveries (webhook_id, id DESC);
-- a redelivered outbox row that already succeeded is not POSTed again
CREATE INDEX crm_webhook_deliveries_outbox ON crm_webhook_deliveries (outbox_id) WHERE delivered_at IS NOT NULL;

-- +goose Down
DROP TABLE crm_webhook_deliveries;
DROP TABLE crm_webhooks;
