package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/clmkit/clm/examples/loadtest/internal/harness"
)

// The exit statuses loadtest's doc comment gives: 0 for a clean run and
// -h, 2 for a bad flag or an unavailable store, 3 when the run reaches
// -timeout. (README.md's Packages table says the root module's commands
// exit "1 on a failure"; loadtest's timeout is 3.)
func TestDocLoadtestExitStatus(t *testing.T) {
	openers := map[string]harness.Opener{"memory": harness.Memory, "memory-plain": harness.MemoryPlain}
	notes := map[string]string{"sqlite": sqlNote, "postgres": sqlNote}
	for _, c := range []struct {
		args   []string
		status int
		out    string
	}{
		{[]string{"-h"}, 0, "-events"},
		{[]string{"-events", "2000", "-customers", "200", "-progress", "0"}, 0, "lost=0 doubled=0 mismatched=0"},
		{[]string{"-bogus"}, 2, "flag provided but not defined"},
		{[]string{"-store", "sqlite"}, 2, "examples/loadtest/sql"},
		{[]string{"-events", "20000", "-timeout", "1ns", "-progress", "0"}, 3, "stopped by -timeout"},
	} {
		var stdout, stderr bytes.Buffer
		got := harness.Main(c.args, &stdout, &stderr, openers, notes)
		if got != c.status || !strings.Contains(stdout.String()+stderr.String(), c.out) {
			t.Errorf("loadtest %q: status %d, want %d; output lacks %q:\n%s%s", c.args, got, c.status, c.out, stdout.String(), stderr.String())
		}
	}
}
