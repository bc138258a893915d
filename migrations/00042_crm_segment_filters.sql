-- +goose Up
-- Segment counts read a narrow copy of the whitelisted rule fields instead of crm_profiles.
--
-- Why: a profile row is ~1.2 kB (factors, interest weights, attributes) and every event and
-- refresh rewrites it, so crm_profiles bloats (4 GB for 1M profiles after a few full
-- refreshes) and its visibility map is mostly clear between vacuums. The 4-condition count
-- was an index-only scan of crm_profiles_segment (00024) that, with the visibility map
-- stale, fetched a random heap page of the 4 GB table for each of ~44k index entries:
-- 400–480 ms, against 11–20 ms right after a VACUUM.
--
-- crm_segment_filters holds one ~200-byte row per profile that is not erased (erased
-- profiles have no row, so they are in no segment and no count), 1M rows in ~230 MB:
-- - kept by triggers on crm_profiles in the same transaction as the profile write, and
--   only when a rule field changes (WHEN … IS DISTINCT FROM), so every writer (events,
--   refreshes, rebuilds, consent, erasure, imports, the generator) keeps it exact;
-- - fillfactor 80 and no index on the fields every event moves (last_event_at,
--   engagement, purchases, events_90d), so those updates stay HOT and are pruned
--   in-page; vacuum then has little to do and sets the visibility map back quickly.
--   last_active_on, the UTC day of last_event_at, moves once a day at most and is
--   indexed in its place;
-- - autovacuum by an absolute threshold (a few thousand changed rows, not 20 % of the
--   table), cheap here because the table and its indexes are small;
-- - crm_segment_filters_rule (stage, consent_email, churn_risk) INCLUDE (interests,
--   clv_percentile): the common campaign rule (stages ∧ e-mail consent ∧ a score
--   threshold ∧ an interest) is an index-only scan of one narrow index;
-- - GIN(interests) with fastupdate off (no pending list for every count to scan) for
--   rules led by an interest; (clv DESC, member_id) for the preview's most valuable
--   members.
CREATE TABLE crm_segment_filters (
    member_id        bigint PRIMARY KEY REFERENCES crm_profiles (member_id) ON DELETE CASCADE,
    last_event_at    timestamptz,
    engagement       double precision NOT NULL,
    engagement_at    timestamptz,
    events_90d       integer NOT NULL,
    purchases        integer NOT NULL,
    last_active_on   date, -- the UTC day of last_event_at: changes once a day at most, so it can be indexed
    churn_risk       smallint NOT NULL,
    clv_percentile   smallint NOT NULL,
    r_score          smallint NOT NULL,
    f_score          smallint NOT NULL,
    m_score          smallint NOT NULL,
    core_member      boolean NOT NULL,
    advocate         boolean NOT NULL,
    consent_email    boolean NOT NULL,
    consent_inapp    boolean NOT NULL,
    clv              numeric(14, 2) NOT NULL,
    purchase_total   numeric(14, 2) NOT NULL,
    monetary_365d    numeric(14, 2) NOT NULL,
    stage            text NOT NULL,
    rfm_segment      text NOT NULL,
    interests        text[] NOT NULL
) WITH (fillfactor = 80,
        autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 2000,
        autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 2000,
        autovacuum_analyze_scale_factor = 0.05);

INSERT INTO crm_segment_filters
SELECT member_id, last_event_at, engagement, engagement_at, events_90d, purchases,
       (last_event_at AT TIME ZONE 'UTC')::date, churn_risk, clv_percentile,
       r_score, f_score, m_score, core_member, advocate, consent_email, consent_inapp, clv, purchase_total,
       monetary_365d, stage, rfm_segment, interests
  FROM crm_profiles WHERE NOT erased ORDER BY member_id;

CREATE INDEX crm_segment_filters_rule ON crm_segment_filters (stage, consent_email, churn_risk)
    INCLUDE (interests, clv_percentile);
-- rules on recent activity beside a stage and a score: the compiler adds the implied
-- last_active_on condition to every last_active_days one (crm/segment.go)
CREATE INDEX crm_segment_filters_active ON crm_segment_filters (stage, churn_risk, last_active_on);
CREATE INDEX crm_segment_filters_interests ON crm_segment_filters USING gin (interests) WITH (fastupdate = off);
CREATE INDEX crm_segment_filters_clv ON crm_segment_filters (clv DESC, member_id);
-- Stage and churn risk are strongly correlated (growth and stable members seldom score
-- high): without a joint MCV list the planner took stage ∈ {growth, stable} ∧ churn ≥ 50
-- for 11,700 rows (596 in fact) and chose a BitmapAnd with GIN(interests) — 113k TIDs for
-- a common interest, 9 ms against 0.2 ms for the index-only scan. 200 entries (a
-- 60,000-row sample, ~0.7 s per ANALYZE) hold the combinations that matter.
CREATE STATISTICS crm_segment_filters_stage_churn (mcv) ON stage, churn_risk FROM crm_segment_filters;
ALTER STATISTICS crm_segment_filters_stage_churn SET STATISTICS 200;

-- +goose StatementBegin
CREATE FUNCTION crm_segment_filters_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.erased THEN
        DELETE FROM crm_segment_filters WHERE member_id = NEW.member_id;
        RETURN NULL;
    END IF;
    UPDATE crm_segment_filters SET
        last_event_at = NEW.last_event_at, engagement = NEW.engagement, engagement_at = NEW.engagement_at,
        events_90d = NEW.events_90d, purchases = NEW.purchases,
        last_active_on = (NEW.last_event_at AT TIME ZONE 'UTC')::date, churn_risk = NEW.churn_risk,
        clv_percentile = NEW.clv_percentile, r_score = NEW.r_score, f_score = NEW.f_score, m_score = NEW.m_score,
        core_member = NEW.core_member, advocate = NEW.advocate, consent_email = NEW.consent_email,
        consent_inapp = NEW.consent_inapp, clv = NEW.clv, purchase_total = NEW.purchase_total,
        monetary_365d = NEW.monetary_365d, stage = NEW.stage, rfm_segment = NEW.rfm_segment, interests = NEW.interests
     WHERE member_id = NEW.member_id;
    IF NOT FOUND THEN
        INSERT INTO crm_segment_filters VALUES (NEW.member_id, NEW.last_event_at, NEW.engagement, NEW.engagement_at,
            NEW.events_90d, NEW.purchases, (NEW.last_event_at AT TIME ZONE 'UTC')::date, NEW.churn_risk, NEW.clv_percentile, NEW.r_score, NEW.f_score, NEW.m_score,
            NEW.core_member, NEW.advocate, NEW.consent_email, NEW.consent_inapp, NEW.clv, NEW.purchase_total,
            NEW.monetary_365d, NEW.stage, NEW.rfm_segment, NEW.interests);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER crm_profiles_segment_filters_insert AFTER INSERT ON crm_profiles
    FOR EACH ROW EXECUTE FUNCTION crm_segment_filters_sync();
-- Only a change of a rule field (or erasure) reaches the filter row; a refresh that
-- moves nothing a rule reads, or a write to factors or attributes, leaves it alone.
CREATE TRIGGER crm_profiles_segment_filters_update AFTER UPDATE ON crm_profiles
    FOR EACH ROW WHEN ((OLD.erased, OLD.last_event_at, OLD.engagement, OLD.engagement_at, OLD.events_90d, OLD.purchases,
                        OLD.churn_risk, OLD.clv_percentile, OLD.r_score, OLD.f_score, OLD.m_score, OLD.core_member,
                        OLD.advocate, OLD.consent_email, OLD.consent_inapp, OLD.clv, OLD.purchase_total,
                        OLD.monetary_365d, OLD.stage, OLD.rfm_segment, OLD.interests)
                       IS DISTINCT FROM
                       (NEW.erased, NEW.last_event_at, NEW.engagement, NEW.engagement_at, NEW.events_90d, NEW.purchases,
                        NEW.churn_risk, NEW.clv_percentile, NEW.r_score, NEW.f_score, NEW.m_score, NEW.core_member,
                        NEW.advocate, NEW.consent_email, NEW.consent_inapp, NEW.clv, NEW.purchase_total,
                        NEW.monetary_365d, NEW.stage, NEW.rfm_segment, NEW.interests))
    EXECUTE FUNCTION crm_segment_filters_sync();

-- Segments no longer read crm_profiles: its two segment-only indexes (525 MB and a GIN
-- with a pending list) only slowed every profile write.
DROP INDEX IF EXISTS crm_profiles_segment;
DROP INDEX IF EXISTS crm_profiles_interests;

ANALYZE crm_segment_filters;

-- +goose Down
CREATE INDEX crm_profiles_interests ON crm_profiles USING gin (interests);
CREATE INDEX crm_profiles_segment ON crm_profiles (consent_email, stage, churn_risk) INCLUDE (interests)
    WHERE NOT erased;
DROP TRIGGER crm_profiles_segment_filters_update ON crm_profiles;
DROP TRIGGER crm_profiles_segment_filters_insert ON crm_profiles;
DROP FUNCTION crm_segment_filters_sync();
DROP TABLE crm_segment_filters;
