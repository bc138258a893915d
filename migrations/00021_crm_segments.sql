-- +goose Up
-- Saved segments: a named rule over whitelisted profile fields (crm.Rule, compiled to
-- parameterised SQL at use; the JSON here is never spliced into SQL). member_count is
-- the count as of counted_at, kept for the list page; the segment's own page and the
-- API count live.
CREATE TABLE crm_segments (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    description   text NOT NULL DEFAULT '',
    rule          jsonb NOT NULL,
    created_by    bigint REFERENCES users (id) ON DELETE SET NULL,
    member_count  bigint NOT NULL DEFAULT 0,
    counted_at    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
-- one segment per name, whatever the case ("Champions" and "champions" are one)
CREATE UNIQUE INDEX crm_segments_name ON crm_segments (lower(name));

-- Members per lifecycle stage, one row per stage per day, written after each scheduled
-- refresh (replayed = false). Weeks before the first snapshot are replayed once from
-- the events with the same lifecycle rules (replayed = true). The dashboard reads 12
-- weeks × 5 stages from here instead of scanning every profile's history.
CREATE TABLE crm_stage_daily (
    day       date NOT NULL,
    stage     text NOT NULL CHECK (stage IN ('exploration', 'growth', 'stable', 'decline', 'dormant')),
    members   integer NOT NULL CHECK (members >= 0),
    replayed  boolean NOT NULL DEFAULT false,
    PRIMARY KEY (day, stage)
);

-- +goose Down
DROP TABLE crm_stage_daily;
DROP TABLE crm_segments;
