package main

import (
	"bytes"
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/clmkit/clm/examples/internal/cli"
	"github.com/clmkit/clm/internal/svgplot/svgcheck"
)

// testdata is the directory of the CDNOW files shipped with the
// repository, from this package's directory (where go test runs).
const testdata = "../../lifecycle/clv/testdata/"

func TestRun(t *testing.T) {
	out := t.TempDir()
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"-data", testdata + "CDNOW_sample.txt", "-out", out}, &stdout, io.Discard); err != nil {
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
	doc, err := svgcheck.Parse(svg)
	if err != nil {
		t.Fatalf("holdout.svg: %v", err)
	}
	if want := []string{"actual", "predicted (BG/NBD)"}; !slices.Equal(doc.Legend, want) {
		t.Errorf("holdout.svg legend %q, want %q", doc.Legend, want)
	}
	if want := []string{"0", "1", "2", "3", "4", "5", "6", "7+"}; !slices.Equal(doc.XTicks, want) {
		t.Errorf("holdout.svg x ticks %q, want %q", doc.XTicks, want)
	}
}

// The master file has a repeat buyer whose repeat purchases cost $0.00:
// the Gamma-Gamma fit leaves that customer out and says so.
func TestRunMaster(t *testing.T) {
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"-data", testdata + "CDNOW_master.txt", "-out", t.TempDir()}, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 17 || !strings.HasPrefix(lines[0], "bgnbd ") || !strings.HasPrefix(lines[1], "gammagamma ") ||
		lines[2] != "gammagamma: left out 1 repeat buyer with a mean repeat spend of 0" {
		t.Errorf("output:\n%s\nwant the model lines, the left-out line, the top 10, the holdout and chart lines", stdout.String())
	}
}

func TestRunErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.txt")
	if err := os.WriteFile(bad, []byte("00001 19970101 1 10.00\n00001 1997-01-02 1 10.00\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sample := testdata + "CDNOW_sample.txt"
	tests := []struct {
		name  string
		args  []string
		want  string
		usage bool // a bad flag value
	}{
		{"missing file", []string{"-data", filepath.Join(t.TempDir(), "nope.txt")}, "nope.txt: no such file", true},
		{"bad flag", []string{"-bogus"}, "flag provided but not defined: -bogus", true},
		{"bad date", []string{"-data", sample, "-calibration-end", "30/09/1997"}, "-calibration-end 30/09/1997: want YYYY-MM-DD", true},
		{"calibration after the data", []string{"-data", sample, "-calibration-end", "2030-01-01"}, "-calibration-end 2030-01-01: must be within the data, from 1997-01-01", true},
		{"calibration before the data", []string{"-data", sample, "-calibration-end", "1990-01-01"}, "-calibration-end 1990-01-01: must be within the data", true},
		{"bad months", []string{"-data", sample, "-months", "0"}, "-months 0: must be from 1 to 1200", true},
		{"bad discount", []string{"-data", sample, "-discount", "-0.1"}, "-discount -0.1: must be", true},
		{"bad top", []string{"-data", sample, "-top", "-1"}, "-top -1: must not be negative", true},
		{"bad out", []string{"-data", sample, "-out", bad}, "-out " + strconv.Quote(bad) + ": not an existing directory", true},
		{"out holds a directory named holdout.svg", []string{"-data", sample, "-out", dirWith(t, "holdout.svg")}, "holdout.svg is a directory", true},
		{"stray argument", []string{"extra"}, "unexpected arguments", true},
		{"bad data", []string{"-data", bad, "-out", t.TempDir()}, "reading " + bad + ": clv: invalid input: CDNOW line 2: date", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			err := run(context.Background(), tc.args, io.Discard, &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("run(%q) = %v, want an error containing %q", tc.args, err, tc.want)
			}
			want := cli.ExitError
			if tc.usage {
				want = cli.ExitUsage
			}
			if got := cli.Status("clv", err, &stderr); got != want {
				t.Errorf("exit status %d, want %d", got, want)
			}
		})
	}
}

// A review found "-discount 1e307" (the flag takes any finite rate)
// printed as "+Inf%".
func TestPercent(t *testing.T) {
	for r, want := range map[float64]string{
		0: "0.0%", 0.01: "1.0%", 0.125: "12.5%", 2: "200.0%",
		1e307: "1e+309%", 1.5e308: "1.5e+310%", math.MaxFloat64: "1.7976931348623157e+310%",
	} {
		if got := percent(r); got != want {
			t.Errorf("percent(%g) = %q, want %q", r, got, want)
		}
	}
}

// dirWith returns a new directory holding a directory named name.
func dirWith(t *testing.T, name string) string {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
