#!/usr/bin/env bash
# bench-forum.sh [--fresh]: load test of the forum's read paths on a generated community;
# appends a dated results section to BENCHMARKS.md.
#
#   1. installs wrk (apt) if missing and builds bin/hearth;
#   2. starts a private PostgreSQL + Meilisearch under .bench-data/ (`hearth services`);
#   3. once: `hearth migrate up` and `hearth seed --scale $SCALE` (1 = 100,000 members,
#      100,000 threads, 1,000,000 posts); later runs reuse the data (--fresh regenerates);
#   4. starts `hearth serve` and `hearth bench-baseline` (a bare Fiber handler doing one
#      primary-key SELECT: the ceiling) on two free ports;
#   5. warms up, then runs wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION --latency on the
#      baseline, a thread page, a category list, the latest list and the JSON API, with
#      random posts and threads from the data set, sampling the RSS of `hearth serve`;
#   6. writes req/s, p50, p99, % of the baseline and the targets to BENCHMARKS.md.
#
# Environment: SCALE (1), DURATION (20s), WARMUP (5s), CONNECTIONS (32), WRK_THREADS (2),
# HEARTH_BIN (a hearth binary to use instead of building bin/hearth).
# Everything it started is stopped on exit, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

fresh=0
for arg in "$@"; do
	case $arg in
	--fresh) fresh=1 ;;
	-h | --help)
		sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "usage: scripts/bench-forum.sh [--fresh]" >&2
		exit 2
		;;
	esac
done

SCALE=${SCALE:-1}
DURATION=${DURATION:-20s}
WARMUP=${WARMUP:-5s}
CONNECTIONS=${CONNECTIONS:-32}
WRK_THREADS=${WRK_THREADS:-2}
# Targets from the forum issue: at least this share of the baseline's req/s, p99 under this.
TARGET_SHARE=50
TARGET_P99_MS=50
RSS_BUDGET_MIB=100

data=.bench-data
bin=bin/hearth
say() { echo "bench: $*"; }
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

if [ -n "${HEARTH_BIN:-}" ]; then
	bin=$HEARTH_BIN
	say "using $bin"
else
	say "building $bin"
	go build -o "$bin" ./cmd/hearth
fi
help=$("$bin" bench-baseline -h 2>&1 || true)
if ! grep -q -- -addr <<<"$help"; then
	die "$bin has no bench-baseline subcommand: add it to the switch in cmd/hearth/main.go (see BENCHMARKS.md)"
fi

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
if [ $fresh -eq 1 ]; then
	say "--fresh: deleting $data"
	rm -rf "$data"
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
export DATABASE_URL=$HEARTH_TEST_DATABASE_URL
export MEILI_URL=$HEARTH_TEST_MEILI_URL
export MEILI_MASTER_KEY=$HEARTH_TEST_MEILI_MASTER_KEY
[ -s "$data/secret" ] || openssl rand -hex 32 >"$data/secret"
HEARTH_SECRET=$(cat "$data/secret")
export HEARTH_SECRET
export HEARTH_DEMO=false HEARTH_LOG_LEVEL=warn HEARTH_WORKERS=0 HEARTH_DATA_DIR="$data/hearth"
sql() { psql "$DATABASE_URL" -X -v ON_ERROR_STOP=1 -Atq -c "$1"; }

# --- data set -----------------------------------------------------------------------------------
"$bin" migrate up >/dev/null || die "hearth migrate up failed on the database in $data (--fresh starts over)"
generated=$(sql "SELECT count(*) FROM users WHERE email LIKE 'gen-%@scale.hearth.local'")
if [ "$generated" -eq 0 ]; then
	say "generating the data set: hearth seed --scale $SCALE (log: $data/seed.log)"
	t0=$(date +%s.%N)
	"$bin" seed --scale "$SCALE" 2>&1 | tee "$data/seed.log"
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" -v d="$(date -u +%Y-%m-%d)" -v s="$SCALE" \
		'BEGIN { printf "%.0f s on %s (hearth seed --scale %s)\n", b - a, d, s }' >"$data/seed-time"
else
	say "reusing the data set in $data ($generated generated members; --fresh regenerates)"
fi
seed_time=$(cat "$data/seed-time" 2>/dev/null || echo "unknown (generated before timings were kept)")

# Random posts for the baseline and random visible threads (id + slug) for thread pages.
sql "SELECT '/post/' || id FROM forum_posts ORDER BY random() LIMIT 20000" >"$data/paths-baseline"
# A quarter of the slugs are Chinese: the Lua script percent-encodes them as browsers do.
sql "SELECT id || E'\t' || slug FROM forum_threads WHERE deleted_at IS NULL AND NOT hidden
	ORDER BY random() LIMIT 20000" >"$data/paths-thread"
echo /c/questions >"$data/paths-category"
echo /latest >"$data/paths-latest"
echo "/api/v1/threads?mode=latest" >"$data/paths-api"

# wrk script: random path from $BENCH_PATHS ("id<TAB>slug" lines become /t/<id>/<escaped slug>),
# counts responses that are not 200 (wrk itself only counts >= 400).
cat >"$data/bench.lua" <<'LUA'
local paths = {}
local function escape(s)
	return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
for line in io.lines(os.getenv("BENCH_PATHS")) do
	local id, slug = line:match("^(%d+)\t(.*)$")
	paths[#paths + 1] = id and ("/t/" .. id .. "/" .. escape(slug)) or line
end
local threads, counter = {}, 0
function setup(thread)
	counter = counter + 1
	thread:set("id", counter)
	threads[#threads + 1] = thread
end
bad = 0 -- a global: done() reads it from each thread with thread:get
function init(args)
	math.randomseed(os.time() * 100 + id)
end
function request()
	return wrk.format("GET", paths[math.random(#paths)])
end
function response(status, headers, body)
	if status ~= 200 then bad = bad + 1 end
end
function done(summary, latency, requests)
	local n = 0
	for _, t in ipairs(threads) do n = n + t:get("bad") end
	io.write(string.format("non-200 responses: %d\n", n))
end
LUA

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
serve_port=$(free_port)
base_port=$(free_port)
[ "$serve_port" != "$base_port" ] || base_port=$(free_port)

say "starting hearth serve on :$serve_port and hearth bench-baseline on :$base_port"
start serve "$data/serve.log" env HEARTH_ADDR="127.0.0.1:$serve_port" "$bin" serve
serve_pid=${pids[-1]}
start baseline "$data/baseline.log" "$bin" bench-baseline --addr "127.0.0.1:$base_port"
base_pid=${pids[-1]}
for url in "http://127.0.0.1:$serve_port/healthz" "http://127.0.0.1:$base_port/post/1"; do
	for ((i = 0; ; i++)); do
		curl -s -o /dev/null "$url" && break
		[ $i -lt 120 ] || die "$url does not answer within 60 s (logs in $data/)"
		sleep 0.5
	done
done
rss_idle=$(($(ps -o rss= -p "$serve_pid") / 1024))
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# --- measurements -------------------------------------------------------------------------------
to_ms() { # wrk latency (850.00us, 1.23ms, 1.02s, 2.00m) -> milliseconds
	awk -v v="$1" 'BEGIN {
		if (v ~ /us$/) printf "%.2f", v / 1000; else if (v ~ /ms$/) printf "%.2f", v + 0;
		else if (v ~ /m$/) printf "%.2f", v * 60000; else printf "%.2f", v * 1000 }'
}
# CPU time, in clock ticks (1/100 s): of a process, of our PostgreSQL (postmaster and its
# backends), and of the whole machine (busy, not idle). The machine may be shared; what the
# benchmark's own processes did not use was taken by something else, and the report says so.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
pg_ticks() {
	local pm n=0 p
	pm=$(head -n 1 "$data/services/postgres/postmaster.pid")
	for p in $pm $(pgrep -P "$pm"); do n=$((n + $(ticks "$p"))); done
	echo $n
}
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
declare -A rps p50 p99 bad rss url cpu
order=()
bench() { # bench NAME BASE_URL PATHS_FILE
	local name=$1 base=$2 paths=$3 out=$data/wrk-$1.txt peak sampler
	order+=("$name")
	url[$name]=$(head -n 1 "$paths")
	[ "$name" = thread ] && url[$name]="/t/<random id>/<slug>"
	[ "$name" = baseline ] && url[$name]="/post/<random id>"
	say "$name: warm-up $WARMUP, then wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION --latency"
	BENCH_PATHS=$paths wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$WARMUP" -s "$data/bench.lua" "$base" >/dev/null
	# RSS of hearth serve, sampled every half second while wrk runs
	(
		while kill -0 "$serve_pid" 2>/dev/null; do
			ps -o rss= -p "$serve_pid"
			sleep 0.5
		done
	) >"$data/rss-$name.txt" &
	sampler=$!
	local t0 b0 s0 l0 p0 w t1 b1 s1 l1 p1
	t0=$(date +%s.%N) b0=$(busy_ticks) s0=$(ticks "$serve_pid") l0=$(ticks "$base_pid") p0=$(pg_ticks)
	{
		TIMEFORMAT='%U %S'
		time BENCH_PATHS=$paths wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$data/bench.lua" "$base" >"$out"
	} 2>"$data/time-$name.txt"
	t1=$(date +%s.%N) b1=$(busy_ticks) s1=$(ticks "$serve_pid") l1=$(ticks "$base_pid") p1=$(pg_ticks)
	w=$(awk '{ printf "%.0f", ($1 + $2) * 100 }' "$data/time-$name.txt")
	cat "$out"
	# shares of the whole machine (all cores = 100 %): hearth serve, baseline, PostgreSQL, wrk, other
	cpu[$name]=$(awk -v t0="$t0" -v t1="$t1" -v n="$(nproc)" -v b=$((b1 - b0)) -v s=$((s1 - s0)) -v l=$((l1 - l0)) \
		-v p=$((p1 - p0)) -v w="$w" 'BEGIN {
			all = (t1 - t0) * n * 100
			o = b - s - l - p - w; if (o < 0) o = 0
			printf "%.0f / %.0f / %.0f / %.0f / %.0f", 100 * (s + l) / all, 100 * p / all, 100 * w / all, 100 * o / all, 100 * (all - b) / all }')
	kill "$sampler" 2>/dev/null || true
	wait "$sampler" 2>/dev/null || true
	peak=$(awk '$1 > m { m = $1 } END { print m + 0 }' "$data/rss-$name.txt")
	rps[$name]=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
	p50[$name]=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
	p99[$name]=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
	bad[$name]=$(awk '/^non-200 responses:/ { n = $3 } /Socket errors|Non-2xx/ { s = s $0 "; " } END { print n (s ? " (" s ")" : "") }' "$out")
	rss[$name]=$((peak / 1024))
}
bench baseline "http://127.0.0.1:$base_port" "$data/paths-baseline"
bench thread "http://127.0.0.1:$serve_port" "$data/paths-thread"
bench category "http://127.0.0.1:$serve_port" "$data/paths-category"
bench latest "http://127.0.0.1:$serve_port" "$data/paths-latest"
bench api "http://127.0.0.1:$serve_port" "$data/paths-api"

# --- report ------------------------------------------------------------------------------------
counts=$(sql "SELECT (SELECT count(*) FROM users) || ' users, ' || (SELECT count(*) FROM forum_threads) || ' threads, '
	|| (SELECT count(*) FROM forum_posts) || ' posts; database ' || pg_size_pretty(pg_database_size(current_database()))")
pg_version=$(sql "SHOW server_version")
shared_buffers=$(sql "SHOW shared_buffers")
rss_peak=0
for n in "${order[@]}"; do [ "$n" = baseline ] || [ "${rss[$n]}" -le "$rss_peak" ] || rss_peak=${rss[$n]}; done
label() {
	case $1 in
	baseline) echo "baseline: bare Fiber + 1 PK SELECT" ;;
	thread) echo "thread page" ;;
	category) echo "category list" ;;
	latest) echo "latest list" ;;
	api) echo "JSON API, latest" ;;
	esac
}
verdict() { # verdict NAME: the issue's targets for the thread page and the category list
	local n=$1 share ok_share ok_p99
	share=$(awk -v a="${rps[$n]}" -v b="${rps[baseline]}" 'BEGIN { printf "%.1f", (b > 0 ? 100 * a / b : 0) }')
	ok_p99=$(awk -v p="${p99[$n]}" -v t=$TARGET_P99_MS 'BEGIN { print ((p < t) ? "yes" : "no") }')
	ok_share=$(awk -v s="$share" -v t=$TARGET_SHARE 'BEGIN { print ((s >= t) ? "yes" : "no") }')
	case $n in
	baseline) echo "100 % | (ceiling)" ;;
	thread | category)
		if [ "$ok_share" = yes ] && [ "$ok_p99" = yes ]; then v="**met**"; else v="**missed**"; fi
		echo "$share % | $v (≥ $TARGET_SHARE %: $ok_share, p99 < $TARGET_P99_MS ms: $ok_p99)"
		;;
	*) echo "$share % | no target (p99 < $TARGET_P99_MS ms: $ok_p99)" ;;
	esac
}
[ -f BENCHMARKS.md ] || printf '# Benchmarks\n\nResults of scripts/bench-forum.sh, newest last.\n' >BENCHMARKS.md
{
	echo
	echo "## $(date -u '+%Y-%m-%d %H:%M UTC'): forum read paths, scale $SCALE"
	echo
	echo "wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION --latency after a $WARMUP warm-up per endpoint; hearth serve,"
	echo "bench-baseline, PostgreSQL and wrk all on the same machine."
	echo
	echo "| endpoint | URL | req/s | p50 (ms) | p99 (ms) | % of baseline | target | non-200 | serve RSS peak (MiB) | CPU % app / pg / wrk / other / idle |"
	echo "|---|---|---:|---:|---:|---:|---|---:|---:|---|"
	for n in "${order[@]}"; do
		r="${rss[$n]}"
		[ "$n" = baseline ] && r="—"
		echo "| $(label "$n") | \`${url[$n]}\` | ${rps[$n]} | ${p50[$n]} | ${p99[$n]} | $(verdict "$n") | ${bad[$n]} | $r | ${cpu[$n]} |"
	done
	echo
	if [ "$rss_peak" -lt $RSS_BUDGET_MIB ]; then m="within"; else m="**over**"; fi
	echo "- Memory of \`hearth serve\`: ${rss_idle} MiB RSS idle after start, ${rss_peak} MiB peak under load (ps -o rss, every 0.5 s): $m the $RSS_BUDGET_MIB MiB budget."
	echo "- CPU: shares of the whole machine ($(nproc) cores = 100 %) during each measurement: the app under test (hearth serve, or bench-baseline), this PostgreSQL, wrk, other processes on the machine, idle."
	echo "- Load average (1, 5, 15 min) before the measurements: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg) (anything else running on the machine competes with the benchmark)."
	echo "- Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r)."
	echo "- Software: PostgreSQL $pg_version (private cluster from \`hearth services\`: fsync and synchronous_commit off, shared_buffers $shared_buffers), $(go version | cut -d' ' -f3), $(wrk --version 2>&1 | head -n 1 | cut -d' ' -f1-2), hearth $("$bin" version | cut -d' ' -f2)."
	echo "- Data set: $counts. Generated in $seed_time."
	echo "- Commands:"
	echo
	echo '  ```sh'
	echo "  SCALE=$SCALE DURATION=$DURATION CONNECTIONS=$CONNECTIONS WRK_THREADS=$WRK_THREADS scripts/bench-forum.sh"
	echo "  # which runs, for each endpoint, with BENCH_PATHS listing the URLs to pick from at random:"
	echo "  bin/hearth seed --scale $SCALE"
	echo "  HEARTH_LOG_LEVEL=warn HEARTH_WORKERS=0 bin/hearth serve"
	echo "  bin/hearth bench-baseline --addr 127.0.0.1:PORT"
	echo "  wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION --latency -s .bench-data/bench.lua http://127.0.0.1:PORT"
	echo '  ```'
} >>BENCHMARKS.md
say "results appended to BENCHMARKS.md"
