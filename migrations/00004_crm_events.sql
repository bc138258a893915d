-- +goose Up
-- Engagement events: one row per thing a member did, appended in the same transaction
-- as the action. Partitioned by month of occurred_at; the CRM worker creates monthly
-- partitions ahead of time and the default partition catches anything else.
CREATE TABLE crm_events (
    id           bigint GENERATED ALWAYS AS IDENTITY,
    member_id    bigint NOT NULL,
    kind         text NOT NULL,
    subject_type text NOT NULL DEFAULT '',
    subject_id   bigint NOT NULL DEFAULT 0,
    weight       double precision NOT NULL DEFAULT 0,
    value        numeric(14, 2) NOT NULL DEFAULT 0,
    occurred_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id, occurred_at)
) PARTITION BY RANGE (occurred_at);
CREATE TABLE crm_events_default PARTITION OF crm_events DEFAULT;
CREATE INDEX crm_events_member ON crm_events (member_id, occurred_at DESC);

-- +goose Down
DROP TABLE crm_events;
