package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/clmkit/clm/examples/loadtest/internal/harness"
)

func runLoad(t *testing.T, args ...string) string {
	t.Helper()
	var out, errs bytes.Buffer
	code := harness.Main(append(args, "-progress", "0"), &out, &errs, openers(), nil)
	if code != 0 {
		t.Fatalf("load test %v exited %d\nstdout: %s\nstderr: %s", args, code, out.String(), errs.String())
	}
	line := strings.TrimSpace(out.String())
	if !strings.HasSuffix(line, "lost=0 doubled=0 mismatched=0") {
		t.Fatalf("summary line %q does not end with lost=0 doubled=0 mismatched=0", line)
	}
	return line
}

func TestLoadSQLite(t *testing.T) {
	t.Log(runLoad(t, "-store", "sqlite", "-events", "3000", "-customers", "300", "-writers", "4", "-dup", "0.2", "-shuffle", "0.3", "-seed", "3"))
}

func TestLoadPostgres(t *testing.T) {
	dsn := os.Getenv("CLM_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("CLM_POSTGRES_DSN is not set; run `bash .ci/test` (it starts a throwaway PostgreSQL) to run this test")
	}
	t.Log(runLoad(t, "-store", "postgres", "-dsn", dsn, "-events", "3000", "-customers", "300", "-writers", "4", "-dup", "0.2", "-shuffle", "0.3", "-seed", "4"))
}

// TestFlagConventions: the command answers -h with exit 0, and a bad
// flag, a bad value or an unknown store with exit 2 and a message naming
// it, as the root module's commands do.
func TestFlagConventions(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string // in stderr
	}{
		{[]string{"-h"}, 0, "-store"},
		{[]string{"-help"}, 0, "-store"},
		{[]string{"-bogus"}, 2, "bogus"},
		{[]string{"-events", "x"}, 2, "-events"},
		{[]string{"-events", "0"}, 2, "-events"},
		{[]string{"-store", "oracle"}, 2, "oracle"},
	} {
		var out, errs bytes.Buffer
		code := harness.Main(tc.args, &out, &errs, openers(), nil)
		if code != tc.code || !strings.Contains(errs.String()+out.String(), tc.want) {
			t.Errorf("%v: exit %d, output %q; want exit %d and a message naming %q", tc.args, code, errs.String()+out.String(), tc.code, tc.want)
		}
	}
}

// TestDSNOfTheOtherDialect: -store names the database the run tests; a
// -dsn of the other dialect is refused before anything is opened (the run
// tested SQLite under -store postgres, and the reverse, and passed; found
// by an audit).
func TestDSNOfTheOtherDialect(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"-store", "postgres", "-dsn", "sqlite:" + dir + "/x.db"},
		{"-store", "sqlite", "-dsn", "postgres://u:secret@127.0.0.1:1/x"},
	} {
		var out, errs bytes.Buffer
		code := harness.Main(append(args, "-events", "10", "-progress", "0"), &out, &errs, openers(), nil)
		if code != harness.ExitAborted || !strings.Contains(errs.String(), "-dsn") || strings.Contains(errs.String(), "secret") {
			t.Errorf("%v: exit %d, stderr %q; want %d naming -dsn, no password", args, code, errs.String(), harness.ExitAborted)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a SQLite file was created under -store postgres: %v", entries)
	}
}
