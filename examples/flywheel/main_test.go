package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/examples/internal/cli"
)

func TestRunLiteratureExample(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	var stdout, stderr bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-out", dir, "-runs", "300"}, &stdout, &stderr))
	out := stdout.String()
	lines := strings.Split(out, "\n")
	// Rotation 5 of the table: 100 paid and about 47 referred prospects.
	var row5 []string
	for _, l := range lines {
		if f := strings.Fields(l); len(f) > 3 && f[0] == "5" {
			row5 = f
		}
	}
	require.NotNil(t, row5, out)
	require.Equal(t, []string{"5", "100.0", "47.1"}, row5[:3])
	require.Contains(t, out, "advocate share 0.10125")

	rows, err := csv.NewReader(mustOpen(t, filepath.Join(dir, "flywheel.csv"))).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 13, "header and 12 rotations")
	require.Equal(t, "rotation", rows[0][0])
	svg, err := os.ReadFile(filepath.Join(dir, "flywheel.svg"))
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(svg, []byte("<svg ")))
	require.Equal(t, 4, bytes.Count(svg, []byte("<polygon")), "one band per series")
}

func TestRunFlags(t *testing.T) {
	ctx := context.Background()
	var stdout, stderr bytes.Buffer
	require.NoError(t, run(ctx, []string{"-rotations", "3", "-referrals", "2", "-churn", "0.5", "-runs", "50"}, &stdout, &stderr))
	require.Contains(t, stdout.String(), "3 rotations")
	require.Contains(t, stdout.String(), "2 referrals per advocate, churn 0.5")
	require.NotContains(t, stdout.String(), "wrote")

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"probability out of range", []string{"-churn", "1.5"}, "-churn 1.5: flywheel: invalid parameters: AdvocateChurn = 1.5"},
		{"negative count", []string{"-paid", "-3"}, "-paid -3: "},
		{"fractional lag", []string{"-lag", "1.5"}, "-lag 1.5: "},
		{"zero rotations", []string{"-rotations", "0"}, "-rotations 0: "},
		{"bad runs", []string{"-runs", "0"}, "-runs 0: must be at least 1"},
		{"negative workers", []string{"-workers", "-1"}, "-workers -1: must not be negative"},
		{"stray argument", []string{"extra"}, "unexpected arguments"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := run(ctx, tc.args, &stdout, &stderr)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
	// An -out that cannot take the files is refused before the runs, with
	// the usage status, and nothing is printed.
	out := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(out, "flywheel.csv"), 0o755))
	stdout.Reset()
	err := run(ctx, []string{"-runs", "50", "-out", out}, &stdout, &stderr)
	require.ErrorContains(t, err, "-out "+strconv.Quote(out)+": flywheel.csv is a directory")
	require.Equal(t, cli.ExitUsage, cli.Status("flywheel", err, io.Discard))
	require.Empty(t, stdout.String())
	stderr.Reset()
	err = run(ctx, []string{"-help"}, &stdout, &stderr)
	require.True(t, errors.Is(err, flag.ErrHelp))
	for _, f := range []string{"-paid", "-referrals", "-churn", "-lag", "-referred_conversion", "-engage_acquire", "-spend", "-out"} {
		require.Contains(t, stderr.String(), f)
	}
}

func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}
