-- +goose Up
-- The transactional outbox: side effects (search indexing, notifications, e-mail,
-- webhooks) are written here in the same transaction as the change that causes them,
-- then claimed by workers with FOR UPDATE SKIP LOCKED.
CREATE TABLE outbox (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic         text NOT NULL,
    payload       jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- a claimed row is leased by pushing available_at into the future: a worker that
    -- dies mid-row loses its lease and the row is claimed again.
    available_at  timestamptz NOT NULL DEFAULT now(),
    attempts      integer NOT NULL DEFAULT 0,
    last_error    text NOT NULL DEFAULT '',
    processed_at  timestamptz,
    parked_at     timestamptz
);
-- workers only ever scan pending rows.
CREATE INDEX outbox_pending ON outbox (available_at, id)
    WHERE processed_at IS NULL AND parked_at IS NULL;

-- +goose Down
DROP TABLE outbox;
