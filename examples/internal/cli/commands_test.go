package cli_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// commands are the example commands of the root module and, for each, a
// numeric flag, a value out of range for it and what its refusal says.
var commands = []struct {
	name, flag, bad string
	badText         string // in the refusal
}{
	{"quickstart", "customers", "-5", "quickstart: -customers -5: must be from 1 to 100000"},
	{"custommodel", "customers", "0", "custommodel: -customers 0: must be from 1 to 100000"},
	{"clv", "months", "0", "clv: -months 0: must be from 1 to 1200"},
	{"flywheel", "churn", "1.5", "flywheel: -churn 1.5: flywheel: invalid parameters: AdvocateChurn = 1.5"},
	{"loadtest", "events", "0", "loadtest: -events 0: must be from 1 to 10000000"},
}

// TestCommands builds every example command and checks that it behaves
// like a Go command: -h and -help print the usage and exit 0; an unknown
// flag, a value a flag cannot hold, a value out of range and a stray
// argument exit 2, naming the problem once.
func TestCommands(t *testing.T) {
	bin := t.TempDir()
	args := []string{"build", "-o", bin + string(filepath.Separator)}
	for _, c := range commands {
		args = append(args, "github.com/clmkit/clm/examples/"+c.name)
	}
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			exe := filepath.Join(bin, c.name)
			cases := []struct {
				args   []string
				status int
				want   string // in stdout and stderr together
			}{
				{[]string{"-h"}, 0, "\n  -" + c.flag + " "},
				{[]string{"-help"}, 0, "\n  -" + c.flag + " "},
				{[]string{"-bogus"}, 2, "flag provided but not defined: -bogus"},
				{[]string{"-" + c.flag, "x"}, 2, `invalid value "x" for flag -` + c.flag},
				{[]string{"-" + c.flag, c.bad}, 2, c.badText},
				{[]string{"extra"}, 2, `unexpected arguments ["extra"]`},
			}
			for _, tc := range cases {
				status, out := runCommand(t, "", exe, tc.args...)
				if status != tc.status || !strings.Contains(out, tc.want) {
					t.Errorf("%s %q: exit status %d, want %d; output lacks %q or has it:\n%s", c.name, tc.args, status, tc.status, tc.want, out)
				}
				if strings.Contains(out, c.name+": "+c.name+": ") {
					t.Errorf("%s %q: the error stutters:\n%s", c.name, tc.args, out)
				}
			}
		})
	}
	// clv's default data file is found from the repository root, and a
	// failure (not a usage error) exits 1 with the error printed once.
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	if status, out := runCommand(t, root, filepath.Join(bin, "clv"), "-out", t.TempDir()); status != 0 || !strings.Contains(out, "bgnbd r=0.2426") {
		t.Errorf("clv from the repository root: exit status %d, want 0 and the BG/NBD fit:\n%s", status, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.txt")
	if err := os.WriteFile(bad, []byte("00001 19970101 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// flywheel checks -out before its runs: a usage error, at once.
	if status, out := runCommand(t, "", filepath.Join(bin, "flywheel"), "-runs", "1000000", "-out", filepath.Join(bad, "dir")); status != 2 || !strings.Contains(out, "flywheel: -out") || strings.Contains(out, "rotation") {
		t.Errorf("flywheel -out under a file: exit status %d, output %q; want 2, the -out error and no table", status, out)
	}
	status, out := runCommand(t, "", filepath.Join(bin, "clv"), "-data", bad)
	if want := "clv: reading " + bad + ": clv: invalid input: CDNOW line 1: 3 fields"; status != 1 || !strings.HasPrefix(out, want) || strings.Count(out, "\n") != 1 {
		t.Errorf("clv -data %s: exit status %d, output %q; want 1 and one line starting %q", bad, status, out, want)
	}
}

// runCommand runs exe with args in dir (the test's directory if empty) and
// returns its exit status and its standard output and error together.
func runCommand(t *testing.T, dir, exe string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(exe, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), out.String()
	}
	t.Fatalf("running %s: %v", exe, err)
	return 0, ""
}
