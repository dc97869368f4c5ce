#!/usr/bin/env bash
# One sitting of recording in memory against the hand-rolled peer
# (BENCHMARKS.md, "Recording events"; issue 17): ROUNDS rounds, each
# running, one after the other and each in a process of its own (a heap
# grown by one benchmark flatters the next), fsmpeer's
# BenchmarkFSMRecordShop, this library's BenchmarkFloorRequiredShop and
# BenchmarkRecordShop, fsmpeer's BenchmarkFSMRecordExisting, then
# BenchmarkFloorRequiredTagged and BenchmarkRecordExisting, with
# -test.cpu 1 -test.benchtime N x; then printing each of ours' ratio
# ns/op ÷ the peer's in every round (lower is better; the target is 0.5)
# and the median.
#
#   bash bench/memory.sh [ROUNDS] [N] [PEER_DIR]
#
# ROUNDS defaults to 3, N to 2000000, PEER_DIR to ../shared/tools/fsmpeer
# beside the repository. The raw benchmark lines go to the file in
# SITTING_LOG (default: a temporary file, named at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
rounds=${1:-3}
n=${2:-2000000}
peerdir=${3:-$root/../shared/tools/fsmpeer}
if [ ! -d "$peerdir" ]; then
	echo "bench: the peer's directory $peerdir is missing: the peers live beside the repository, in the project's workplace (../shared/tools/fsmpeer); give a copy's directory as the third argument" >&2
	exit 2
fi
work=$(mktemp -d)
log=${SITTING_LOG:-$work/sitting.log}

go test -c -o "$work/ours.test" ./lifecycle
(cd "$peerdir" && go test -c -o "$work/peer.test" .)

run() { # binary, benchmark, label
	(cd "$work" && "./$1" -test.run '^$' -test.bench "^Benchmark$2\$" -test.benchtime "${n}x" -test.cpu 1 -test.benchmem) |
		grep '^Benchmark' | sed "s/^/$3 /" >>"$log"
}
: >"$log"
for r in $(seq 1 "$rounds"); do
	echo "round $r $(date -u +%T) load $(cut -d' ' -f1 /proc/loadavg)" | tee -a "$log" >&2
	run peer.test FSMRecordShop peer
	run ours.test FloorRequiredShop ours
	run ours.test RecordShop ours
	run peer.test FSMRecordExisting peer
	run ours.test FloorRequiredTagged ours
	run ours.test RecordExisting ours
done

# Each of ours is compared with the peer run before it in its round.
awk -v ratio=ours/peer -f "$root/bench/ratios.awk" "$log"
echo "benchmark lines: $log" >&2
