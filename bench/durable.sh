#!/usr/bin/env bash
# One sitting of the durable path against PostgreSQL itself (BENCHMARKS.md,
# "SQL store"; issue 14): ROUNDS rounds, each running, one after the other
# and each in a process of its own, pgpeer's BenchmarkPeerInsert, this
# store's BenchmarkRecordPostgres and its floors (BenchmarkFloorPostgres,
# BenchmarkFloorFeedPostgres) at -test.benchtime N x; then pgpeer's
# BenchmarkPeerInsertBatch, this store's BenchmarkRecordBatchPostgres and
# its floor's designs (BenchmarkFloorBatchPostgres), 300 batches of 100
# events each, and BenchmarkPeerCopy and
# BenchmarkImportPostgres (3 imports of 100,000 events). It prints for each
# benchmark and mode (commit=sync|async, writers=1|8) every round's ratio
# peer ns/op ÷ ours (higher is better; the targets are 0.5) and the median.
# Before each of the peer's runs it drops the peer's table (pgpeer keeps
# one across runs), so that the peer starts on an empty table, as this
# store's benchmarks do.
#
#   bash bench/durable.sh [ROUNDS] [N] [PEER_DIR]
#
# ROUNDS defaults to 5, N to 20000 (at 3000 an async run lasts a third of
# a second and single rounds spread by 2×), PEER_DIR to
# ../shared/tools/pgpeer beside the repository. It uses the server in
# CLM_POSTGRES_DSN, or starts a throwaway one with .ci/postgres.sh (which
# installs Debian's PostgreSQL if missing) and stops it at the end. The raw
# benchmark lines go to the file in SITTING_LOG (default: a temporary file,
# named at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
rounds=${1:-5}
n=${2:-20000}
peerdir=${3:-$root/../shared/tools/pgpeer}
if [ ! -d "$peerdir" ]; then
	echo "bench: the peer's directory $peerdir is missing: the peers live beside the repository, in the project's workplace (../shared/tools/pgpeer); give a copy's directory as the third argument" >&2
	exit 2
fi
work=$(mktemp -d)
log=${SITTING_LOG:-$work/sitting.log}

# shellcheck source=../.ci/postgres.sh
source .ci/postgres.sh
started=
if [ -z "${CLM_POSTGRES_DSN:-}" ]; then
	pg_start
	started=1
fi
cleanup() {
	if [ -n "$started" ]; then pg_stop; fi
}
trap cleanup EXIT

(cd store/sqlstore && go test -c -o "$work/ours.test" .)
(cd "$peerdir" && go test -c -o "$work/peer.test" .)

: >"$log"
run() { # binary, benchmark, -test.benchtime, label
	if [ "$1" = peer.test ]; then
		# The peer keeps its events in one table across runs; ours start
		# on new tables each run. Drop it, so both start empty (a table
		# grown by earlier rounds slows the peer's inserts).
		PGOPTIONS='-c client_min_messages=warning' psql -q -X "$CLM_POSTGRES_DSN" -c 'DROP TABLE IF EXISTS peer_events' >/dev/null
	fi
	(cd "$work" && "./$1" -test.run '^$' -test.bench "^Benchmark$2\$" -test.benchtime "$3") | grep '^Benchmark' | sed "s/^/$4 /" >>"$log"
}
for r in $(seq 1 "$rounds"); do
	echo "round $r $(date -u +%T) load $(cut -d' ' -f1 /proc/loadavg)" | tee -a "$log" >&2
	run peer.test PeerInsert "${n}x" peer
	for b in RecordPostgres FloorPostgres FloorFeedPostgres; do
		run ours.test "$b" "${n}x" ours
	done
	run peer.test PeerInsertBatch 300x peer
	run ours.test RecordBatchPostgres 300x ours
	run ours.test FloorBatchPostgres 300x ours
	run peer.test PeerCopy 3x peer
	run ours.test ImportPostgres 3x ours
done

# Lines: "peer|ours BenchmarkName/commit=…/writers=…-P N ns/op …".
awk -v ratio=peer/ours -f "$root/bench/ratios.awk" "$log"
echo "benchmark lines: $log" >&2
