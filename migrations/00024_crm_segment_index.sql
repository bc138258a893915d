-- +goose Up
-- Segment counts over 1M profiles. Campaign segments almost always ask for e-mail
-- consent, a few lifecycle stages and a score threshold; with interests included the
-- whole 4-condition rule (stage ∧ churn_risk ∧ interests @> ∧ consent_email) is answered
-- by an index-only scan of this narrow index instead of a BitmapAnd of the stage and
-- GIN(interests) indexes followed by tens of thousands of random heap pages (the
-- profile rows are wide: factors, interest weights). Erased profiles are outside it, as
-- they are outside every segment.
CREATE INDEX crm_profiles_segment ON crm_profiles (consent_email, stage, churn_risk) INCLUDE (interests)
    WHERE NOT erased;

-- +goose Down
DROP INDEX crm_profiles_segment;
