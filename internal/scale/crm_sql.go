package scale

import (
	"fmt"
	"strings"
)

// unit is a pseudo-random float in [0, 1) from h.
func unit(expr string, seed int) string { return "(" + h(expr, seed) + "::float8 / 2147483648)" }

// crmMembersSQL inserts members lo … hi like membersSQL, but joined within the last
// @span seconds (the span the monthly event partitions cover), more of them recently,
// as in a growing community.
func crmMembersSQL() string {
	return strings.NewReplacer(
		"H1", h("i", 1), "H2", h("i", 2), "H3", h("i", 3), "U4", unit("i", 4),
	).Replace(`
INSERT INTO users (email, password_hash, display_name, role, handle, locale, created_at, updated_at)
SELECT 'gen-' || i || @domain, @hash,
       CASE WHEN H1 % 3 = 0
            THEN (CAST(@zhsur AS text[]))[1 + H2 % @nzhsur ] || (CAST(@zhgiven AS text[]))[1 + H3 % @nzhgiven ]
            ELSE (CAST(@first AS text[]))[1 + H2 % @nfirst ] || ' ' || (CAST(@last AS text[]))[1 + H3 % @nlast ] END,
       'member', 'gen' || i, CASE WHEN H1 % 3 = 0 THEN 'zh-Hans' ELSE '' END, j.at, j.at
  FROM generate_series(CAST(@lo AS bigint), CAST(@hi AS bigint)) i
 CROSS JOIN LATERAL (SELECT now() - make_interval(secs => 3600 + (@span - 3600) * power(U4, 1.5)) AS at) j`)
}

// crmEventsSQL inserts the events of the members @ids (@ns events each, the first
// their registration at the moment they joined) and the shop purchases behind the
// purchase events, and returns how many events and purchases it inserted.
//
// Each member has an active period from joining until now (60 %) or until some point
// in between (40 %: they drifted away), and their events fall in it evenly, early
// (a quarter: activity declining) or late (a quarter: activity growing). Tagged events
// carry 0–3 tags, 70 % of them among the member's three favourite tags (popular tags
// are favourites more often), and a category.
func crmEventsSQL() string {
	key := "r.key"
	tag := func(seed int) string { return h(key+" * 4 + ti", seed) }
	return strings.NewReplacer(
		"M_CHURNED", h("u.id", 41), "M_END", h("u.id", 42), "M_SHAPE", h("u.id", 43),
		"M_FAV1", unit("u.id", 44), "M_FAV2", unit("u.id", 45), "M_FAV3", unit("u.id", 46),
		"R_KIND", h("m.id * 1000003 + j", 47), "R_SUBJECT", h(key, 48), "R_VALUE2", h(key, 50), "R_VALUE", h(key, 49),
		"U_VALUE", unit(key, 49), "U_TIME", unit(key, 51), "R_CAT", h(key, 52), "R_NTAGS", h(key, 53),
		"T_PICK", tag(54), "T_FAV", tag(55), "T_ANY", tag(56),
	).Replace(`
WITH m AS (
    SELECT u.id, x.n, u.created_at AS joined,
           extract(epoch FROM now() - u.created_at) AS start_ago,
           CASE WHEN M_CHURNED % 100 < 40 THEN (M_END % 1000) / 1000.0 ELSE 0 END AS end_frac,
           CASE M_SHAPE % 4 WHEN 0 THEN 0.5 WHEN 3 THEN 2.5 ELSE 1 END AS shape,
           ARRAY[(CAST(@tags AS text[]))[1 + floor(@ntags * power(M_FAV1, 2))::int ],
                 (CAST(@tags AS text[]))[1 + floor(@ntags * power(M_FAV2, 2))::int ],
                 (CAST(@tags AS text[]))[1 + floor(@ntags * power(M_FAV3, 2))::int ]] AS favs
      FROM unnest(CAST(@ids AS bigint[]), CAST(@ns AS bigint[])) AS x(id, n)
      JOIN users u ON u.id = x.id
), r AS (
    SELECT m.id AS member_id, j, m.id * 1000003 + j AS key, m.joined, m.start_ago, m.end_frac, m.shape, m.favs,
           CASE WHEN j = 1 THEN @reg ELSE (CAST(@kmap AS int[]))[1 + R_KIND % 1000 ] END AS ki
      FROM m CROSS JOIN LATERAL generate_series(1, m.n) j
), ev AS (
    SELECT r.member_id, r.j,
           (CAST(@kinds AS text[]))[r.ki ] AS kind,
           (CAST(@subjects AS text[]))[r.ki ] AS subject_type,
           CASE WHEN r.j = 1 THEN r.member_id ELSE 1 + R_SUBJECT % 1000000 END AS subject_id,
           (CAST(@weights AS float8[]))[r.ki ] AS weight,
           CASE WHEN r.ki = @kpurchase THEN round((5 + 495 * power(U_VALUE, 2))::numeric, 2)
                WHEN r.ki = @krated THEN (R_VALUE % 100 < 80)::int
                WHEN r.ki = @knps THEN CASE WHEN R_VALUE % 10 < 5 THEN 9 + R_VALUE2 % 2
                                           WHEN R_VALUE % 10 < 8 THEN 7 + R_VALUE2 % 2 ELSE R_VALUE2 % 7 END
                ELSE 0 END AS value,
           CASE WHEN r.j = 1 THEN r.joined
                ELSE now() - make_interval(secs => greatest(60, r.start_ago * (r.end_frac + (1 - r.end_frac) * power(U_TIME, r.shape))))
           END AS occurred_at,
           CASE WHEN (CAST(@tagged AS bool[]))[r.ki ] THEN
                jsonb_build_object('category', CASE WHEN (CAST(@kinds AS text[]))[r.ki ] LIKE 'feedback.%' THEN 'ideas'
                                                    ELSE (CAST(@cats AS text[]))[1 + R_CAT % 20 ] END)
                || (SELECT CASE WHEN count(*) > 0 THEN jsonb_build_object('tags', jsonb_agg(DISTINCT t)) ELSE '{}' END
                      FROM (SELECT CASE WHEN T_PICK % 10 < 7 THEN r.favs[1 + T_FAV % 3 ]
                                        ELSE (CAST(@tags AS text[]))[1 + T_ANY % @ntags ] END AS t
                              FROM generate_series(1, R_NTAGS % 4) ti) x)
                ELSE '{}'::jsonb END AS detail
      FROM r
), pur AS (
    INSERT INTO crm_purchases (member_id, external_id, amount, currency, source, occurred_at)
    SELECT member_id, 'gen-' || member_id || '-' || j, value, 'USD', 'shop', occurred_at
      FROM ev WHERE kind = @purchase
    RETURNING id, external_id
), ins AS (
    INSERT INTO crm_events (member_id, kind, subject_type, subject_id, weight, value, occurred_at, detail)
    SELECT e.member_id, e.kind, e.subject_type, coalesce(p.id, e.subject_id), e.weight, e.value, e.occurred_at, e.detail
      FROM ev e LEFT JOIN pur p ON p.external_id = 'gen-' || e.member_id || '-' || e.j
     ORDER BY e.member_id, e.occurred_at
    RETURNING 1
)
SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM pur)`)
}

// crmProfilesSQL inserts the profiles of members @lo … @hi from their events: the
// incremental fields as Append keeps them (engagement and the points of each kind
// decayed to the last event, as RebuildIncremental computes them) and the refreshed ones as RefreshMember computes
// them (windowed counts, stage, churn risk, CLV, advocate, CSAT, NPS, interests and
// every factor), with the community's churn signals at zero (no forum rows). Rounding
// follows Go's math.Round (half away from zero) in float8, like RefreshMember; a test
// compares the result with RefreshAll's. Consent: e-mail 45 %, in-app 92 %.
func crmProfilesSQL() string {
	decayNow := "power(0.5, greatest(0, extract(epoch FROM now() - e.occurred_at)) / @h)"
	round1 := func(x string) string { return fmt.Sprintf("(floor((%s) * 10 + 0.5) / 10)", x) }
	return strings.NewReplacer("DECAY_NOW", decayNow, "POINTS", round1("x.points"), "TAGW", round1("t.w"),
		"C_EMAIL", h("a.member_id", 60), "C_INAPP", h("a.member_id", 61)).Replace(`
WITH e AS MATERIALIZED (
    SELECT member_id, kind, subject_id, weight, value, occurred_at, detail
      FROM crm_events WHERE member_id BETWEEN @lo AND @hi AND kind <> @stage
), a AS (
    SELECT member_id, count(*) AS event_count, min(occurred_at) AS first_at, max(occurred_at) AS last_at,
           count(*) FILTER (WHERE kind = @purchase) AS purchases,
           coalesce(sum(value) FILTER (WHERE kind = @purchase), 0) AS purchase_total,
           max(occurred_at) FILTER (WHERE kind = @purchase) AS last_purchase_at,
           count(*) FILTER (WHERE occurred_at > now() - interval '90 days' AND occurred_at <= now()) AS e90,
           count(*) FILTER (WHERE occurred_at > now() - interval '180 days' AND occurred_at <= now() - interval '90 days') AS p90,
           count(*) FILTER (WHERE kind = @accepted AND occurred_at > now() - interval '365 days' AND occurred_at <= now()) AS acc,
           coalesce(sum(value) FILTER (WHERE kind = @purchase AND occurred_at > now() - interval '365 days'), 0)::float8 AS m365
      FROM e GROUP BY member_id
), eng AS (
    SELECT e.member_id, sum(e.weight * power(0.5, extract(epoch FROM a.last_at - e.occurred_at) / @h)) AS engagement
      FROM e JOIN a USING (member_id) GROUP BY e.member_id
), kinds AS (
    SELECT x.member_id, jsonb_agg(jsonb_build_object('key', 'crm.kind.' || x.kind, 'points', POINTS, 'value', x.n)
                                  ORDER BY x.points DESC) AS factors
      FROM (SELECT e.member_id, e.kind, sum(e.weight * DECAY_NOW) AS points, count(*) AS n
              FROM e WHERE e.weight > 0 GROUP BY e.member_id, e.kind) x
     GROUP BY x.member_id
), tot AS (
    SELECT x.member_id, jsonb_object_agg(x.kind, x.points) AS points, jsonb_object_agg(x.kind, x.n) AS counts
      FROM (SELECT e.member_id, e.kind, count(*) AS n,
                   sum(e.weight * power(0.5, extract(epoch FROM a.last_at - e.occurred_at) / @h)) AS points
              FROM e JOIN a USING (member_id) GROUP BY e.member_id, e.kind) x
     GROUP BY x.member_id
), sat AS (
    SELECT l.member_id, (100 * avg(l.value))::float8 AS csat
      FROM (SELECT DISTINCT ON (member_id, subject_id) member_id, value FROM e
             WHERE kind = @rated AND occurred_at > now() - interval '365 days'
             ORDER BY member_id, subject_id, occurred_at DESC) l
     GROUP BY l.member_id
), nps AS (
    SELECT DISTINCT ON (member_id) member_id, value::int AS nps, occurred_at AS nps_at FROM e WHERE kind = @nps
     ORDER BY member_id, occurred_at DESC, value DESC
), tagw AS (
    SELECT e.member_id, x.tag, sum(e.weight * DECAY_NOW) AS w,
           row_number() OVER (PARTITION BY e.member_id ORDER BY sum(e.weight * DECAY_NOW) DESC, x.tag COLLATE "C") AS rn
      FROM e, LATERAL (SELECT jsonb_array_elements_text(coalesce(e.detail->'tags', '[]')) AS tag
                       UNION ALL SELECT 'category:' || (e.detail->>'category') WHERE (e.detail->>'category') IS NOT NULL) x
     WHERE e.occurred_at > now() - interval '365 days'
     GROUP BY e.member_id, x.tag
), top AS (
    SELECT t.member_id, array_agg(lower(t.tag) ORDER BY t.rn) AS tags, jsonb_object_agg(t.tag, TAGW) AS weights
      FROM tagw t WHERE t.rn <= 5 GROUP BY t.member_id
), s AS (
    SELECT a.*, floor(extract(epoch FROM now() - a.last_at) / 86400) AS idle,
           floor(extract(epoch FROM now() - a.first_at) / 86400) AS age,
           CASE WHEN a.p90 >= @minbase AND a.e90 < a.p90 THEN 100 * (a.p90 - a.e90)::float8 / a.p90 END AS dropped
      FROM a
), f AS (
    SELECT s.*,
           CASE WHEN s.idle > 60 THEN 35 WHEN s.idle > 30 THEN 20 WHEN s.idle > 14 THEN 10 END AS rec_pts,
           CASE WHEN s.dropped >= 25 THEN floor(s.dropped / 100 * 30 + 0.5) END AS trend_pts,
           CASE WHEN s.event_count = 0 OR s.idle >= @dormant THEN 'dormant'
                WHEN s.age < @newdays OR s.event_count < @newevents THEN 'exploration'
                WHEN s.p90 >= @minbase AND s.e90 < CAST(@decline AS float8) * s.p90 THEN 'decline'
                WHEN s.e90 > CAST(@growth AS float8) * greatest(s.p90, 1) THEN 'growth'
                ELSE 'stable' END AS stage
      FROM s
), c AS (
    SELECT f.*, least(100, coalesce(f.rec_pts, 0) + coalesce(f.trend_pts, 0))::int AS churn,
           CASE f.stage WHEN 'dormant' THEN format('crm.why.dormant|%s', f.idle)
                        WHEN 'exploration' THEN 'crm.why.exploration'
                        WHEN 'decline' THEN format('crm.why.decline|%s|%s', f.e90, f.p90)
                        WHEN 'growth' THEN format('crm.why.growth|%s|%s', f.e90, f.p90)
                        ELSE 'crm.why.stable' END AS why
      FROM f
), r AS (
    SELECT c.*, least(0.95, greatest(0.05, 1 - c.churn::float8 / 100)) AS retention FROM c
), v AS (
    SELECT r.*, (SELECT floor(sum(r.m365 * CAST(@margin AS float8) * power(r.retention, t)
                                  / power(1 + CAST(@disc AS float8), t)) * 100 + 0.5) / 100
                   FROM generate_series(1, @horizon) t) AS clv
      FROM r
)
INSERT INTO crm_profiles (member_id, event_count, first_event_at, last_event_at, engagement, engagement_at,
                          purchases, purchase_total, last_purchase_at, events_90d, events_prev_90d, monetary_365d,
                          clv, churn_risk, stage, stage_since, advocate, csat, nps, interests, interest_weights, factors,
                          consent_email, consent_inapp, refreshed_at, updated_at, kind_points, kind_counts, nps_at)
SELECT a.member_id, a.event_count, a.first_at, a.last_at, eng.engagement, a.last_at,
       a.purchases, a.purchase_total, a.last_purchase_at, a.e90, a.p90, a.m365,
       a.clv, a.churn, a.stage, now(), a.acc >= @advocate, sat.csat, nps.nps,
       coalesce(top.tags, '{}'), coalesce(top.weights, '{}'),
       jsonb_build_object(
           'engagement', coalesce(kinds.factors, '[]'),
           'churn', (SELECT jsonb_agg(x.f ORDER BY x.i) FROM (VALUES
                        (1, CASE WHEN a.rec_pts IS NOT NULL THEN jsonb_build_object('key', 'crm.factor.recency', 'points', a.rec_pts, 'value', a.idle) END),
                        (2, CASE WHEN a.trend_pts IS NOT NULL THEN jsonb_build_object('key', 'crm.factor.trend', 'points', a.trend_pts, 'value', floor(a.dropped + 0.5)) END)
                    ) x(i, f) WHERE x.f IS NOT NULL),
           'clv', jsonb_build_array(jsonb_build_object('key', 'crm.factor.revenue', 'points', 0, 'value', a.m365),
                                    jsonb_build_object('key', 'crm.factor.retention', 'points', 0, 'value', floor(100 * a.retention + 0.5))),
           'stage', a.why),
       C_EMAIL % 100 < 45, C_INAPP % 100 < 92, now(), now(), tot.points, tot.counts, nps.nps_at
  FROM v a
  JOIN eng USING (member_id)
  JOIN tot USING (member_id)
  LEFT JOIN kinds USING (member_id)
  LEFT JOIN sat USING (member_id)
  LEFT JOIN nps USING (member_id)
  LEFT JOIN top USING (member_id)`)
}

// crmRankSQL is the statement of the scheduled refresh's rankAll: quintiles and their
// segment name, CLV percentile, the core-member flag, and every engagement score
// re-based to now.
func crmRankSQL() string {
	return strings.Replace(`
UPDATE crm_profiles p SET r_score = q.r, f_score = q.f, m_score = q.m, clv_percentile = q.cp, core_member = q.core,
       rfm_segment = RFM_CASE,
       engagement = p.engagement * power(0.5, greatest(0, extract(epoch FROM now() - p.engagement_at)) / @h),
       engagement_at = CASE WHEN p.engagement_at IS NULL THEN NULL ELSE now() END
  FROM (SELECT member_id,
               ntile(5) OVER (ORDER BY last_event_at NULLS FIRST, member_id) AS r,
               ntile(5) OVER (ORDER BY events_90d, member_id) AS f,
               ntile(5) OVER (ORDER BY monetary_365d, member_id) AS m,
               floor(percent_rank() OVER (ORDER BY clv) * 100)::int AS cp,
               cume_dist() OVER (ORDER BY clv DESC, engagement * power(0.5, greatest(0, extract(epoch FROM now() - engagement_at)) / @h) DESC NULLS LAST) <= 0.2 AS core
          FROM crm_profiles WHERE NOT erased) q
 WHERE p.member_id = q.member_id`, "RFM_CASE", rfmCaseSQL(), 1)
}
