#!/usr/bin/env bash
# Runs the GraphQL-over-HTTP audit of the npm package graphql-http against a
# freshly started `analyticsd serve` on embedded engines and fails on any
# warning or error. Needs node ≥ 18, npm and the embedded engine library
# (`make chdb`); takes about a minute.
#
#   bash .ci/graphql-http-audit.sh
#
# Environment:
#   AUDIT_PORT     loopback port for the server (default 18090)
#   AUDIT_TIMEOUT  seconds to wait for the server (default 120)
set -euo pipefail
cd "$(dirname "$0")/.."

readonly port="${AUDIT_PORT:-18090}"
readonly wait_seconds="${AUDIT_TIMEOUT:-120}"
readonly graphql_http_version=1.23.1
work="$(mktemp -d)"
server_pid=""
cleanup() {
	if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

log() { printf 'graphql-http-audit.sh: %s\n' "$*" >&2; }

log "building analyticsd"
make build >/dev/null

log "installing graphql-http@$graphql_http_version"
(cd "$work" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund "graphql-http@$graphql_http_version" graphql >/dev/null)
cp .ci/graphql-http-audit.mjs "$work/"

export ANALYTICS_DATA_DIR="$work/data" ANALYTICS_SEED_DEMO=false ANALYTICS_HTTP_ADDR="127.0.0.1:$port"
./bin/analyticsd serve >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
deadline=$((SECONDS + wait_seconds))
until curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
	if ((SECONDS > deadline)) || ! kill -0 "$server_pid" 2>/dev/null; then
		log "the server did not come up:"; tail -20 "$work/server.err" >&2; exit 1
	fi
	sleep 1
done
token="$(./bin/analyticsd token --tenant audit --role admin --ttl 10m | tail -1)"

log "auditing http://127.0.0.1:$port/graphql"
node "$work/graphql-http-audit.mjs" "http://127.0.0.1:$port/graphql" "$token"
