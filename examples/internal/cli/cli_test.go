package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseAndStatus(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		status int
		stderr string // a part of what is printed
	}{
		{"no flags", nil, ExitOK, ""},
		{"good value", []string{"-n", "3"}, ExitOK, ""},
		{"-h", []string{"-h"}, ExitOK, "usage: cmd [flags]\n\nDoes things.\n\nflags:\n  -n int"},
		{"-help", []string{"-help"}, ExitOK, "usage: cmd [flags]"},
		{"unknown flag", []string{"-bogus"}, ExitUsage, "flag provided but not defined: -bogus\nusage: cmd"},
		{"not a number", []string{"-n", "x"}, ExitUsage, `invalid value "x" for flag -n`},
		{"out of range", []string{"-n", "-5"}, ExitUsage, "cmd: -n -5: must be at least 1\n"},
		{"stray argument", []string{"-n", "2", "extra"}, ExitUsage, `cmd: unexpected arguments ["extra"]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			fs := NewFlagSet("cmd", "Does things.", &stderr)
			n := fs.Int("n", 1, "a count (at least 1)")
			err := Parse(fs, tc.args)
			if err == nil && *n < 1 {
				err = Usagef("-n %d: must be at least 1", *n)
			}
			if got := Status("cmd", err, &stderr); got != tc.status {
				t.Errorf("status %d, want %d (error %v)", got, tc.status, err)
			}
			if !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tc.stderr)
			}
			if tc.stderr == "" && stderr.Len() > 0 {
				t.Errorf("stderr %q, want nothing", stderr.String())
			}
			if c := strings.Count(stderr.String(), "flag provided but not defined"); c > 1 {
				t.Errorf("the flag error is printed %d times:\n%s", c, stderr.String())
			}
		})
	}
}

func TestStatusPrintsOnce(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{errors.New("disk full"), "clv: disk full\n"},
		{errors.New("clv: invalid input: x"), "clv: invalid input: x\n"},                    // the library's prefix is the program's
		{fmt.Errorf("reading f: %w", errors.New("clv: bad")), "clv: reading f: clv: bad\n"}, // not at the start: kept
		{errors.New("clvx: y"), "clv: clvx: y\n"},
	} {
		var stderr bytes.Buffer
		if got := Status("clv", tc.err, &stderr); got != ExitError {
			t.Errorf("Status(%v) = %d, want %d", tc.err, got, ExitError)
		}
		if stderr.String() != tc.want {
			t.Errorf("Status(%v) printed %q, want %q", tc.err, stderr.String(), tc.want)
		}
	}
	var stderr bytes.Buffer
	if got := Status("clv", fmt.Errorf("wrapped: %w", flag.ErrHelp), &stderr); got != ExitOK || stderr.Len() > 0 {
		t.Errorf("Status(ErrHelp) = %d, printed %q; want 0 and nothing", got, stderr.String())
	}
	if err := Usagef("-x: %w", io.EOF); !errors.Is(err, io.EOF) {
		t.Errorf("Usagef does not wrap its %%w operand: %v", err)
	}
}

// syncBuffer is a bytes.Buffer safe for a writing goroutine and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits until out holds n lines (or bar redraws), failing after 10 s.
func waitFor(t *testing.T, out *syncBuffer, sep string, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); strings.Count(out.String(), sep) < n; {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s, output %q has fewer than %d %q", out.String(), n, sep)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestProgressLines(t *testing.T) {
	var out syncBuffer
	p := startProgress(&out, "cmd", "runs", 200, 10*time.Millisecond, false)
	p.Set(50)
	waitFor(t, &out, "\n", 1)
	p.Add(150)
	p.Stop()
	p.Stop() // a second Stop does nothing
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	re := regexp.MustCompile(`^cmd: (\d+)/200 runs \(\d+\.\d%\), [0-9.]+m?s$`)
	for _, l := range lines {
		if !re.MatchString(l) {
			t.Errorf("line %q does not match %s", l, re)
		}
	}
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "cmd: 200/200 runs (100.0%), ") {
		t.Errorf("last line %q, want the final count", last)
	}
	if strings.Count(out.String(), "200/200") != 1 {
		t.Errorf("the final count is shown more than once:\n%s", out.String())
	}
}

func TestProgressBar(t *testing.T) {
	var out syncBuffer
	p := startProgress(&out, "cmd", "runs", 4, time.Hour, true) // a bar is redrawn every barEvery whatever the interval
	p.Set(1)
	waitFor(t, &out, "\r", 1)
	p.Set(4)
	p.Stop()
	s := out.String()
	if !strings.Contains(s, "\rcmd: [#######.......................]  25% 1/4 runs, ") {
		t.Errorf("no bar at 25%% in %q", s)
	}
	if !strings.Contains(s, "\rcmd: [##############################] 100% 4/4 runs, ") || !strings.HasSuffix(s, "\n") ||
		strings.Count(s, "\n") != 1 {
		t.Errorf("the bar does not end full on a line of its own: %q", s)
	}
}

// A task shorter than the first interval prints nothing.
func TestProgressQuiet(t *testing.T) {
	var out syncBuffer
	p := startProgress(&out, "cmd", "runs", 10, time.Hour, false)
	p.Set(10)
	p.Stop()
	if s := out.String(); s != "" {
		t.Errorf("printed %q, want nothing", s)
	}
}

func TestIsTerminal(t *testing.T) {
	if isTerminal(&bytes.Buffer{}) {
		t.Error("a buffer is taken for a terminal")
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Error("a regular file is taken for a terminal")
	}
}

// A review found custommodel and clv exiting 0 when standard output could
// not be written (a full disk): Main reports the first write's error when
// the command itself succeeded.
func TestFirstErrorKeepsTheWriteError(t *testing.T) {
	full := errors.New("no space left on device")
	f := &firstError{w: failingWriter{full}}
	if _, err := f.Write([]byte("x")); !errors.Is(err, full) {
		t.Fatalf("Write = %v", err)
	}
	f.Write([]byte("y"))
	if err := f.join(nil); !errors.Is(err, full) || !strings.Contains(err.Error(), "writing standard output") {
		t.Errorf("join(nil) = %v", err)
	}
	other := errors.New("the command's own error")
	if err := f.join(other); err != other {
		t.Errorf("join(err) = %v, want the command's own error", err)
	}
	ok := &firstError{w: io.Discard}
	ok.Write([]byte("x"))
	if err := ok.join(nil); err != nil {
		t.Errorf("join after good writes = %v", err)
	}
	if got := Status("x", (&firstError{w: failingWriter{full}, err: full}).join(nil), io.Discard); got != ExitError {
		t.Errorf("status %d, want %d", got, ExitError)
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }
