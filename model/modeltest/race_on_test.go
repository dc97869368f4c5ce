//go:build race

package modeltest_test

// zzRace: under the race detector the review's model sweeps run one
// broken model in eight and one correct model in four (each suite run
// takes several times longer there).
const zzRace = true
