# ratios.awk: the summary of a sitting of bench/durable.sh or
# bench/memory.sh. It reads their lines "peer|ours BenchmarkName[/mode]
# [-P] N ns/op …" (other lines are skipped), compares each of ours with
# the last peer line of the same mode (the part of the name after its
# first "/", "/"-joined, less a floor's "/design=…", which stays with the
# name; the same for a name without one), and prints for
# each benchmark and mode the ratios in order and their median. With
# -v ratio=peer/ours the ratio is the peer's ns/op ÷ ours (higher is
# better), with -v ratio=ours/peer ours ÷ the peer's (lower is better).
function median(list,   a, k, i, j, t) {
	k = split(list, a, " ")
	for (i = 2; i <= k; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
	return k % 2 ? a[(k+1)/2] : (a[k/2] + a[k/2+1]) / 2
}
$1 == "peer" || $1 == "ours" {
	name = $2; sub(/-[0-9]+$/, "", name); sub(/^Benchmark/, "", name)
	mode = name; bench = name
	if (sub(/^[^\/]*\//, "", mode)) sub(/\/.*$/, "", bench); else mode = ""
	# A design of a floor ("…/design=least") is part of the benchmark's
	# name, not of the mode it is compared in.
	if (match(mode, /\/design=[^\/]*/)) {
		bench = bench substr(mode, RSTART, RLENGTH)
		mode = substr(mode, 1, RSTART - 1) substr(mode, RSTART + RLENGTH)
	}
	if ($1 == "peer") { peer[mode] = $4; next }
	if (!(mode in peer)) next
	key = bench (mode == "" ? "" : " " mode)
	r = ratio == "ours/peer" ? $4 / peer[mode] : peer[mode] / $4
	list[key] = list[key] " " sprintf("%.2f", r)
	if (!(key in seen)) { seen[key] = 1; order[++nk] = key }
}
END {
	for (i = 1; i <= nk; i++) printf "%-50s %s%s  median %.2f\n", order[i], (ratio == "ours/peer" ? "ours÷peer" : "peer÷ours"), list[order[i]], median(substr(list[order[i]], 2))
}
