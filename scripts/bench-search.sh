#!/usr/bin/env bash
# bench-search.sh: the search benchmark on the generated community (the data set of
# scripts/bench-forum.sh, shared in $BENCH_DATA); appends a dated section to BENCHMARKS.md.
#
#   1. installs wrk/curl/psql (apt) if missing and builds bin/hearth;
#   2. starts a private PostgreSQL + Meilisearch under $BENCH_DATA (`hearth services`), and
#      generates the data set once (`hearth seed --scale $SCALE`) if it is not there;
#   3. indexing: `hearth reindex` rebuilds the whole index (docs/s, from its own report);
#   4. starts `hearth serve` (2 outbox workers) and measures, with wrk at concurrency 1 and 8,
#      GET /api/v1/search?q=<random title word>&category=questions (a facet filter) as a
#      visitor, and the same query sent straight to Meilisearch with the filter, facets,
#      highlighting and cropping Hearth sends (the ceiling): p50/p95/p99;
#   5. write-to-searchable: while wrk writes $RATE replies/s through the API, one probe reply a
#      second carries a unique word and is searched for every 50 ms until found;
#   6. writes the figures and the issue's targets to BENCHMARKS.md.
#
# Environment: SCALE (1), BENCH_DATA (.bench-data), DURATION (20s), WARMUP (5s), RATE (50),
# PROBES (30), HEARTH_BIN (a hearth binary to use instead of building bin/hearth).
# Everything it started is stopped on exit, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
case ${1:-} in
-h | --help)
	sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
"") ;;
*)
	echo "usage: scripts/bench-search.sh" >&2
	exit 2
	;;
esac

SCALE=${SCALE:-1}
DURATION=${DURATION:-20s}
WARMUP=${WARMUP:-5s}
RATE=${RATE:-50}
PROBES=${PROBES:-30}
data=${BENCH_DATA:-.bench-data}
bin=bin/hearth
say() { echo "bench-search: $*"; }
die() {
	say "FAIL: $*" >&2
	exit 1
}

# --- tools and processes (as in bench-forum.sh) -------------------------------------------------
apt_install() {
	local sudo=()
	[ "$(id -u)" -eq 0 ] || sudo=(sudo)
	"${sudo[@]}" apt-get install -y "$@" || { "${sudo[@]}" apt-get update && "${sudo[@]}" apt-get install -y "$@"; }
}
command -v wrk >/dev/null || { say "installing wrk"; apt_install wrk; }
command -v psql >/dev/null || { say "installing psql"; apt_install postgresql-client; }
command -v curl >/dev/null || { say "installing curl"; apt_install curl; }
if [ -n "${HEARTH_BIN:-}" ]; then bin=$HEARTH_BIN; else
	say "building $bin"
	go build -o "$bin" ./cmd/hearth
fi

pids=()
names=()
stop_all() {
	local i pid
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		pid=${pids[i]}
		kill -0 "$pid" 2>/dev/null || continue
		say "stopping ${names[i]} (pid $pid)"
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 120); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.5
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
start() { # start NAME LOG CMD...
	local name=$1 log=$2
	shift 2
	"$@" >"$log" 2>&1 &
	pids+=($!)
	names+=("$name")
}
if stale=$(pgrep -af -- "$PWD/$data/"); then
	die "processes of an earlier benchmark still use $data; stop them first:
$stale"
fi
mkdir -p "$data"
rm -f "$data/env"
say "starting PostgreSQL and Meilisearch (log: $data/services.log)"
start services "$data/services.log" "$bin" services --dir "$data/services" --env-file "$data/env"
for ((i = 0; ; i++)); do
	grep -qs HEARTH_TEST_MEILI_MASTER_KEY "$data/env" && break
	kill -0 "${pids[0]}" 2>/dev/null || { tail -n 20 "$data/services.log" >&2; die "services exited"; }
	[ $i -lt 240 ] || die "services not ready within 120 s"
	sleep 0.5
done
# shellcheck source=/dev/null
source "$data/env"
export DATABASE_URL=$HEARTH_TEST_DATABASE_URL MEILI_URL=$HEARTH_TEST_MEILI_URL MEILI_MASTER_KEY=$HEARTH_TEST_MEILI_MASTER_KEY
[ -s "$data/secret" ] || openssl rand -hex 32 >"$data/secret"
HEARTH_SECRET=$(cat "$data/secret")
export HEARTH_SECRET HEARTH_DEMO=false HEARTH_LOG_LEVEL=warn HEARTH_DATA_DIR="$data/hearth"
sql() { psql "$DATABASE_URL" -X -v ON_ERROR_STOP=1 -Atq -c "$1"; }
meili() { curl -sf -H "Authorization: Bearer $MEILI_MASTER_KEY" -H 'Content-Type: application/json' "$@"; }

"$bin" migrate up >/dev/null || die "hearth migrate up failed on the database in $data"
if [ "$(sql "SELECT count(*) FROM users WHERE email LIKE 'gen-%@scale.hearth.local'")" -eq 0 ]; then
	say "generating the data set: hearth seed --scale $SCALE"
	"$bin" seed --scale "$SCALE" | tee "$data/seed.log"
fi
counts=$(sql "SELECT (SELECT count(*) FROM forum_threads) || ' threads, ' || (SELECT count(*) FROM forum_posts) || ' posts'")

# --- 1. indexing throughput -----------------------------------------------------------------------
say "reindex (log: $data/reindex.log)"
"$bin" reindex 2>"$data/reindex-progress.log" | tee "$data/reindex.log"
read -r docs index_time index_rate < <(sed -n 's/^Indexed \([0-9]*\) documents in \([^ ]*\) (\([0-9]*\) docs\/s).*/\1 \2 \3/p' "$data/reindex.log")
[ -n "${index_rate:-}" ] || die "no figures in the reindex output"

# --- 2. hearth serve ------------------------------------------------------------------------------
port=$(shuf -i 20000-60000 -n 1)
start serve "$data/serve-search.log" env HEARTH_ADDR="127.0.0.1:$port" HEARTH_WORKERS=2 "$bin" serve
base="http://127.0.0.1:$port"
for ((i = 0; ; i++)); do
	curl -sf -o /dev/null "$base/readyz" && break
	[ $i -lt 120 ] || die "hearth serve does not answer within 60 s ($data/serve-search.log)"
	sleep 0.5
done

# Words to search for: frequent enough to match, from titles of the questions category.
questions=$(sql "SELECT id FROM forum_categories WHERE slug = 'questions'")
denied=$(sql "SELECT coalesce(string_agg(id::text, ', '), '') FROM forum_categories WHERE NOT ('everyone' = ANY(read_roles))")
sql "SELECT w FROM (SELECT regexp_split_to_table(lower(title), '[^a-z]+') AS w FROM forum_threads
	WHERE category_id = $questions LIMIT 20000) s WHERE length(w) > 3 GROUP BY w ORDER BY count(*) DESC LIMIT 200" >"$data/words"
[ -s "$data/words" ] || die "no words to search for"
# The request Hearth sends to Meilisearch for a visitor (search/meili_query.go); WORD is replaced.
deny=""
[ -z "$denied" ] || deny="\"category_id NOT IN [$denied]\","
cat >"$data/direct.json" <<JSON
{"q":"WORD","filter":["read_roles IN [\"everyone\"]",$deny"category_id = $questions"],
 "facets":["kind","category_id","tags","status"],"hitsPerPage":20,"page":1,
 "attributesToRetrieve":["id","kind","type","ref_id","thread_id","title","url","category_id","tags","status","solved","author","author_name","created_at","score","replies"],
 "attributesToHighlight":["title","body"],"attributesToCrop":["body"],"cropLength":28,"cropMarker":"…",
 "highlightPreTag":"\ue000","highlightPostTag":"\ue001"}
JSON
cat >"$data/search.lua" <<LUA
local words = {}
for line in io.lines("$data/words") do words[#words + 1] = line end
local f = io.open("$data/direct.json"); local tpl = f:read("*a"); f:close()
local direct = os.getenv("DIRECT") == "1"
function init(args) math.randomseed(os.time() * 1000 + math.random(1000)) end
function request()
	local w = words[math.random(#words)]
	if direct then
		return wrk.format("POST", "/indexes/content/search", {["Content-Type"] = "application/json",
			["Authorization"] = "Bearer $MEILI_MASTER_KEY"}, (tpl:gsub("WORD", w)))
	end
	return wrk.format("GET", "/api/v1/search?q=" .. w .. "&category=questions")
end
function done(summary, latency, requests)
	io.write(string.format("PCT %.2f %.2f %.2f %.0f\n", latency:percentile(50) / 1000, latency:percentile(95) / 1000,
		latency:percentile(99) / 1000, summary.requests / (summary.duration / 1e6)))
	io.write(string.format("ERRORS %d\n", summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
LUA
declare -A p50 p95 p99 rps errs
run_wrk() { # run_wrk NAME CONNECTIONS URL [DIRECT]
	local name=$1 c=$2 url=$3 out=$data/wrk-search-$1.txt
	DIRECT=${4:-0} wrk -t1 -c"$c" -d"$WARMUP" -s "$data/search.lua" "$url" >/dev/null
	DIRECT=${4:-0} wrk -t1 -c"$c" -d"$DURATION" -s "$data/search.lua" "$url" >"$out"
	local a b c d
	read -r _ a b c d < <(grep '^PCT' "$out")
	p50[$name]=$a p95[$name]=$b p99[$name]=$c rps[$name]=$d
	errs[$name]=$(awk '/^ERRORS/ { print $2 }' "$out")
	say "$name: p50 ${p50[$name]} ms, p95 ${p95[$name]} ms, p99 ${p99[$name]} ms, ${rps[$name]} req/s, errors ${errs[$name]}"
}
for c in 1 8; do
	run_wrk "direct-c$c" "$c" "$MEILI_URL" 1
	run_wrk "hearth-c$c" "$c" "$base"
done

# --- 3. write-to-searchable under a steady write stream --------------------------------------------
token=$(curl -sf -H 'Content-Type: application/json' -d '{"email":"alice@demo.hearth.local","password":"hearth-demo-2026"}' \
	"$base/api/v1/auth/login" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[ -n "$token" ] || die "cannot log in as the demo member alice"
thread=$(sql "SELECT id FROM forum_threads WHERE category_id = $questions AND deleted_at IS NULL AND NOT hidden AND NOT locked ORDER BY id LIMIT 1")
cat >"$data/write.lua" <<LUA
local n = 0
function request()
	n = n + 1
	return wrk.format("POST", "/api/v1/threads/$thread/posts", {["Content-Type"] = "application/json",
		["Authorization"] = "Bearer $token"}, '{"body":"Steady load reply ' .. n .. ' ' .. math.random(1e9) .. '"}')
end
function delay() return 2000 / $RATE end -- two connections
LUA
writes_before=$(sql "SELECT count(*) FROM forum_posts WHERE thread_id = $thread")
wrk -t1 -c2 -d"$((PROBES + 5))s" -s "$data/write.lua" "$base" >"$data/wrk-writes.txt" &
writer=$!
: >"$data/probes.txt"
for ((i = 0; i < PROBES; i++)); do
	word=$(openssl rand -hex 8 | tr '0-9' 'g-p') # letters only: one word to the tokenizer
	t0=$(date +%s%3N)
	curl -sf -o /dev/null -H 'Content-Type: application/json' -H "Authorization: Bearer $token" \
		-d "{\"body\":\"Probe $word\"}" "$base/api/v1/threads/$thread/posts" || die "probe write failed"
	until [[ "$(curl -sf "$base/api/v1/search?q=$word&per_page=1")" == *'"total":'[1-9]* ]]; do
		[ $(($(date +%s%3N) - t0)) -lt 30000 ] || { echo 30000 >>"$data/probes.txt" && continue 2; }
		sleep 0.05
	done
	echo $(($(date +%s%3N) - t0)) >>"$data/probes.txt"
	sleep 0.5
done
wait "$writer" || true
writes=$(($(sql "SELECT count(*) FROM forum_posts WHERE thread_id = $thread") - writes_before - PROBES))
write_rate=$(awk -v n="$writes" -v d="$((PROBES + 5))" 'BEGIN { printf "%.0f", n / d }')
read -r w50 w95 < <(sort -n "$data/probes.txt" | awk '{ a[NR] = $1 } END { i50 = int(NR * .5 + .5); i95 = int(NR * .95 + .5);
	if (i50 < 1) i50 = 1; if (i95 < 1) i95 = 1; print a[i50], a[i95] }')

# --- report ---------------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
yn() { awk "BEGIN { print (($1) ? \"met\" : \"**missed**\") }"; } # yn CONDITION (awk syntax)
r8=$(ratio "${p95[hearth-c8]}" "${p95[direct-c8]}")
{
	echo
	echo "## $(date -u '+%Y-%m-%d %H:%M UTC'): search, scale $SCALE"
	echo
	echo "Data: $counts; $docs documents indexed (threads with their opening post, and replies)."
	echo
	echo "| measurement | figure | target | verdict |"
	echo "|---|---:|---|---|"
	echo "| full reindex (\`hearth reindex\`) | $index_rate docs/s ($docs in $index_time) | ≥ 4,000 docs/s | $(yn "$index_rate >= 4000") |"
	for c in 1 8; do
		r=$(ratio "${p95[hearth-c$c]}" "${p95[direct-c$c]}")
		echo "| query, concurrency $c, Meilisearch direct | p50 ${p50[direct-c$c]} / p95 ${p95[direct-c$c]} / p99 ${p99[direct-c$c]} ms, ${rps[direct-c$c]} req/s | (ceiling) | |"
		echo "| query, concurrency $c, Hearth API | p50 ${p50[hearth-c$c]} / p95 ${p95[hearth-c$c]} / p99 ${p99[hearth-c$c]} ms, ${rps[hearth-c$c]} req/s; p95 ${r}× direct | p95 ≤ 1.3× direct$([ $c = 8 ] && echo ", < 50 ms") | $(yn "$r <= 1.3 && ($c == 1 || ${p95[hearth-c$c]} < 50)") |"
	done
	echo "| write-to-searchable, $write_rate replies/s written meanwhile ($PROBES probes) | p50 $w50 ms, p95 $w95 ms | p50 < 1 s, p95 < 5 s | $(yn "$w50 < 1000 && $w95 < 5000") |"
	echo
	echo "- Queries: a random frequent title word of the questions category, filtered on that category (\`category=questions\`), as a visitor; the direct request carries the same filter (visibility included), facets, highlighting and crop. wrk -t1, $WARMUP warm-up, $DURATION each; errors: ${errs[hearth-c1]}/${errs[hearth-c8]} (Hearth), ${errs[direct-c1]}/${errs[direct-c8]} (direct)."
	echo "- Write-to-searchable: each probe is a reply through \`POST /api/v1/threads/{id}/posts\` carrying a unique word, searched for every 50 ms through \`/api/v1/search\` until found; \`hearth serve\` runs 2 outbox workers."
	echo "- Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); hearth $("$bin" version | cut -d' ' -f2); Meilisearch $(meili "$MEILI_URL/version" | sed -n 's/.*"pkgVersion":"\([^"]*\)".*/\1/p'); load average after: $(cut -d' ' -f1-3 /proc/loadavg)."
	echo "- Command: \`SCALE=$SCALE DURATION=$DURATION RATE=$RATE PROBES=$PROBES scripts/bench-search.sh\`"
} >>BENCHMARKS.md
say "results appended to BENCHMARKS.md (p95 ratio at concurrency 8: $r8)"
