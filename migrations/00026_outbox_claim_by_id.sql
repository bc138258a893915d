-- +goose Up
-- Workers claim the oldest due rows (ORDER BY id). With only outbox_pending (available_at,
-- id) a claim sorted every due row first: under a backlog of tens of thousands of rows
-- (a burst of CRM events) each claim took 150–470 ms, which slowed the workers and let
-- the backlog grow. In id order the claim stops after its batch.
CREATE INDEX outbox_pending_id ON outbox (id) WHERE processed_at IS NULL AND parked_at IS NULL;

-- +goose Down
DROP INDEX outbox_pending_id;
