-- +goose Up
-- All-time figures of a profile kept event by event (crm.Append), so a refresh reads
-- only the last year of a member's events (13 monthly partitions instead of every one
-- since the member joined): the engagement points of each event kind, decayed to
-- last_event_at like the engagement score, with the number of events of each kind
-- (the engagement factors), and the time of the latest NPS answer (nps is the value of
-- that answer; the refresh has set it from every event). Filled here from the events
-- as crm.Service.RebuildIncremental computes them (half-life 30 days:
-- crm.DefaultParams.HalfLife, which Append uses).
ALTER TABLE crm_profiles
    ADD COLUMN kind_points jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN kind_counts jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN nps_at timestamptz;

SET LOCAL work_mem = '256MB';
UPDATE crm_profiles p
   SET kind_points = x.points, kind_counts = x.counts, nps_at = x.nps_at
  FROM (SELECT k.member_id, jsonb_object_agg(k.kind, k.points) AS points, jsonb_object_agg(k.kind, k.n) AS counts,
               max(k.nps_at) AS nps_at
          FROM (SELECT e.member_id, e.kind, count(*) AS n,
                       sum(e.weight * power(0.5, extract(epoch FROM pr.last_event_at - e.occurred_at) / 2592000)) AS points,
                       max(e.occurred_at) FILTER (WHERE e.kind = 'crm.nps_answered') AS nps_at
                  FROM crm_events e JOIN crm_profiles pr ON pr.member_id = e.member_id
                 WHERE e.kind <> 'crm.stage_changed'
                 GROUP BY e.member_id, e.kind) k
         GROUP BY k.member_id) x
 WHERE p.member_id = x.member_id;

-- +goose Down
ALTER TABLE crm_profiles DROP COLUMN kind_points, DROP COLUMN kind_counts, DROP COLUMN nps_at;
