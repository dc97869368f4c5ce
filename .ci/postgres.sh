#!/usr/bin/env bash
# .ci/postgres.sh — a throwaway PostgreSQL cluster on loopback for tests.
#
# Contract, when sourced (what .ci/test does):
#
#     source .ci/postgres.sh
#     pg_start            # install if missing, start, export CLM_POSTGRES_DSN
#     trap pg_stop EXIT   # or call pg_stop yourself when the tests are done
#     (cd store/sqlstore && go test -race -count=1 ./...)
#     pg_stop
#
#   pg_start  Returns 0 with CLM_POSTGRES_DSN exported
#             (postgres://postgres@127.0.0.1:PORT/clm_test?sslmode=disable),
#             or non-zero with a message on stderr. If CLM_POSTGRES_DSN is
#             already set in the environment, it does nothing and uses that
#             server. Otherwise it:
#               1. finds initdb/pg_ctl (PATH, then /usr/lib/postgresql/*/bin,
#                  newest first); if there are none, runs
#                  `apt-get update && apt-get install -y postgresql`
#                  (needs root; DEBIAN_FRONTEND=noninteractive), waiting
#                  up to CLM_APT_LOCK_TIMEOUT seconds (default 300) for
#                  another apt-get or dpkg to finish (see .ci/apt.sh);
#               2. creates a cluster in a new temporary directory (trust
#                  authentication, UTF8, locale C), owned by the user
#                  "postgres" when running as root (PostgreSQL refuses to run
#                  as root; the user is created if missing);
#               3. starts it listening on 127.0.0.1 only, on a free port
#                  (tries up to 10 random ports in 20000-59999), with its
#                  Unix socket in the temporary directory;
#               4. creates database clm_test.
#             Extra server settings may be given in PG_SERVER_OPTS, e.g.
#             PG_SERVER_OPTS="-c fsync=off" for faster, non-durable runs.
#   pg_stop   Stops the cluster started by pg_start and removes its
#             directory; unsets CLM_POSTGRES_DSN. Safe to call twice, or
#             when pg_start failed or was never called. Leaves an external
#             server (CLM_POSTGRES_DSN given by the caller) alone.
#
# It sets no shell options and no traps in the sourcing shell; it defines
# only functions and variables whose names start with pg_ or PG_ (and,
# from .ci/apt.sh, functions whose names start with apt_).
#
# When executed instead of sourced:
#
#     bash .ci/postgres.sh [COMMAND [ARGS...]]
#
# it starts a cluster, runs COMMAND with CLM_POSTGRES_DSN set (default:
# the store/sqlstore tests, `go test -race -count=1 ./...` in that
# directory), stops the cluster and exits with COMMAND's status.

# shellcheck source=apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

pg__log() { echo "postgres.sh: $*" >&2; }

pg__find_bin() {
	local d
	if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
		PG_BIN=$(dirname "$(readlink -f "$(command -v pg_ctl)")")
		return 0
	fi
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -V -r); do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
			PG_BIN=$d
			return 0
		fi
	done
	return 1
}

pg__install() {
	if [ "$(id -u)" != 0 ]; then
		pg__log "PostgreSQL is not installed and I am not root: install the Debian package postgresql"
		return 1
	fi
	pg__log "installing PostgreSQL from Debian packages"
	apt_install postgresql
}

# pg__as runs a command as the cluster's owner.
pg__as() {
	if [ -n "${PG_USER:-}" ]; then
		runuser -u "$PG_USER" -- "$@"
	else
		"$@"
	fi
}

pg__port_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pg_start() {
	if [ -n "${CLM_POSTGRES_DSN:-}" ] && [ -z "${PG_DIR:-}" ]; then
		pg__log "using the server in CLM_POSTGRES_DSN"
		return 0
	fi
	if [ -n "${PG_DIR:-}" ]; then
		pg__log "already started (PG_DIR=$PG_DIR)"
		return 0
	fi
	pg__find_bin || { pg__install && pg__find_bin; } || {
		pg__log "no initdb/pg_ctl found, even after installing"
		return 1
	}
	PG_USER=
	if [ "$(id -u)" = 0 ]; then
		PG_USER=postgres
		if ! id "$PG_USER" >/dev/null 2>&1; then
			useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER" || return 1
		fi
	fi
	PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/clm-pg.XXXXXX") || return 1
	chmod 755 "$PG_DIR"
	[ -n "$PG_USER" ] && chown "$PG_USER" "$PG_DIR"
	if ! pg__as "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C >"$PG_DIR/initdb.log" 2>&1; then
		pg__log "initdb failed:"; cat "$PG_DIR/initdb.log" >&2
		pg_stop
		return 1
	fi
	local try port
	for try in 1 2 3 4 5 6 7 8 9 10; do
		port=$((20000 + RANDOM % 40000))
		pg__port_free "$port" || continue
		if pg__as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
			-o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$PG_DIR -c max_connections=100 ${PG_SERVER_OPTS:-}" \
			start >/dev/null 2>&1; then
			PG_PORT=$port
			break
		fi
		pg__log "start on port $port failed (try $try):"; tail -n 5 "$PG_DIR/server.log" >&2
	done
	if [ -z "${PG_PORT:-}" ]; then
		pg__log "could not start PostgreSQL"
		pg_stop
		return 1
	fi
	if ! pg__as "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres clm_test; then
		pg__log "createdb failed"
		pg_stop
		return 1
	fi
	export CLM_POSTGRES_DSN="postgres://postgres@127.0.0.1:$PG_PORT/clm_test?sslmode=disable"
	pg__log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT, CLM_POSTGRES_DSN=$CLM_POSTGRES_DSN"
	return 0
}

pg_stop() {
	if [ -z "${PG_DIR:-}" ]; then
		return 0
	fi
	if [ -n "${PG_PORT:-}" ]; then
		pg__as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
			pg__log "pg_ctl stop failed; see $PG_DIR/server.log"
	fi
	rm -rf "$PG_DIR"
	unset PG_DIR PG_PORT CLM_POSTGRES_DSN
	return 0
}

# Executed, not sourced: run a command against a fresh cluster.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	pg_start || exit 1
	trap pg_stop EXIT
	if [ $# -eq 0 ]; then
		cd "$(dirname "$0")/../store/sqlstore" || exit 1
		set -- go test -race -count=1 ./...
	fi
	"$@"
	exit $?
fi
