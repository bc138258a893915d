#!/usr/bin/env bash
# test.sh [go test flags] [./packages...]: the whole test suite (`make test`, CI).
#
#   1. scripts/setup.sh --browser (PostgreSQL, Meilisearch, Chromium; installs what is missing);
#   2. builds bin/hearth;
#   3. starts `bin/hearth services`: a throw-away PostgreSQL + Meilisearch under .test-data/
#      (fresh each run), and exports the HEARTH_TEST_* variables it writes;
#   4. go vet ./... and go test -count=1 -timeout 20m, with the arguments given here
#      (package patterns start with ./; without one it tests ./...). Examples:
#          scripts/test.sh -run TestLogin ./internal/auth/...
#          make test ARGS='-run TestLogin -v'
#   5. scripts/smoke-embedded.sh (hearth serve with its own private servers).
#
# The services are stopped on exit, whatever happens. Exits non-zero if any step failed.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "test: $*"; }

bash scripts/setup.sh --browser
say "building bin/hearth"
go build -o bin/hearth ./cmd/hearth

data=.test-data
# Servers of an earlier run that was killed outright would lose their files under them.
if stale=$(pgrep -af -- "$PWD/$data/"); then
	say "FAIL: processes of an earlier test run still use $data; stop them first:" >&2
	echo "$stale" >&2
	exit 1
fi
rm -rf "$data"
mkdir -p "$data"

# --- throw-away PostgreSQL + Meilisearch -------------------------------------------------
bin/hearth services --dir "$data/services" --env-file "$data/env" >"$data/services.log" 2>&1 &
services=$!

stop_services() {
	kill -0 "$services" 2>/dev/null || return 0
	say "stopping the test services"
	kill -TERM "$services" 2>/dev/null || true
	# hearth stops PostgreSQL and Meilisearch, then exits; give it a minute.
	for _ in $(seq 120); do
		kill -0 "$services" 2>/dev/null || break
		sleep 0.5
	done
	if kill -0 "$services" 2>/dev/null; then
		say "services did not stop within 60 s; killing pid $services" >&2
		kill -KILL "$services" 2>/dev/null || true
	fi
	wait "$services" 2>/dev/null || true
}
trap stop_services EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "starting PostgreSQL and Meilisearch (log: $data/services.log)"
# The env file is written once both servers answer; its last line is the Meilisearch key.
for ((i = 0; ; i++)); do
	if grep -qs HEARTH_TEST_MEILI_MASTER_KEY "$data/env"; then break; fi
	if ! kill -0 "$services" 2>/dev/null || [ $i -ge 240 ]; then
		kill -0 "$services" 2>/dev/null && why="not ready within 120 s" || why="exited"
		say "FAIL: test services $why; last lines of $data/services.log:" >&2
		tail -n 20 "$data/services.log" >&2
		exit 1
	fi
	sleep 0.5
done
# shellcheck source=/dev/null
source "$data/env"
export HEARTH_CHROMIUM=/usr/bin/chromium
say "services ready (PostgreSQL ${HEARTH_TEST_DATABASE_URL##*@}, Meilisearch $HEARTH_TEST_MEILI_URL)"

# --- checks: run them all, report every failure --------------------------------------------
failed=()

say "go vet ./..."
go vet ./... || failed+=("go vet")

# Test ./... unless the arguments name packages (./something).
pkgs=(./...)
for arg in "$@"; do
	case $arg in ./* | ../*) pkgs=() ;; esac
done
say "go test -count=1 -timeout 20m${*:+ $*}${pkgs[*]:+ ${pkgs[*]}}"
go test -count=1 -timeout 20m "$@" "${pkgs[@]}" || failed+=("go test")

bash scripts/smoke-embedded.sh || failed+=("smoke-embedded")

if [ ${#failed[@]} -gt 0 ]; then
	say "FAILED: ${failed[*]}"
	exit 1
fi
say "all passed"
