#!/usr/bin/env bash
# bench-crm.sh [--fresh]: the CRM benchmark (CRM issue, "Figures"); appends a dated section
# to BENCHMARKS.md.
#
#   1. builds bin/hearth; starts a private PostgreSQL (+ Meilisearch) under .bench-crm/
#      (`hearth services`); once: `hearth migrate up` and `hearth bench-crm generate --scale
#      $SCALE` (1 = 1,000,000 members with profiles, 20,000,000 events); later runs reuse it;
#   2. waits (up to $WAIT_QUIET s) until other processes leave the machine mostly idle;
#   3. load: `hearth bench-crm workers` (outbox workers as `hearth worker` runs them, without its
#      scheduled full refresh) while `hearth bench-crm load` appends $RATE events/s through
#      crm.Append for $DURATION, once per $LOADS entry: p95 from commit to refreshed profile
#      (the event's crm.profile row processed: the refresh that answers it commits the
#      profile and the row together), and whether the incremental fields show each event at
#      commit; then the same with the real `hearth worker`, whose start-up full refresh runs
#      meanwhile (step load-worker);
#   4. segment: `hearth bench-crm segment` counts three 4-condition rules through the rule
#      compiler $RUNS times each, with EXPLAIN (ANALYZE, BUFFERS); segment-load: the same,
#      one round of counts a second, while `hearth bench-crm load` appends $RATE events/s
#      (workers and pick of the first $LOADS entry) and the workers refresh the profiles;
#   5. rebuild: incremental fields against the events, and crm Rebuild, for $SAMPLE members;
#   6. refresh-all: crm RefreshAll over every profile: time and peak RSS (/usr/bin/time -v);
#      rebuild-all: crm RebuildAll (every profile rebuilt from its events), the same;
#   7. writes the figures, the targets, the CPU split of each step and the commands.
#
# Environment: SCALE (1), RATE (500), DURATION (60s), SENDERS (32), RUNS (30), TAG (battery),
# SAMPLE (2000), LOADS (workers:pick per load run, default "2:activity 2:uniform 8:activity";
# pick: activity or uniform), STEPS ("load load-worker segment rebuild refresh-all rebuild-all";
# segment-load is not in the default),
# WAIT_QUIET (900),
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
		sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "usage: scripts/bench-crm.sh [--fresh]" >&2
		exit 2
		;;
	esac
done

SCALE=${SCALE:-1}
RATE=${RATE:-500}
DURATION=${DURATION:-60s}
SENDERS=${SENDERS:-32}
RUNS=${RUNS:-30}
TAG=${TAG:-battery}
SAMPLE=${SAMPLE:-2000}
LOADS=${LOADS:-2:activity 2:uniform 8:activity}
STEPS=${STEPS:-load load-worker segment rebuild refresh-all rebuild-all}
WAIT_QUIET=${WAIT_QUIET:-900}
SEGMENT_LOAD_DURATION=${SEGMENT_LOAD_DURATION:-75s} # the load of segment-load: 15 s before + 33 rounds of counts
# Targets from the CRM issue.
TARGET_LATENCY_MS=1000
TARGET_SEGMENT_MS=50

data=.bench-crm
bin=bin/hearth
say() { echo "bench-crm: $*"; }
die() {
	say "FAIL: $*" >&2
	exit 1
}
command -v psql >/dev/null || die "psql is missing (apt-get install postgresql-client)"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"
if [ -n "${HEARTH_BIN:-}" ]; then bin=$HEARTH_BIN; else
	say "building $bin"
	go build -o "$bin" ./cmd/hearth
fi
help=$("$bin" bench-crm 2>&1 || true)
grep -q refresh-all <<<"$help" || die "$bin has no bench-crm subcommand: add it to the switch in cmd/hearth/main.go"

# --- processes: remembered in start order, stopped in reverse on exit -------------------------
pids=()
names=()
stop_pid() { # stop_pid PID NAME
	local pid=$1
	kill -0 "$pid" 2>/dev/null || return 0
	say "stopping $2 (pid $pid)"
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 120); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.5
	done
	if kill -0 "$pid" 2>/dev/null; then
		say "$2 did not stop within 60 s; killing pid $pid" >&2
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}
stop_all() {
	local i
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop_pid "${pids[i]}" "${names[i]}"; done
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

# processes using this data folder: named by its path, or by a relative path from a
# working directory where it is the same folder (other worktrees have their own copies)
stale=""
real_data=$(realpath -m "$data")
for p in $(pgrep -f -- "$PWD/$data/|--dir $data/services" || true); do
	cwd=$(readlink "/proc/$p/cwd" 2>/dev/null) || continue
	args=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) || continue
	if [[ $args == *"$PWD/$data/"* ]] || [ "$(realpath -m "$cwd/$data")" = "$real_data" ]; then
		stale+="$p $args"$'\n'
	fi
done
if [ -n "$stale" ]; then
	die "processes of an earlier run still use $data; stop them first:
$stale"
fi
if [ $fresh -eq 1 ]; then
	say "--fresh: deleting $data"
	rm -rf "$data"
fi
mkdir -p "$data"
rm -f "$data/env"
say "starting PostgreSQL (log: $data/services.log)"
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

# --- CPU accounting ------------------------------------------------------------------------------
# Clock ticks (1/100 s) of a process, of this PostgreSQL (postmaster with its reaped and live
# backends) and of the whole machine (busy, not idle).
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
pg_ticks() {
	local pm n p
	pm=$(head -n 1 "$data/services/postgres/postmaster.pid")
	n=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat")
	for p in $(pgrep -P "$pm"); do n=$((n + $(ticks "$p"))); done
	echo "$n"
}
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
timed_ticks() { # CPU of a command run under /usr/bin/time -v, from its report, in ticks
	awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.0f", s * 100 }' "$1"
}
declare -A cpu_t0 cpu_b0 cpu_p0 cpu_w0
cpu_begin() { # cpu_begin STEP [WORKERS_PID]
	cpu_t0[$1]=$(date +%s.%N) cpu_b0[$1]=$(busy_ticks) cpu_p0[$1]=$(pg_ticks) cpu_w0[$1]=$(ticks "${2:-0}")
}
cpu_end() { # cpu_end STEP APP_TICKS [WORKERS_PID] -> "app / workers / pg / other / idle" (% of all cores)
	local t1 b p w
	t1=$(date +%s.%N) b=$(($(busy_ticks) - cpu_b0[$1])) p=$(($(pg_ticks) - cpu_p0[$1]))
	w=$(($(ticks "${3:-0}") - cpu_w0[$1]))
	[ "${3:-0}" != 0 ] || w=0
	awk -v t0="${cpu_t0[$1]}" -v t1="$t1" -v n="$(nproc)" -v b=$b -v a="$2" -v w=$w -v p=$p 'BEGIN {
		all = (t1 - t0) * n * 100; o = b - a - w - p; if (o < 0) o = 0
		printf "%.0f / %.0f / %.0f / %.0f / %.0f", 100 * a / all, 100 * w / all, 100 * p / all, 100 * o / all, 100 * (all - b) / all }'
}

# wait_quiet: until the machine's CPU, less this benchmark's PostgreSQL, is mostly idle (other
# processes below 25 % of all cores over 10 s), or WAIT_QUIET seconds have passed.
wait_quiet() {
	local waited=0 b0 p0 b1 p1 other
	while :; do
		b0=$(busy_ticks) p0=$(pg_ticks)
		sleep 10
		b1=$(busy_ticks) p1=$(pg_ticks)
		other=$(((b1 - b0 - (p1 - p0)) / (10 * $(nproc))))
		if [ "$other" -lt 25 ]; then
			quiet="quiet (other processes ${other} % of the CPU)"
			return
		fi
		waited=$((waited + 10))
		if [ $waited -ge "$WAIT_QUIET" ]; then
			quiet="**not quiet**: other processes used ${other} % of the CPU after waiting ${WAIT_QUIET} s"
			say "$quiet; measuring anyway"
			return
		fi
		say "other processes use ${other} % of the CPU; waiting (${waited}/${WAIT_QUIET} s): $(ps -eo pcpu=,args= --sort=-pcpu | head -n 2 | cut -c1-100 | tr '\n' ';')"
	done
}

# --- data set -----------------------------------------------------------------------------------
"$bin" migrate up >/dev/null || die "hearth migrate up failed on the database in $data (--fresh starts over)"
profiles=$(sql "SELECT count(*) FROM crm_profiles")
if [ "$profiles" -eq 0 ]; then
	say "generating the data set: hearth bench-crm generate --scale $SCALE (log: $data/generate.log)"
	load_gen="$(cut -d' ' -f1-3 /proc/loadavg)"
	cpu_begin generate
	/usr/bin/time -v -o "$data/time-generate.txt" "$bin" bench-crm generate --scale "$SCALE" 2>&1 | tee "$data/generate.log"
	cpu=$(cpu_end generate "$(timed_ticks "$data/time-generate.txt")")
	{
		echo "took=$(awk '/^generated in/ { print $3 }' "$data/generate.log")"
		echo "steps=\"$(awk '/^  [a-z ]+: / { sub(/^  /, ""); printf "%s%s", sep, $0; sep = ", " }' "$data/generate.log")\""
		echo "rss=$(awk -F': ' '/Maximum resident/ { printf "%d", $2 / 1024 }' "$data/time-generate.txt")"
		echo "cpu=\"$cpu\" load=\"$load_gen\" date=$(date -u +%Y-%m-%d)"
	} >"$data/generate.env"
else
	say "reusing the data set in $data ($profiles profiles; --fresh regenerates)"
fi
# shellcheck source=/dev/null
[ -s "$data/generate.env" ] && source "$data/generate.env"

# --- measurements -------------------------------------------------------------------------------
declare -A cpu_of load_of workers_of
order=()
run_step() { # run_step NAME WORKERS_PID CMD...: runs CMD under /usr/bin/time -v, records CPU
	local name=$1 wpid=$2
	shift 2
	[ -n "${no_wait:-}" ] || wait_quiet
	say "$name: $*"
	load_of[$name]="$(cut -d' ' -f1-3 /proc/loadavg)"
	cpu_begin "$name" "$wpid"
	/usr/bin/time -v -o "$data/time-$name.txt" "$@" 2>"$data/$name.err" | tee "$data/$name.out"
	cpu_of[$name]="$(cpu_end "$name" "$(timed_ticks "$data/time-$name.txt")" "$wpid") ($quiet; load ${load_of[$name]})"
	order+=("$name")
}
load_args=(--rate "$RATE" --duration "$DURATION" --senders "$SENDERS")
declare -A discarded_of label_of
# discard_backlog STEP: crm.profile rows a previous load step left unprocessed would sit ahead
# of this step's rows in the queue; they are marked processed (and counted) first.
discard_backlog() {
	discarded_of[$1]=$(sql "WITH d AS (UPDATE outbox SET processed_at = now(), last_error = 'bench-crm: discarded backlog'
		WHERE topic = 'crm.profile' AND processed_at IS NULL AND parked_at IS NULL RETURNING 1) SELECT count(*) FROM d")
}
for step in $STEPS; do
	case $step in
	load)
		for spec in $LOADS; do
			IFS=: read -r w pick <<<"$spec"
			name="load-$w-$pick"
			label_of[$name]="$w workers per lane of \`hearth bench-crm workers\`, members drawn $([ "$pick" = uniform ] && echo uniformly || echo "by their activity of the last 90 days")"
			discard_backlog "$name"
			start "workers-$name" "$data/workers-$name.log" env HEARTH_WORKERS="$w" "$bin" bench-crm workers
			wpid=${pids[-1]}
			sleep 3
			run_step "$name" "$wpid" "$bin" bench-crm load "${load_args[@]}" --pick "$pick"
			stop_pid "$wpid" "workers-$name"
		done
		;;
	load-worker)
		IFS=: read -r w pick <<<"${LOADS%% *}"
		name=load-worker
		label_of[$name]="$w workers per lane of the real \`hearth worker\` (its start-up RefreshAll running meanwhile), members drawn by their activity of the last 90 days"
		discard_backlog "$name"
		start hearth-worker "$data/hearth-worker.log" env HEARTH_WORKERS="$w" "$bin" worker
		wpid=${pids[-1]}
		sleep 3
		run_step "$name" "$wpid" "$bin" bench-crm load "${load_args[@]}" --pick activity
		stop_pid "$wpid" "hearth worker"
		;;
	segment) run_step segment 0 "$bin" bench-crm segment --tag "$TAG" --runs "$RUNS" ;;
	segment-load)
		IFS=: read -r w pick <<<"${LOADS%% *}"
		label_of[segment-load]="while \`hearth bench-crm load\` appends $RATE events/s (members drawn $([ "$pick" = uniform ] && echo uniformly || echo "by their activity")) and $w workers of \`hearth bench-crm workers\` refresh the profiles; one round of counts a second, from 15 s into the load"
		discard_backlog segment-load
		wait_quiet
		start workers-segment-load "$data/workers-segment-load.log" env HEARTH_WORKERS="$w" "$bin" bench-crm workers
		wpid=${pids[-1]}
		sleep 3
		start load-segment-load "$data/load-segment-load.out" "$bin" bench-crm load --rate "$RATE" --duration "$SEGMENT_LOAD_DURATION" \
			--senders "$SENDERS" --pick "$pick" --drain 5s
		lpid=${pids[-1]}
		sleep 15
		no_wait=1 run_step segment-load "$wpid" "$bin" bench-crm segment --tag "$TAG" --runs "$RUNS" --pause 1s
		wait "$lpid" || say "the load of segment-load failed: $(tail -n 3 "$data/load-segment-load.out")"
		stop_pid "$wpid" "workers-segment-load"
		;;
	rebuild) run_step rebuild 0 "$bin" bench-crm rebuild --sample "$SAMPLE" ;;
	refresh-all) run_step refresh-all 0 "$bin" bench-crm refresh-all ;;
	rebuild-all) run_step rebuild-all 0 "$bin" bench-crm rebuild-all ;;
	*) die "unknown step $step (STEPS: load load-worker segment segment-load rebuild refresh-all rebuild-all)" ;;
	esac
done

# --- report ------------------------------------------------------------------------------------
field() { # field STEP LINE-PREFIX WORD: the value after WORD on the step's output line
	awk -v p="$2" -v w="$3" 'index($0, p) == 1 { for (i = 1; i < NF; i++) if ($i == w) { print $(i + 1); exit } }' "$data/$1.out"
}
rss_mib() { awk -F': ' '/Maximum resident/ { printf "%d", $2 / 1024 }' "$data/time-$1.txt"; }
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print ((v != "" && v + 0 < t) ? "**met**" : "**missed**") }'; }
counts=$(sql "SELECT (SELECT count(*) FROM crm_profiles) || ' profiles, ' || (SELECT count(*) FROM crm_events) || ' events, '
	|| (SELECT count(*) FROM crm_purchases) || ' purchases; database ' || pg_size_pretty(pg_database_size(current_database()))
	|| ' (crm_events ' || pg_size_pretty(pg_total_relation_size('crm_events_default') + (SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits WHERE inhparent = 'crm_events'::regclass)::bigint)
	|| ', crm_profiles ' || pg_size_pretty(pg_total_relation_size('crm_profiles')) || ')'")
stages=$(sql "SELECT string_agg(stage || ' ' || pct || ' %', ', ' ORDER BY n DESC)
	FROM (SELECT stage, n, round(100.0 * n / sum(n) OVER ())::int AS pct
	        FROM (SELECT stage, count(*) AS n FROM crm_profiles GROUP BY stage) c) s" | head -n 1)
pg_version=$(sql "SHOW server_version")
shared_buffers=$(sql "SHOW shared_buffers")
{
	echo
	echo "## $(date -u '+%Y-%m-%d %H:%M UTC'): CRM, scale $SCALE"
	echo
	echo "| figure | result | target | CPU % app / workers / pg / other / idle |"
	echo "|---|---|---|---|"
	if [ -n "${took:-}" ]; then
		echo "| data set generation | ${took} s ($steps); peak RSS ${rss} MiB | — | $cpu (load $load) |"
	fi
	for name in "${order[@]}"; do
		case $name in
		load-*)
			p95=$(field "$name" latency_ms p95)
			label="event → refreshed profile at $(field "$name" sent rate) events/s: ${label_of[$name]}"
			extra="${discarded_of[$name]} backlog rows of the previous step discarded first"
			echo "| $label | p50 $(field "$name" latency_ms p50) ms, **p95 $p95 ms**, p99 $(field "$name" latency_ms p99) ms, max $(field "$name" latency_ms max) ms; $(field "$name" latency_ms seen) seen, $(field "$name" latency_ms unseen) not refreshed within the drain; outbox created → processed p95 $(field "$name" outbox_ms p95) ms; commit p95 $(field "$name" commit_ms p95) ms; $(field "$name" sent late) events started > 100 ms late; $extra | p95 < $TARGET_LATENCY_MS ms: $(verdict "$p95" $TARGET_LATENCY_MS) | ${cpu_of[$name]} |"
			echo "| incremental fields at commit ($name) | $(field "$name" incremental_visible incremental_visible) of $(field "$name" incremental_visible of) sampled events visible in event_count, last_event_at and engagement at the first read after commit | all | — |"
			;;
		segment | segment-load)
			when="quiet"
			[ "$name" = segment ] || when="${label_of[$name]}; the load sent $(field load-segment-load sent rate) events/s"
			for r in "churn>=50" "churn>=20" mixed; do
				p95=$(field "$name" "segment $r" p95)
				case $r in
				mixed) cond="stage in (growth, stable), churn_risk ≥ 20, interests ⊇ {$TAG}, last_active_days ≤ 30" ;;
				*) cond="stage in (growth, stable), churn_risk ≥ ${r#churn>=}, interests ⊇ {$TAG}, consent_email" ;;
				esac
				echo "| segment count ($when): $cond | $(field "$name" "segment $r" count) members; p50 $(field "$name" "segment $r" p50) ms, **p95 $p95 ms**, max $(field "$name" "segment $r" max) ms ($RUNS warm runs); first run (before the warm-up) $(field "$name" "segment $r" first) ms | < $TARGET_SEGMENT_MS ms: $(verdict "$p95" $TARGET_SEGMENT_MS) | ${cpu_of[$name]} |"
			done
			;;
		rebuild)
			echo "| Rebuild (incremental fields from the events + RefreshMember), $(field rebuild rebuild members) random members | $(field rebuild rebuild per_member_ms) ms per member; $(field rebuild rebuild differing) whose incremental fields differed from the events | — | ${cpu_of[rebuild]} |"
			;;
		refresh-all)
			echo "| full refresh, RefreshAll over $(field refresh-all refresh-all profiles) profiles | **$(field refresh-all refresh-all took_s) s** ($(field refresh-all refresh-all per_profile_ms) ms per profile); peak RSS **$(rss_mib refresh-all) MiB** | report | ${cpu_of[refresh-all]} |"
			;;
		rebuild-all)
			echo "| full rebuild from the events, RebuildAll over $(field rebuild-all rebuild-all profiles) profiles | **$(field rebuild-all rebuild-all took_s) s** ($(field rebuild-all rebuild-all per_profile_ms) ms per profile); peak RSS **$(rss_mib rebuild-all) MiB** | report | ${cpu_of[rebuild-all]} |"
			;;
		esac
	done
	echo
	for name in segment segment-load; do
		[[ " ${order[*]} " == *" $name "* ]] || continue
		echo "Segment counts ($name), the statement the compiler produced and its plan (EXPLAIN (ANALYZE, BUFFERS), after the timed runs):"
		echo
		echo '```'
		grep -v '^segment ' "$data/$name.out" | sed 's/^plan /-- plan /; s/^sql /-- sql: /'
		echo '```'
		echo
	done
	echo "- CPU: shares of the whole machine ($(nproc) cores = 100 %) during each step: the measured \`hearth bench-crm\` process (load generator, segment counter, refresh), the outbox workers, this PostgreSQL, other processes, idle; then whether the machine was quiet when the step began, and the load average (1, 5, 15 min)."
	echo "- Lifecycle stages of the data set: $stages."
	echo "- Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r)."
	echo "- Software: PostgreSQL $pg_version (private cluster from \`hearth services\`: fsync and synchronous_commit off, shared_buffers $shared_buffers), $(go version | cut -d' ' -f3), hearth $("$bin" version | cut -d' ' -f2)."
	echo "- Data set: $counts; generated on ${date:-an earlier run} (\`hearth bench-crm generate --scale $SCALE\`, see internal/scale/crm.go)."
	echo "- Commands:"
	echo
	echo '  ```sh'
	echo "  SCALE=$SCALE RATE=$RATE DURATION=$DURATION SENDERS=$SENDERS LOADS=\"$LOADS\" RUNS=$RUNS TAG=$TAG SAMPLE=$SAMPLE scripts/bench-crm.sh"
	echo "  # which runs, against the PostgreSQL of hearth services --dir .bench-crm/services:"
	echo "  bin/hearth bench-crm generate --scale $SCALE"
	echo "  HEARTH_WORKERS=N bin/hearth bench-crm workers &   # or: HEARTH_WORKERS=N bin/hearth worker &"
	echo "  bin/hearth bench-crm load ${load_args[*]} --pick activity|uniform"
	echo "  bin/hearth bench-crm segment --tag $TAG --runs $RUNS   # segment-load: --pause 1s, during bench-crm load --duration $SEGMENT_LOAD_DURATION"
	echo "  bin/hearth bench-crm rebuild --sample $SAMPLE"
	echo "  /usr/bin/time -v bin/hearth bench-crm refresh-all"
	echo "  /usr/bin/time -v bin/hearth bench-crm rebuild-all"
	echo '  ```'
} >>BENCHMARKS.md
say "results appended to BENCHMARKS.md"
