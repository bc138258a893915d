#!/usr/bin/env bash
# smoke-embedded.sh: the zero-configuration start works and stops cleanly.
#
# With DATABASE_URL and MEILI_URL unset, `bin/hearth serve` (built first; HEARTH_BIN overrides)
# must start its own PostgreSQL and Meilisearch in a fresh temporary HEARTH_DATA_DIR, answer
# GET /readyz 200 within 180 s and serve an HTML page at /, then, on SIGTERM, exit with status 0
# within 40 s leaving no process behind that uses the data folder and nothing on its port.
# Prints one PASS or FAIL line (with the server's last log lines on failure).
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${HEARTH_BIN:-}
if [ -z "$bin" ]; then
	go build -o bin/hearth ./cmd/hearth
	bin=bin/hearth
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hearth-smoke.XXXXXX")
# mktemp makes a 0700 folder; as root the server runs as the postgres user, which must be
# able to reach its cluster here (so that the leftover-process check below can see it too).
chmod 755 "$tmp"
log=$tmp/serve.log
pid=

# free_port prints a loopback port nothing listens on.
free_port() {
	local p
	for _ in $(seq 100); do
		p=$((20000 + RANDOM % 40000))
		# A refused connection means the port is free.
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# cleanup (on every exit) stops a server still running after a failure, then any private
# server of its still using the data folder, and removes the folder.
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 80); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.5
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	pgrep -f -- "$tmp" | xargs -r kill -KILL 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
	echo "smoke-embedded: FAIL: $*"
	if [ -s "$log" ]; then
		echo "--- last lines of the server log ---"
		tail -n 30 "$log"
		echo "---"
	fi
	exit 1
}

port=$(free_port) || fail "no free port found"
base=http://127.0.0.1:$port
echo "smoke-embedded: starting $bin serve on 127.0.0.1:$port, data in $tmp/data"
env -u DATABASE_URL -u MEILI_URL -u MEILI_MASTER_KEY \
	HEARTH_DATA_DIR="$tmp/data" HEARTH_ADDR="127.0.0.1:$port" \
	"$bin" serve >"$log" 2>&1 &
pid=$!

# status prints the HTTP status of GET $1 (000 when nothing answers).
status() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$base$1" || true; }

start=$SECONDS
until [ "$(status /readyz)" = 200 ]; do
	if ! kill -0 "$pid" 2>/dev/null; then
		rc=0
		wait "$pid" || rc=$?
		pid=
		fail "hearth serve exited with status $rc before /readyz answered 200"
	fi
	[ $((SECONDS - start)) -lt 180 ] || fail "GET /readyz not 200 within 180 s (last: $(status /readyz))"
	sleep 1
done
ready=$((SECONDS - start))

page=$(curl -s --max-time 10 -w '\n%{http_code}' "$base/") || true
code=${page##*$'\n'}
[ "$code" = 200 ] || fail "GET / returned $code, want 200"
grep -qi '<html' <<<"$page" || fail "GET / is not an HTML page (no <html)"

kill -TERM "$pid"
start=$SECONDS
while kill -0 "$pid" 2>/dev/null && [ $((SECONDS - start)) -lt 40 ]; do
	sleep 0.5
done
if kill -0 "$pid" 2>/dev/null; then
	fail "hearth serve still running 40 s after SIGTERM"
fi
rc=0
wait "$pid" || rc=$?
pid=
stopped=$((SECONDS - start))
[ $rc = 0 ] || fail "hearth serve exited with status $rc after SIGTERM, want 0"

if left=$(pgrep -af -- "$tmp"); then
	fail "still running after hearth serve exited: $(head -n 1 <<<"$left")"
fi
if port_open "$port"; then
	fail "port $port still accepts connections after hearth serve exited"
fi

echo "smoke-embedded: PASS (ready in ${ready} s, stopped cleanly in ${stopped} s)"
