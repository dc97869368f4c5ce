package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// cdnowSample returns the path of the CDNOW sample under ../shared/data
// (relative to the directory holding go.mod), skipping when absent.
func cdnowSample(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		if filepath.Dir(dir) == dir {
			t.Skip("no go.mod above the test directory; reference data not located")
		}
		dir = filepath.Dir(dir)
	}
	p := filepath.Join(dir, "..", "shared", "data", "cdnow", "CDNOW_sample.txt")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("reference data not available (%v)", err)
	}
	return p
}

func TestRun(t *testing.T) {
	data := cdnowSample(t)
	out := t.TempDir()
	var stdout bytes.Buffer
	if err := run([]string{"-data", data, "-out", out}, &stdout); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	t.Log("\n" + stdout.String())
	num := `(\d+\.\d{4})`
	bgRe := regexp.MustCompile(`^bgnbd r=` + num + ` alpha=` + num + ` a=` + num + ` b=` + num + `$`)
	ggRe := regexp.MustCompile(`^gammagamma p=` + num + ` q=` + num + ` v=` + num + `$`)
	if len(lines) < 2 || !bgRe.MatchString(lines[0]) || !ggRe.MatchString(lines[1]) {
		t.Fatalf("first lines %q do not match the model line formats", lines[:min(2, len(lines))])
	}
	// From the unrounded raw transactions the fit is close to the published
	// one (which used t_x and T rounded to 2 dp).
	if m := bgRe.FindStringSubmatch(lines[0]); m[1] != "0.2426" || m[3] != "0.7929" {
		t.Errorf("BG/NBD line %q far from the published r=0.2426, a=0.7929", lines[0])
	}
	if got := strings.Count(stdout.String(), "\nbgnbd "); got != 0 {
		t.Errorf("model line printed more than once")
	}
	// Header, column header, 10 customers, holdout line, chart line.
	if len(lines) != 2+2+10+2 {
		t.Errorf("got %d output lines, want 16", len(lines))
	}
	if !strings.HasPrefix(lines[14], "holdout 39.00 weeks:") {
		t.Errorf("holdout line = %q", lines[14])
	}
	svg, err := os.ReadFile(filepath.Join(out, "holdout.svg"))
	if err != nil {
		t.Fatal(err)
	}
	polylines := 0
	dec := xml.NewDecoder(bytes.NewReader(svg))
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("holdout.svg is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "polyline" {
			polylines++
		}
	}
	if polylines != 2 {
		t.Errorf("holdout.svg has %d polylines, want 2 (predicted and actual)", polylines)
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing file", []string{"-data", filepath.Join(t.TempDir(), "nope.txt")}, "no such file"},
		{"bad flag", []string{"-bogus"}, "flag provided but not defined"},
		{"bad date", []string{"-calibration-end", "30/09/1997"}, "-calibration-end"},
		{"stray argument", []string{"extra"}, "unexpected arguments"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := run(tc.args, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run(%q) = %v, want an error containing %q", tc.args, err, tc.want)
			}
		})
	}
}

func TestNiceStep(t *testing.T) {
	for _, tc := range []struct{ raw, want float64 }{{0.13, 0.2}, {1, 1}, {1.2, 2}, {3, 5}, {7, 10}, {0, 0}} {
		if got := niceStep(tc.raw); got != tc.want {
			t.Errorf("niceStep(%v) = %v, want %v", tc.raw, got, tc.want)
		}
	}
}
