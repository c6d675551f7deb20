#!/usr/bin/env bash
# Starts a ClickHouse server for the store/chserver wire tests and waits until
# its native port answers. Idempotent: installs the Debian packages only when
# they are missing and leaves an already answering server alone.
#
# Run as root on Debian 12 (apt-get update already done):
#   bash .ci/clickhouse-server.sh
#   export ANALYTICS_TEST_CLICKHOUSE_ADDR=127.0.0.1:9000
#
# Debian ships ClickHouse 18.16: old enough that the service refuses it, which
# is exactly what one test proves; the transport tests use it with the version
# check off. Its HTTP interface does not work with clickhouse-go v2, so only
# the native port (9000) is used.
#
# Environment:
#   CLICKHOUSE_WAIT_SECONDS  how long to wait for the server (default 60)
set -euo pipefail

readonly host=127.0.0.1
readonly port=9000
readonly config=/etc/clickhouse-server/config.xml
readonly override=/etc/clickhouse-server/config.d/analytics-ci.xml
readonly errlog=/var/log/clickhouse-server/clickhouse-server.err.log
readonly pidfile=/var/run/clickhouse-server/clickhouse-server.pid
readonly wait_seconds="${CLICKHOUSE_WAIT_SECONDS:-60}"
readonly deadline=$((SECONDS + wait_seconds))
# Only error-log lines written after this offset belong to this run.
errlog_offset=0

log() { printf 'clickhouse-server.sh: %s\n' "$*" >&2; }

answers() {
	clickhouse-client --host "$host" --port "$port" --query 'SELECT 1' >/dev/null 2>&1
}

# running_pid prints the pid of a live server started from the pid file.
running_pid() {
	local pid
	[[ -f "$pidfile" ]] && pid="$(cat "$pidfile" 2>/dev/null)" && [[ -n "$pid" ]] &&
		kill -0 "$pid" 2>/dev/null && echo "$pid"
}

fail() {
	log "$*"
	if [[ -f "$errlog" ]]; then
		log "server error log since this run started ($errlog, last 40 lines):"
		tail -c +"$((errlog_offset + 1))" "$errlog" | tail -n 40 >&2 || true
	fi
	exit 1
}

# wait_until polls cond (a command) every half second until it succeeds or
# the script's deadline passes.
wait_until() {
	until "$@"; do
		((SECONDS < deadline)) || return 1
		sleep 0.5
	done
}

not_running() { ! running_pid >/dev/null; }
answers_or_gone() { answers || not_running; }

if ! command -v clickhouse-server >/dev/null || ! command -v clickhouse-client >/dev/null; then
	log "installing clickhouse-server and clickhouse-client"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		clickhouse-server clickhouse-client >&2
fi

if [[ -f "$errlog" ]]; then
	errlog_offset="$(stat -c %s "$errlog")"
fi

if pid="$(running_pid)" && ! answers; then
	# Starting or shutting down: let it finish either way.
	log "server pid $pid is up but does not answer yet; waiting"
	wait_until answers_or_gone || fail "server pid $pid neither answers nor exits after ${wait_seconds}s"
fi

if answers; then
	log "already running"
else
	# Listen on IPv4 loopback only: the stock config also listens on ::1 and
	# the server exits when a sandbox has no IPv6. listen_try keeps it up if
	# a listed address is unavailable.
	mkdir -p "$(dirname "$override")"
	cat >"$override" <<-'XML'
		<?xml version="1.0"?>
		<yandex>
		    <listen_host>127.0.0.1</listen_host>
		    <listen_try>1</listen_try>
		</yandex>
	XML
	install -d -o clickhouse -g clickhouse /var/lib/clickhouse /var/log/clickhouse-server /var/run/clickhouse-server
	log "starting clickhouse-server"
	su clickhouse -s /bin/sh -c \
		"clickhouse-server --config-file=$config --pid-file=$pidfile --daemon" ||
		fail "clickhouse-server did not start"

	wait_until answers || fail "no answer on $host:$port after ${wait_seconds}s"
fi

version="$(clickhouse-client --host "$host" --port "$port" --query 'SELECT version()')"
log "ClickHouse $version answers on $host:$port (native protocol)"
echo "ANALYTICS_TEST_CLICKHOUSE_ADDR=$host:$port"
