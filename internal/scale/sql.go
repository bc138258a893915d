package scale

import (
	"fmt"
	"strings"

	"github.com/hearth-community/hearth/forum"
)

const repPerAccepted = forum.RepPerAccepted

// The statements use GORM's named parameters (@name). GORM ends a name only at a
// space, comma, closing parenthesis, quote, newline or semicolon, so a name before
// "]" is followed by a space, and '@' never appears inside a literal.

// h is a deterministic pseudo-random non-negative int (31 bits) of a bigint
// expression; seed makes independent streams from the same row index.
func h(expr string, seed int) string {
	return fmt.Sprintf("(hashint8extended((%s)::bigint, %d) & 2147483647)", expr, seed)
}

// member picks a generated member id for a row, skewed so that a few members write
// a lot (u² of a uniform u), as in real communities.
func member(expr string, seed int) string {
	return fmt.Sprintf("(CAST(@members AS bigint[]))[1 + floor(@m * power(%s::float8 / 2147483648, 2))::int]", h(expr, seed))
}

// membersSQL inserts members lo … hi: e-mail gen-<i>@…, handle gen<i>, a third with
// Chinese names (and the Chinese locale), joined two to three years ago.
func membersSQL() string {
	return strings.NewReplacer(
		"H1", h("i", 1), "H2", h("i", 2), "H3", h("i", 3), "H4", h("i", 4),
	).Replace(`
INSERT INTO users (email, password_hash, display_name, role, handle, locale, created_at, updated_at)
SELECT 'gen-' || i || @domain, @hash,
       CASE WHEN H1 % 3 = 0
            THEN (CAST(@zhsur AS text[]))[1 + H2 % @nzhsur ] || (CAST(@zhgiven AS text[]))[1 + H3 % @nzhgiven ]
            ELSE (CAST(@first AS text[]))[1 + H2 % @nfirst ] || ' ' || (CAST(@last AS text[]))[1 + H3 % @nlast ] END,
       'member', 'gen' || i, CASE WHEN H1 % 3 = 0 THEN 'zh-Hans' ELSE '' END,
       now() - interval '730 days' - make_interval(secs => H4 % (365 * 86400)),
       now() - interval '730 days' - make_interval(secs => H4 % (365 * 86400))
  FROM generate_series(CAST(@lo AS bigint), CAST(@hi AS bigint)) i`)
}

// threadsSQL inserts threads lo … hi of total and all their posts in one statement
// (the posts join the threads' RETURNING rows, so every counter is consistent by
// construction), and returns the counts and the threads whose first reply is to be
// accepted.
//
// Posts per thread: threads are paired (1,2), (3,4) …; a pair gets ppt±d posts, d
// pseudo-random in 0 … ppt−1, so threads have 1 … 2·ppt−1 posts and the total is
// exactly total·ppt. Threads are spread 50/25/5/20 % over questions, ideas,
// announcements and offers; a quarter are in Chinese. Created times fall in the past
// two years; the last activity is up to 30 days later; reply times are in between.
func threadsSQL() string {
	post := "t.id * 100000 + n"
	sentence := func(seed int) string {
		return fmt.Sprintf("CASE WHEN x.zh THEN @n_en + 1 + %s %% @n_zh ELSE 1 + %s %% @n_en END", h(post, seed), h(post, seed))
	}
	return strings.NewReplacer(
		"H_PAIR", h("(i + 1) / 2", 5), "H_CAT", h("i", 7), "H_LANG", h("i", 8), "H_TITLE", h("i", 9),
		"H_NTAGS", h("i", 12), "H_TAG", h("i * 8 + j", 10), "H_CREATED", h("i", 13), "H_SPAN", h("i", 14),
		"H_VIEWS", h("i", 18), "H_KIND", h("i", 17), "H_ACCEPT", h("id", 16), "H_FOURTH", h(post, 26),
		"AUTHOR", member("i", 6), "LAST_POSTER", member("i", 15), "REPLIER", member(post, 21),
		"S1", sentence(22), "S2", sentence(23), "S3", sentence(24), "S4", sentence(25),
	).Replace(`
WITH g AS (
    SELECT i,
           CASE WHEN i % 2 = 1 AND i = @total THEN @ppt
                WHEN i % 2 = 1 THEN @ppt + (H_PAIR % (2 * @ppt - 1)) - (@ppt - 1)
                ELSE @ppt - ((H_PAIR % (2 * @ppt - 1)) - (@ppt - 1)) END AS k,
           H_CAT % 100 AS cat,
           H_LANG % 4 = 0 AS zh,
           AUTHOR AS author,
           now() - make_interval(secs => H_CREATED % (730 * 86400)) AS created
      FROM generate_series(CAST(@lo AS bigint), CAST(@hi AS bigint)) i
), src AS (
    SELECT g.*,
           CASE WHEN k = 1 THEN author ELSE LAST_POSTER END AS last_poster,
           CASE WHEN k = 1 THEN created
                ELSE created + least(now() - created, make_interval(secs => H_SPAN % (30 * 86400))) END AS last_at
      FROM g
), ins AS (
    INSERT INTO forum_threads (category_id, author_id, kind, title, slug, tags, view_count, reply_count, score,
                               last_post_number, last_poster_id, last_activity_at, created_at, updated_at)
    SELECT (CAST(@cats AS bigint[]))[CASE WHEN cat < 50 THEN 1 WHEN cat < 75 THEN 2 WHEN cat < 80 THEN 3 ELSE 4 END],
           author,
           CASE WHEN cat < 50 THEN CASE WHEN H_KIND % 10 = 0 THEN 'discussion' ELSE 'question' END
                WHEN cat >= 75 AND cat < 80 THEN 'announcement'
                ELSE 'discussion' END,
           CASE WHEN zh THEN (CAST(@zh_titles AS text[]))[1 + H_TITLE % @n_zh_titles ]
                ELSE (CAST(@en_titles AS text[]))[1 + H_TITLE % @n_en_titles ] END,
           CASE WHEN zh THEN (CAST(@zh_slugs AS text[]))[1 + H_TITLE % @n_zh_titles ]
                ELSE (CAST(@en_slugs AS text[]))[1 + H_TITLE % @n_en_titles ] END,
           ARRAY(SELECT DISTINCT (CAST(@tags AS text[]))[1 + H_TAG % @n_tags ]
                   FROM generate_series(1, H_NTAGS % 4) j),
           k * 7 + H_VIEWS % 500,
           k - 1, k - 1, k, last_poster, last_at, created, last_at
      FROM src
     ORDER BY i
    RETURNING id, author_id, kind, title, reply_count, last_poster_id, created_at, last_activity_at
), posts AS (
    INSERT INTO forum_posts (thread_id, number, author_id, body, body_html, created_at, updated_at)
    SELECT t.id, n,
           CASE WHEN n = 1 THEN t.author_id WHEN n = t.reply_count + 1 THEN t.last_poster_id ELSE REPLIER END,
           md[S1] || x.sep || md[S2] || E'\n\n' || md[S3]
               || CASE WHEN H_FOURTH % 2 = 0 THEN x.sep || md[S4] ELSE '' END,
           '<p>' || html[S1] || x.sep || html[S2] || E'</p>\n<p>' || html[S3]
               || CASE WHEN H_FOURTH % 2 = 0 THEN x.sep || html[S4] ELSE '' END || E'</p>\n',
           x.at, x.at
      FROM ins t
     CROSS JOIN LATERAL generate_series(1, t.reply_count + 1) n
     CROSS JOIN LATERAL (
           SELECT ascii(t.title) > 127 AS zh,
                  CASE WHEN ascii(t.title) > 127 THEN '' ELSE ' ' END AS sep,
                  CASE WHEN n = t.reply_count + 1 THEN t.last_activity_at
                       ELSE t.created_at + (t.last_activity_at - t.created_at) * ((n - 1)::float8 / greatest(t.reply_count, 1)) END AS at) x
     CROSS JOIN (SELECT CAST(@md AS text[]) AS md, CAST(@html AS text[]) AS html) v
     ORDER BY t.id, n
    RETURNING 1
)
SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM posts),
       (SELECT coalesce(min(id), 0) FROM ins), (SELECT coalesce(max(id), 0) FROM ins),
       (SELECT coalesce(array_agg(id), '{}') FROM ins
         WHERE kind = 'question' AND reply_count > 0 AND H_ACCEPT % 3 = 0)`)
}

// statsSQL sets the counters the forum service keeps per member: threads started,
// replies, accepted answers and the reputation those earned.
const statsSQL = `
INSERT INTO forum_member_stats (member_id, reputation, threads, replies, accepted)
SELECT s.author_id, @rep * coalesce(a.n, 0), s.threads, s.replies, coalesce(a.n, 0)
  FROM (SELECT p.author_id, count(*) FILTER (WHERE p.number = 1) AS threads,
               count(*) FILTER (WHERE p.number > 1) AS replies
          FROM forum_posts p
         WHERE p.author_id = ANY(CAST(@members AS bigint[]))
         GROUP BY p.author_id) s
  LEFT JOIN (SELECT p.author_id, count(*) AS n
               FROM forum_threads t JOIN forum_posts p ON p.id = t.accepted_post_id
              WHERE p.author_id = ANY(CAST(@members AS bigint[]))
              GROUP BY p.author_id) a ON a.author_id = s.author_id
ON CONFLICT (member_id) DO UPDATE SET
    reputation = forum_member_stats.reputation + EXCLUDED.reputation,
    threads = forum_member_stats.threads + EXCLUDED.threads,
    replies = forum_member_stats.replies + EXCLUDED.replies,
    accepted = forum_member_stats.accepted + EXCLUDED.accepted`

// excerptSQL fills forum_threads.excerpt for threads @lo … @hi from their opening posts,
// as the forum service does when a thread is written (markup ExcerptHTML of the body's
// HTML, 160 runes): tags stripped, the five entities html.EscapeString writes decoded,
// whitespace collapsed, cut at 160 characters with "…". The generated HTML has only
// inline tags and paragraphs, so this is what the service keeps (scale_test checks it).
const excerptSQL = `
UPDATE forum_threads t
   SET excerpt = CASE WHEN char_length(x.txt) > 160 THEN rtrim(left(x.txt, 160), ' ') || '…' ELSE x.txt END
  FROM forum_posts p
 CROSS JOIN LATERAL (
       SELECT btrim(regexp_replace(
                replace(replace(replace(replace(replace(
                    regexp_replace(p.body_html, '<[^>]*>', '', 'g'),
                    '&lt;', '<'), '&gt;', '>'), '&#34;', '"'), '&#39;', ''''), '&amp;', '&'),
                '\s+', ' ', 'g')) AS txt) x
 WHERE t.id BETWEEN @lo AND @hi AND p.thread_id = t.id AND p.number = 1`
