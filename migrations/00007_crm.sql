-- +goose Up
-- Monthly partitions of the engagement events: two years back, one ahead. The worker
-- keeps creating partitions ahead of time (crm.EnsurePartitions).
-- +goose StatementBegin
DO $$
DECLARE m date := date_trunc('month', now() - interval '24 months');
BEGIN
  WHILE m <= date_trunc('month', now() + interval '12 months') LOOP
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF crm_events FOR VALUES FROM (%L) TO (%L)',
                   'crm_events_' || to_char(m, 'YYYYMM'), m, m + interval '1 month');
    m := m + interval '1 month';
  END LOOP;
END $$;
-- +goose StatementEnd
CREATE INDEX crm_events_kind ON crm_events (kind, occurred_at DESC);
ALTER TABLE crm_events ADD COLUMN detail jsonb NOT NULL DEFAULT '{}';

-- One CRM profile per member. Counters and the decayed engagement score are kept
-- incrementally in the transaction of every event; windowed figures, quintiles, CLV,
-- churn risk and flags are refreshed on a schedule. *_factors explain each score.
CREATE TABLE crm_profiles (
    member_id          bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    event_count        integer NOT NULL DEFAULT 0,
    first_event_at     timestamptz,
    last_event_at      timestamptz,
    -- engagement = Σ weight·2^(−age/half-life), stored as its value at engagement_at
    engagement         double precision NOT NULL DEFAULT 0,
    engagement_at      timestamptz,
    purchases          integer NOT NULL DEFAULT 0,
    purchase_total     numeric(14, 2) NOT NULL DEFAULT 0,
    last_purchase_at   timestamptz,
    -- refreshed on schedule
    events_90d         integer NOT NULL DEFAULT 0,
    events_prev_90d    integer NOT NULL DEFAULT 0,
    monetary_365d      numeric(14, 2) NOT NULL DEFAULT 0,
    r_score            smallint NOT NULL DEFAULT 0,
    f_score            smallint NOT NULL DEFAULT 0,
    m_score            smallint NOT NULL DEFAULT 0,
    rfm_segment        text NOT NULL DEFAULT '',
    clv                numeric(14, 2) NOT NULL DEFAULT 0,
    clv_percentile     smallint NOT NULL DEFAULT 0,
    churn_risk         smallint NOT NULL DEFAULT 0,
    stage              text NOT NULL DEFAULT 'exploration'
                       CHECK (stage IN ('exploration', 'growth', 'stable', 'decline', 'dormant')),
    stage_since        timestamptz NOT NULL DEFAULT now(),
    core_member        boolean NOT NULL DEFAULT false,
    advocate           boolean NOT NULL DEFAULT false,
    csat               double precision,
    nps                smallint,
    interests          text[] NOT NULL DEFAULT '{}',
    interest_weights   jsonb NOT NULL DEFAULT '{}',
    factors            jsonb NOT NULL DEFAULT '{}',
    consent_email      boolean NOT NULL DEFAULT false,
    consent_inapp      boolean NOT NULL DEFAULT true,
    external_id        text,
    attributes         jsonb NOT NULL DEFAULT '{}',
    erased             boolean NOT NULL DEFAULT false,
    refreshed_at       timestamptz,
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX crm_profiles_external ON crm_profiles (external_id) WHERE external_id IS NOT NULL;
CREATE INDEX crm_profiles_stage ON crm_profiles (stage) WHERE NOT erased;
CREATE INDEX crm_profiles_churn ON crm_profiles (churn_risk DESC) WHERE NOT erased;
CREATE INDEX crm_profiles_clv ON crm_profiles (clv DESC) WHERE NOT erased;
CREATE INDEX crm_profiles_interests ON crm_profiles USING gin (interests);

-- Lifecycle history: every stage change, with why.
CREATE TABLE crm_stage_history (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id   bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    from_stage  text NOT NULL,
    to_stage    text NOT NULL,
    reason      text NOT NULL DEFAULT '',
    changed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX crm_stage_history_member ON crm_stage_history (member_id, changed_at DESC);

-- Orders and purchases from the brand's shop; external_id makes imports idempotent.
CREATE TABLE crm_purchases (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    external_id  text NOT NULL UNIQUE,
    amount       numeric(14, 2) NOT NULL CHECK (amount >= 0),
    currency     text NOT NULL DEFAULT 'USD',
    source       text NOT NULL DEFAULT 'shop',
    occurred_at  timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX crm_purchases_member ON crm_purchases (member_id, occurred_at DESC);

-- Staff notes on a member.
CREATE TABLE crm_notes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id   bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    author_id   bigint NOT NULL REFERENCES users (id),
    body        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX crm_notes_member ON crm_notes (member_id, created_at DESC);

-- +goose Down
DROP TABLE crm_notes;
DROP TABLE crm_purchases;
DROP TABLE crm_stage_history;
DROP TABLE crm_profiles;
ALTER TABLE crm_events DROP COLUMN detail;
DROP INDEX crm_events_kind;
-- +goose StatementBegin
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           JOIN pg_class p ON p.oid = i.inhparent
           WHERE p.relname = 'crm_events' AND c.relname <> 'crm_events_default' LOOP
    EXECUTE format('DROP TABLE %I', r.relname);
  END LOOP;
END $$;
-- +goose StatementEnd
