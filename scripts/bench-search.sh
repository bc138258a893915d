#!/usr/bin/env bash
# bench-search.sh: the search benchmark of issue 6 on the generated community (the data set
# of scripts/bench-forum.sh, kept in .bench-data/); appends a dated section to BENCHMARKS.md.
#
#   1. installs wrk/curl/psql/jq (apt) if missing and builds bin/hearth;
#   2. starts the private PostgreSQL + Meilisearch under .bench-data (`hearth services`) and
#      generates the data set once (`hearth seed --scale $SCALE`) if it is not there;
#   3. reindex: `hearth reindex` rebuilds the whole index (docs/s from its own report; how busy
#      Meilisearch was and on what, from its /batches);
#   4. queries: starts `hearth serve` ($WORKERS outbox workers); wrk at concurrency 1, then 8,
#      sends GET /api/v1/search?q=<1 or 2 frequent title words>&category=questions (a facet
#      filter) as a visitor, and the identical request straight to Meilisearch (the ceiling),
#      one after the other: p50/p95/p99;
#   5. write-to-searchable: `hearth bench-search-writes` writes $RATE replies/s for
#      $WRITE_DURATION through POST /api/v1/threads/{id}/posts, as $MEMBERS logged-in
#      generated members, into $WRITE_THREADS random questions; each reply carries a word of
#      its own, and every $PROBE_EVERY-th is searched for through /api/v1/search until found;
#   6. appends the figures, the issue's targets, CPU shares and load to BENCHMARKS.md.
#
# Environment: SCALE (1), DURATION (20s), WARMUP (5s), WORKERS (2), REINDEX (1; 0 keeps the
# index as it is), RATE (50), WRITE_DURATION (60s), PROBE_EVERY (10), MEMBERS (20),
# WRITE_THREADS (1000), HEARTH_BIN (a hearth binary to use instead of building bin/hearth).
# MEILI_* variables reach Meilisearch (e.g. MEILI_MAX_INDEXING_THREADS; the report names them).
# Each run adds RATE × WRITE_DURATION replies (3,000 by default) to the data set.
# Everything it started is stopped on exit, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
case ${1:-} in
-h | --help)
	sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'
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
WORKERS=${WORKERS:-2}
REINDEX=${REINDEX:-1}
RATE=${RATE:-50}
WRITE_DURATION=${WRITE_DURATION:-60s}
PROBE_EVERY=${PROBE_EVERY:-10}
MEMBERS=${MEMBERS:-20}
WRITE_THREADS=${WRITE_THREADS:-1000}
# Targets of issue 6 (2 cores).
TARGET_DOCS_S=4000
TARGET_RATIO=1.3
TARGET_P95_C8_MS=50
TARGET_W50_MS=1000
TARGET_W95_MS=5000

data=.bench-data
bin=bin/hearth
say() { echo "bench-search: $*"; }
die() {
	say "FAIL: $*" >&2
	exit 1
}

# --- tools ------------------------------------------------------------------------------------
apt_install() {
	local sudo=()
	[ "$(id -u)" -eq 0 ] || sudo=(sudo)
	"${sudo[@]}" apt-get install -y "$@" || { "${sudo[@]}" apt-get update && "${sudo[@]}" apt-get install -y "$@"; }
}
command -v wrk >/dev/null || { say "installing wrk"; apt_install wrk; }
command -v psql >/dev/null || { say "installing psql"; apt_install postgresql-client; }
command -v curl >/dev/null || { say "installing curl"; apt_install curl; }
command -v jq >/dev/null || { say "installing jq"; apt_install jq; }
if [ -n "${HEARTH_BIN:-}" ]; then
	bin=$HEARTH_BIN
	say "using $bin"
else
	say "building $bin"
	go build -o "$bin" ./cmd/hearth
fi
help=$("$bin" bench-search-writes -h 2>&1 || true)
grep -q -- -probe-every <<<"$help" || die "$bin has no bench-search-writes subcommand (cmd/hearth/bench_search.go)"

# --- processes: remembered in start order, stopped in reverse on exit -------------------------
pids=()
names=()
stop_all() {
	local i pid
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		pid=${pids[i]}
		kill -0 "$pid" 2>/dev/null || continue
		say "stopping ${names[i]} (pid $pid)"
		kill -TERM "$pid" 2>/dev/null || true
		# hearth services stops PostgreSQL and Meilisearch before it exits; give it a minute.
		for _ in $(seq 120); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.5
		done
		if kill -0 "$pid" 2>/dev/null; then
			say "${names[i]} did not stop within 60 s; killing pid $pid" >&2
			kill -KILL "$pid" 2>/dev/null || true
		fi
		wait "$pid" 2>/dev/null || true
	done
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
start() { # start NAME LOG CMD...: runs CMD in the background, remembered for stop_all
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
meili_pid=$(pgrep -f -- "--db-path $PWD/$data/services/meili" | head -n 1)
[ -n "$meili_pid" ] || die "cannot find the Meilisearch process of $data"
meili_env=$(env | grep '^MEILI_' | grep -v -e '^MEILI_URL=' -e '^MEILI_MASTER_KEY=' | paste -sd ' ' || true)
# The tuning options hearth gives its private Meilisearch (internal/embedded/meili.go).
meili_opts=$(tr '\0' '\n' <"/proc/$meili_pid/cmdline" | awk '/^--(log-level|max-indexing-[a-z]+|experimental-[a-z-]+)$/ { o = $0; getline; printf "%s%s %s", (n++ ? " " : ""), o, $0 }')

"$bin" migrate up >/dev/null || die "hearth migrate up failed on the database in $data"
if [ "$(sql "SELECT count(*) FROM users WHERE email LIKE 'gen-%@scale.hearth.local'")" -eq 0 ]; then
	say "generating the data set: hearth seed --scale $SCALE"
	"$bin" seed --scale "$SCALE" | tee "$data/seed.log"
fi
counts=$(sql "SELECT (SELECT count(*) FROM forum_threads) || ' threads, ' || (SELECT count(*) FROM forum_posts) || ' posts'")

# --- CPU accounting (as in bench-forum.sh) ------------------------------------------------------
# Clock ticks (1/100 s) of a process, of this PostgreSQL (postmaster and backends), of this
# Meilisearch, and of the whole machine (busy). The machine may be shared: what our processes
# did not use was taken by something else, and the report says so.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
pg_ticks() {
	local pm n=0 p
	pm=$(head -n 1 "$data/services/postgres/postmaster.pid")
	for p in $pm $(pgrep -P "$pm"); do n=$((n + $(ticks "$p"))); done
	echo $n
}
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
cpu_mark() { echo "$(date +%s.%N) $(busy_ticks) $(ticks "${1:-0}") $(pg_ticks) $(ticks "$meili_pid")"; }
# cpu_split MARK0 MARK1 [APP_TICKS] [TOOL_TICKS]: "app / pg / meili / tool / other / idle" in %
# of the machine (all cores = 100). APP_TICKS overrides the app's /proc figure (a process
# that has exited); TOOL_TICKS is the load generator's (from `time`).
cpu_split() {
	awk -v m0="$1" -v m1="$2" -v app="${3:-}" -v tool="${4:-0}" -v n="$(nproc)" 'BEGIN {
		split(m0, a, " "); split(m1, b, " ")
		all = (b[1] - a[1]) * n * 100; busy = b[2] - a[2]
		if (app == "") app = b[3] - a[3]
		pg = b[4] - a[4]; me = b[5] - a[5]
		o = busy - app - pg - me - tool; if (o < 0) o = 0
		printf "%.0f / %.0f / %.0f / %.0f / %.0f / %.0f", 100 * app / all, 100 * pg / all, 100 * me / all,
			100 * tool / all, 100 * o / all, 100 * (all - busy) / all }'
}
# `time` output "user sys" -> ticks (its last line: the tool's own stderr may come first)
time_ticks() { awk 'END { printf "%.0f", ($1 + $2) * 100 }' "$1"; }
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A cpu

# --- 1. indexing throughput ---------------------------------------------------------------------
# Meilisearch's step names and durations ("12.3ms", "1.2s", "80µs") summed over batches.
jq_defs='def secs: capture("PT((?<m>[0-9]+)M)?(?<s>[0-9.]+)S") | ((.m // "0") | tonumber) * 60 + (.s | tonumber);
def dsecs: capture("^(?<v>[0-9.]+)(?<u>ns|µs|ms|s)$") | (.v | tonumber) * ({"ns": 1e-9, "µs": 1e-6, "ms": 1e-3, "s": 1}[.u]);
def ts: capture("^(?<d>[^.Z]+)(?<f>\\.[0-9]+)?Z$") | ((.d + "Z") | fromdateiso8601) + ((.f // "0") | tonumber);'
if [ "$REINDEX" = 1 ]; then
	last_batch=$(meili "$MEILI_URL/batches?limit=1" | jq '.results[0].uid // -1')
	say "reindex (progress: $data/reindex-progress.log)"
	m0=$(cpu_mark)
	{
		TIMEFORMAT='%U %S'
		time "$bin" reindex >"$data/reindex.log" 2>"$data/reindex-progress.log"
	} 2>"$data/time-reindex.txt" || { tail -c 2000 "$data/reindex-progress.log" >&2; die "hearth reindex failed"; }
	m1=$(cpu_mark)
	cat "$data/reindex.log"
	cpu[reindex]=$(cpu_split "$m0" "$m1" "$(time_ticks "$data/time-reindex.txt")")
	read -r docs index_time index_rate < <(sed -n 's/^Indexed \([0-9]*\) documents in \([^ ]*\) (\([0-9]*\) docs\/s).*/\1 \2 \3/p' "$data/reindex.log")
	[ -n "${index_rate:-}" ] || die "no figures in the reindex output"
	# Where the time went inside Meilisearch: its batches on the index being rebuilt.
	meili "$MEILI_URL/batches?limit=2000" | jq --argjson after "$last_batch" "$jq_defs"'
		[.results[] | select(.uid > $after and ((.stats.indexUids // {}) | keys | any(endswith("__rebuild"))))] as $b
		| ($b | map(.duration | secs) | add) as $busy
		| "\($b | length) batches of \(($b | map(.details.receivedDocuments // 0) | add) / ($b | length) | round) documents on average (largest \($b | map(.details.receivedDocuments // 0) | max)); Meilisearch was busy indexing \($busy | round) s of the \((($b | map(.finishedAt | ts) | max) - ($b | map(.startedAt | ts) | min)) | round) s between its first and last batch; of that time: "
		+ ([$b[].stats.progressTrace | to_entries[] | select(.key | test("^processing tasks > indexing > [^>]+$"))
			| {k: (.key | sub("^processing tasks > indexing > "; "")), v: (.value | dsecs)}]
			| group_by(.k) | map({k: .[0].k, v: (map(.v) | add)}) | sort_by(-.v) | .[0:5]
			| map("\(.k) \(100 * .v / $busy | round) %") | join(", "))' -r >"$data/reindex-batches.txt" ||
		echo "(Meilisearch batches unavailable)" >"$data/reindex-batches.txt"
	say "$(cat "$data/reindex-batches.txt")"
fi
settings=$(meili "$MEILI_URL/indexes/content/settings" | jq -r '"proximityPrecision \(.proximityPrecision), \(.filterableAttributes | length) filterable attributes"')

# --- 2. hearth serve, and queries -----------------------------------------------------------------
free_port() {
	local p
	for p in $(shuf -i 20000-60000 -n 50); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	die "no free port"
}
port=$(free_port)
say "starting hearth serve on :$port with $WORKERS outbox workers"
start serve "$data/serve-search.log" env HEARTH_ADDR="127.0.0.1:$port" HEARTH_WORKERS="$WORKERS" "$bin" serve
serve_pid=${pids[-1]}
base="http://127.0.0.1:$port"
for ((i = 0; ; i++)); do
	curl -sf -o /dev/null "$base/readyz" && break
	kill -0 "$serve_pid" 2>/dev/null || { tail -n 20 "$data/serve-search.log" >&2; die "hearth serve exited"; }
	[ $i -lt 120 ] || die "hearth serve does not answer within 60 s ($data/serve-search.log)"
	sleep 0.5
done

# Queries: one or two of the 300 most frequent title words (longer than 3 letters) of the
# questions category, drawn at random; a fixed seed keeps the list the same across runs.
questions=$(sql "SELECT id FROM forum_categories WHERE slug = 'questions'")
sql "SELECT w FROM (SELECT regexp_split_to_table(lower(title), '[^a-z]+') AS w FROM forum_threads
	WHERE category_id = $questions ORDER BY id LIMIT 20000) s WHERE length(w) > 3 GROUP BY w ORDER BY count(*) DESC, w LIMIT 300" >"$data/words"
[ -s "$data/words" ] || die "no words to search for"
awk 'BEGIN { srand(6) } { w[NR] = $0 } END { for (i = 0; i < 1000; i++) {
	q = w[int(rand() * NR) + 1]; if (i % 2) q = q " " w[int(rand() * NR) + 1]; print q } }' "$data/words" >"$data/queries"
# The request Hearth sends to Meilisearch for a visitor (search/meili_query.go, checked
# against a capture of Hearth's traffic); QUERY is replaced. Pinned to one readable
# category, it carries no list of denied categories and does not count the category facet;
# the API counts no tags unless asked (search.APIFacets).
cat >"$data/direct.json" <<JSON
{"q":"QUERY","filter":["read_roles IN [\"everyone\"]","category_id = $questions"],
 "facets":["kind","status"],"hitsPerPage":20,"page":1,
 "attributesToRetrieve":["id","kind","type","ref_id","thread_id","title","url","category_id","tags","status","solved","author","author_name","created_at","score","replies"],
 "attributesToHighlight":["title","body"],"attributesToCrop":["body"],"cropLength":28,"cropMarker":"…",
 "highlightPreTag":"\ue000","highlightPostTag":"\ue001"}
JSON
cat >"$data/search.lua" <<LUA
local queries = {}
for line in io.lines("$data/queries") do queries[#queries + 1] = line end
local f = io.open("$data/direct.json"); local tpl = f:read("*a"); f:close()
local direct = os.getenv("DIRECT") == "1"
local threads, counter = {}, 0
function setup(thread)
	counter = counter + 1
	thread:set("id", counter)
	threads[#threads + 1] = thread
end
bad = 0 -- responses other than 200; a global, read by done() through thread:get
function init(args) math.randomseed(os.time() * 100 + id) end
function request()
	local q = queries[math.random(#queries)]
	if direct then
		return wrk.format("POST", "/indexes/content/search", {["Content-Type"] = "application/json",
			["Authorization"] = "Bearer $MEILI_MASTER_KEY"}, (tpl:gsub("QUERY", q)))
	end
	return wrk.format("GET", "/api/v1/search?q=" .. q:gsub(" ", "%%20") .. "&category=questions")
end
function response(status, headers, body)
	if status ~= 200 then bad = bad + 1 end
end
function done(summary, latency, requests)
	local n = 0
	for _, t in ipairs(threads) do n = n + t:get("bad") end
	io.write(string.format("PCT %.2f %.2f %.2f %.0f\n", latency:percentile(50) / 1000, latency:percentile(95) / 1000,
		latency:percentile(99) / 1000, summary.requests / (summary.duration / 1e6)))
	io.write(string.format("ERRORS %d\n", n + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA
declare -A p50 p95 p99 rps errs
run_wrk() { # run_wrk NAME CONNECTIONS URL DIRECT
	local name=$1 c=$2 url=$3 out=$data/wrk-search-$1.txt a b d e m0 m1
	say "$name: warm-up $WARMUP, then wrk -t1 -c$c -d$DURATION"
	DIRECT=$4 wrk -t1 -c"$c" -d"$WARMUP" -s "$data/search.lua" "$url" >/dev/null
	m0=$(cpu_mark "$serve_pid")
	{
		TIMEFORMAT='%U %S'
		time DIRECT=$4 wrk -t1 -c"$c" -d"$DURATION" -s "$data/search.lua" "$url" >"$out"
	} 2>"$data/time-$name.txt"
	m1=$(cpu_mark "$serve_pid")
	cpu[$name]=$(cpu_split "$m0" "$m1" "" "$(time_ticks "$data/time-$name.txt")")
	read -r _ a b d e < <(grep '^PCT' "$out")
	p50[$name]=$a p95[$name]=$b p99[$name]=$d rps[$name]=$e
	errs[$name]=$(awk '/^ERRORS/ { print $2 }' "$out")
	say "$name: p50 ${p50[$name]} ms, p95 ${p95[$name]} ms, p99 ${p99[$name]} ms, ${rps[$name]} req/s, errors ${errs[$name]}; CPU ${cpu[$name]}"
}
for c in 1 8; do
	run_wrk "direct-c$c" "$c" "$MEILI_URL" 1
	run_wrk "hearth-c$c" "$c" "$base" 0
done

# --- 3. write-to-searchable under a steady stream of replies ---------------------------------------
# Members: generated ones (password from internal/scale). Each logs in from its own loopback
# address, so that the per-address log-in limit (30 per 15 minutes) allows repeated runs.
: >"$data/tokens"
i=0
for email in $(sql "SELECT email FROM users WHERE email LIKE 'gen-%@scale.hearth.local' AND role = 'member' ORDER BY random() LIMIT $MEMBERS"); do
	i=$((i + 1))
	curl -sf --interface "127.0.$((i / 250 + 1)).$((i % 250 + 2))" -H 'Content-Type: application/json' \
		-d "{\"email\":\"$email\",\"password\":\"hearth-scale-2026\"}" "$base/api/v1/auth/login" |
		jq -er .access_token >>"$data/tokens" || die "cannot log in as $email"
done
sql "SELECT id FROM forum_threads WHERE category_id = $questions AND deleted_at IS NULL AND NOT hidden AND NOT locked
	ORDER BY random() LIMIT $WRITE_THREADS" >"$data/write-threads"
# The generated threads were never indexed through the outbox, so the first change to each
# would also rewrite all its replies (search_fanout has no fingerprint for it). Re-sync the
# chosen threads once through the outbox first, as any thread that lived through the forum has
# been, and let everything settle: the measurement is the steady state.
wait_idle() { # until the workers' outbox rows are done and Meilisearch has no task waiting
	local i n m
	for ((i = 0; i < 600; i++)); do
		n=$(sql "SELECT count(*) FROM outbox WHERE (topic LIKE 'search.%' OR topic LIKE 'crm.%') AND processed_at IS NULL AND parked_at IS NULL")
		m=$(meili "$MEILI_URL/tasks?statuses=enqueued,processing&limit=1" | jq .total)
		[ "$n" = 0 ] && [ "$m" = 0 ] && return 0
		sleep 1
	done
	die "the outbox ($n rows) or Meilisearch ($m tasks) did not settle within 10 minutes"
}
say "write-to-searchable: re-syncing the $WRITE_THREADS threads first"
sql "INSERT INTO outbox (topic, payload) SELECT 'search.thread', jsonb_build_object('thread_id', id)
	FROM forum_threads WHERE id IN ($(paste -sd, "$data/write-threads")); NOTIFY hearth_outbox, 'search.thread'"
wait_idle
metric() { curl -sf "$base/metrics" | awk -v n="$1" '$1 == n { print $2 }'; }
task_sum0=$(metric hearth_search_task_seconds_sum) task_n0=$(metric hearth_search_task_seconds_count)
say "write-to-searchable: $RATE replies/s for $WRITE_DURATION as $MEMBERS members into $WRITE_THREADS threads"
w_start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
m0=$(cpu_mark "$serve_pid")
{
	TIMEFORMAT='%U %S'
	time "$bin" bench-search-writes --base "$base" --tokens "$data/tokens" --threads "$data/write-threads" \
		--rate "$RATE" --duration "$WRITE_DURATION" --probe-every "$PROBE_EVERY" --raw "$data/probes.txt" >"$data/writes.txt"
} 2>"$data/time-writes.txt" || { cat "$data/writes.txt" "$data/time-writes.txt" >&2; die "bench-search-writes failed"; }
m1=$(cpu_mark "$serve_pid")
w_end=$(date -u +%Y-%m-%dT%H:%M:%SZ)
cpu[writes]=$(cpu_split "$m0" "$m1" "" "$(time_ticks "$data/time-writes.txt")")
cat "$data/writes.txt"
wait_idle
task_sum1=$(metric hearth_search_task_seconds_sum) task_n1=$(metric hearth_search_task_seconds_count)
# RESULT sent=… ok=… p50=… → ${wr[sent]}, ${wr[ok]}, ${wr[p50]}, …
declare -A wr
read -ra kvs < <(sed -n 's/^RESULT //p' "$data/writes.txt")
for kv in "${kvs[@]}"; do wr[${kv%%=*}]=${kv#*=}; done
[ -n "${wr[p95]:-}" ] || die "no figures from bench-search-writes ($data/writes.txt)"
# The two stages behind the figure: outbox row written -> handled (documents sent), and
# Meilisearch task enqueued -> finished.
outbox_stage=$(sql "SELECT round(1000 * percentile_cont(0.5) WITHIN GROUP (ORDER BY d)) || ' / ' || round(1000 * percentile_cont(0.95) WITHIN GROUP (ORDER BY d))
	FROM (SELECT extract(epoch FROM processed_at - created_at) AS d FROM outbox
	WHERE topic = 'search.post' AND created_at BETWEEN '$w_start' AND '$w_end' AND processed_at IS NOT NULL) s")
meili_stage=$(meili "$MEILI_URL/tasks?types=documentAdditionOrUpdate&indexUids=content&afterEnqueuedAt=$w_start&beforeEnqueuedAt=$w_end&limit=100000" |
	jq -r "$jq_defs"'def pct(p): sort | .[((length * p) | ceil) - 1] * 1000 | round;
		[.results[] | select(.status == "succeeded") | (.finishedAt | ts) - (.enqueuedAt | ts)] | "\(pct(0.5)) / \(pct(0.95))"')
meili_batches=$(meili "$MEILI_URL/batches?limit=5000" | jq -r --arg a "$w_start" --arg b "$w_end" "$jq_defs"'
	[.results[] | select(.startedAt >= $a and .startedAt <= $b and (.stats.types | has("documentAdditionOrUpdate")))]
	| "\(length) batches of \((map(.stats.totalNbTasks) | add) / length | round) tasks on average, \((map(.duration | secs) | add) / length * 1000 | round) ms each"')
task_mean=$(awk -v s0="$task_sum0" -v s1="$task_sum1" -v n0="$task_n0" -v n1="$task_n1" 'BEGIN { printf "%.0f", (n1 > n0 ? 1000 * (s1 - s0) / (n1 - n0) : 0) }')
serve_problems=$(grep -c -E 'level=(WARN|ERROR)|^[0-9/]+ [0-9:]+ (WARN|ERROR) ' "$data/serve-search.log" || true)

# --- report ----------------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
yn() { awk "BEGIN { print (($1) ? \"met\" : \"**missed**\") }"; } # yn CONDITION (awk syntax)
meili_version=$(meili "$MEILI_URL/version" | jq -r .pkgVersion)
{
	echo
	echo "## $(date -u '+%Y-%m-%d %H:%M UTC'): search, scale $SCALE"
	echo
	echo "Data: $counts. \`hearth serve\` ($WORKERS outbox workers for search rows and $WORKERS for the rest), PostgreSQL, Meilisearch and the load"
	echo "generators all on the same machine."
	echo
	echo "| measurement | figure | target | verdict | CPU % hearth / pg / meili / load tool / other / idle |"
	echo "|---|---|---|---|---|"
	if [ "$REINDEX" = 1 ]; then
		echo "| full reindex (\`hearth reindex\`) | **$index_rate docs/s** ($docs documents in $index_time) | ≥ $TARGET_DOCS_S docs/s | $(yn "$index_rate >= $TARGET_DOCS_S") | ${cpu[reindex]} |"
	fi
	for c in 1 8; do
		r=$(ratio "${p95[hearth-c$c]}" "${p95[direct-c$c]}")
		echo "| query, concurrency $c, Meilisearch direct | p50 ${p50[direct-c$c]} / p95 ${p95[direct-c$c]} / p99 ${p99[direct-c$c]} ms, ${rps[direct-c$c]} req/s | (ceiling) | | ${cpu[direct-c$c]} |"
		target="p95 ≤ $TARGET_RATIO× direct" cond="$r <= $TARGET_RATIO"
		if [ "$c" = 8 ]; then target="$target and < $TARGET_P95_C8_MS ms" cond="$cond && ${p95[hearth-c$c]} < $TARGET_P95_C8_MS"; fi
		echo "| query, concurrency $c, Hearth API | p50 ${p50[hearth-c$c]} / **p95 ${p95[hearth-c$c]}** / p99 ${p99[hearth-c$c]} ms, ${rps[hearth-c$c]} req/s; p95 **${r}×** direct | $target | $(yn "$cond") | ${cpu[hearth-c$c]} |"
	done
	echo "| write-to-searchable, ${wr[rate]} replies/s written | **p50 ${wr[p50]} ms, p95 ${wr[p95]} ms** (p99 ${wr[p99]}, max ${wr[max]}; ${wr[probes]} probes, ${wr[timeout]} not found within 30 s, counted as 30 s) | p50 < 1 s, p95 < 5 s | $(yn "${wr[p50]} < $TARGET_W50_MS && ${wr[p95]} < $TARGET_W95_MS && ${wr[timeout]} == 0") | ${cpu[writes]} |"
	echo
	if [ "$REINDEX" = 1 ]; then
		echo "- Reindex: $(cat "$data/reindex-batches.txt")."
	else
		echo "- Reindex: not run (REINDEX=0)."
	fi
	echo "- Index settings: $settings; Meilisearch options given by hearth: ${meili_opts:-none}; from the environment: ${meili_env:-none} (by default it indexes with half the cores)."
	echo "- Queries: one or two of the 300 most frequent title words of the questions category (1,000 queries, half of them two words), filtered on that category (\`category=questions\`), as a visitor; the direct request is the one Hearth sends (visibility filter, facets, highlighting, crop). wrk -t1, $WARMUP warm-up, $DURATION each, direct and Hearth one after the other; errors and non-200 answers: ${errs[hearth-c1]}/${errs[hearth-c8]} (Hearth), ${errs[direct-c1]}/${errs[direct-c8]} (direct)."
	echo "- Write-to-searchable: \`hearth bench-search-writes\` writes $RATE replies/s on a fixed schedule (open loop) for $WRITE_DURATION through \`POST /api/v1/threads/{id}/posts\`, as $MEMBERS logged-in members, into $WRITE_THREADS random questions; each reply carries a word of its own; every $PROBE_EVERY-th is searched for through \`/api/v1/search\` (every 100 ms for 1 s, then every 250 ms, then every second) until its document is a hit, timed from sending the write. Writes answered: ${wr[ok]} of ${wr[sent]} (${wr[failed]} failed), p50 ${wr[w50]} / p95 ${wr[w95]} ms; ${wr[polls_per_s]} searches/s of probing; at the end ${wr[missing]} of ${wr[ok]} replies were not found. Stages: outbox row to documents sent (search.post) p50 / p95 $outbox_stage ms; Meilisearch task enqueued to finished p50 / p95 $meili_stage ms ($meili_batches); mean of \`hearth_search_task_seconds\` $task_mean ms. The $WRITE_THREADS threads were re-synced through the outbox before (the generated data has no fan-out fingerprints)."
	echo "- CPU: shares of the whole machine ($(nproc) cores = 100 %) during each measurement: \`hearth serve\` (or \`hearth reindex\`), this PostgreSQL, this Meilisearch, wrk or bench-search-writes, other processes on the machine, idle."
	echo "- Load average (1, 5, 15 min) before the measurements: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg). \`hearth serve\` logged $serve_problems warnings or errors."
	echo "- Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r)."
	echo "- Software: Meilisearch $meili_version, PostgreSQL $(sql "SHOW server_version" | cut -d' ' -f1), $(go version | cut -d' ' -f3), $(wrk --version 2>&1 | head -n 1 | cut -d' ' -f1-2), hearth $("$bin" version | cut -d' ' -f2)."
	echo "- Commands:"
	echo
	echo '  ```sh'
	echo "  $([ -z "$meili_env" ] || echo "$meili_env ")SCALE=$SCALE DURATION=$DURATION WARMUP=$WARMUP WORKERS=$WORKERS REINDEX=$REINDEX RATE=$RATE WRITE_DURATION=$WRITE_DURATION PROBE_EVERY=$PROBE_EVERY MEMBERS=$MEMBERS WRITE_THREADS=$WRITE_THREADS scripts/bench-search.sh"
	echo "  # which runs:"
	[ "$REINDEX" = 0 ] || echo "  bin/hearth reindex"
	echo "  HEARTH_LOG_LEVEL=warn HEARTH_WORKERS=$WORKERS bin/hearth serve"
	echo "  DIRECT=1 wrk -t1 -c1 -d$DURATION -s .bench-data/search.lua \$MEILI_URL     # and -c8"
	echo "  wrk -t1 -c1 -d$DURATION -s .bench-data/search.lua http://127.0.0.1:PORT   # and -c8"
	echo "  bin/hearth bench-search-writes --base http://127.0.0.1:PORT --tokens .bench-data/tokens \\"
	echo "    --threads .bench-data/write-threads --rate $RATE --duration $WRITE_DURATION --probe-every $PROBE_EVERY"
	echo '  ```'
} >>BENCHMARKS.md
say "results appended to BENCHMARKS.md"
