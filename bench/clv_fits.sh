#!/usr/bin/env bash
# One sitting of the clv fit benchmarks against SciPy (BENCHMARKS.md,
# "Customer value"): writes the 1M-customer data sets, then alternates
# ROUNDS times between the Go benchmarks (single core) and
# bench/scipy_fits.py (single-threaded BLAS/OpenMP), printing both.
#
#   bash bench/clv_fits.sh [ROUNDS] [DATA_DIR]
#
# Needs Go and Debian's python3-numpy and python3-scipy (/usr/bin/python3).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
data=${2:-${TMPDIR:-/tmp}/clvbench}
mkdir -p "$data"
go test ./lifecycle/clv -run '^TestWriteBenchData$' -count 1 -args -clv.benchdata="$data" >/dev/null
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
for r in $(seq 1 "$rounds"); do
	echo "== round $r: Go ($(date -u +%FT%TZ))"
	go test ./lifecycle/clv -run '^$' -bench '^BenchmarkFit' -benchmem -cpu 1 -count 1 | grep '^BenchmarkFit'
	echo "== round $r: SciPy ($(date -u +%FT%TZ))"
	/usr/bin/python3 bench/scipy_fits.py -data "$data" -n 3 -n1m 2
done
