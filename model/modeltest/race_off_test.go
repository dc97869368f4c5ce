//go:build !race

package modeltest_test

const zzRace = false
