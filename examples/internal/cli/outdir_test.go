package cli

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOutDir(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "taken.svg"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dir    string
		create bool
		files  []string
		want   string // "" for no error
	}{
		{dir, false, []string{"a.csv"}, ""},
		{filepath.Join(dir, "new", "sub"), true, nil, ""},
		{filepath.Join(dir, "missing"), false, nil, "not an existing directory"},
		{file, false, nil, "not an existing directory"},
		{file, true, nil, "not a directory"},
		{dir, false, []string{"a.csv", "taken.svg"}, "taken.svg is a directory"},
	} {
		err := OutDir("-out", tc.dir, tc.create, tc.files...)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("OutDir(%q) = %v", tc.dir, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "-out ")):
			t.Errorf("OutDir(%q) = %v; want an error with %q", tc.dir, err, tc.want)
		case tc.want != "" && Status("x", err, io.Discard) != ExitUsage:
			t.Errorf("OutDir(%q): status %d, want %d", tc.dir, Status("x", err, io.Discard), ExitUsage)
		}
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".clm-*"))
	if len(left) > 0 {
		t.Errorf("the write check left %v", left)
	}
}
