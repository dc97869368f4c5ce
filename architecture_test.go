package clm_test

import (
	"go/build"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestArchitecturePackageMap checks ARCHITECTURE.md's package map ("Packages
// (imports point down)"): for every line that names packages and what
// they import ("pkg, pkg   what → dep, dep"), the repository's own
// imports of those packages' non-test files are exactly the deps listed
// (a parenthesised note, such as "(Prometheus)" or "(std only)", names no
// package of the repository). A review found flywheel's import of
// internal/nilness missing from the map.
func TestArchitecturePackageMap(t *testing.T) {
	const module = "github.com/clmkit/clm/"
	doc, err := os.ReadFile("ARCHITECTURE.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, _ := strings.Cut(string(doc), "## Packages (imports point down)\n\n```\n")
	block, _, _ = strings.Cut(block, "```")
	short := map[string]string{"sqlstore": "store/sqlstore"}
	checked := 0
	for line := range strings.Lines(block) {
		left, right, ok := strings.Cut(line, "→")
		if !ok || strings.Contains(right, "the packages below") {
			continue // the example programs' line names no list
		}
		// The packages: the first field, and more after commas.
		var pkgs []string
		fields := strings.Fields(left)
		for i, f := range fields {
			pkgs = append(pkgs, strings.TrimSuffix(f, ","))
			if !strings.HasSuffix(f, ",") || i+1 == len(fields) {
				break
			}
		}
		want := map[string]bool{}
		for d := range strings.SplitSeq(right, ",") {
			d, _, _ = strings.Cut(strings.TrimSpace(d), "(")
			if d = strings.TrimSpace(d); d != "" {
				if s, ok := short[d]; ok {
					d = s
				}
				want[d] = true
			}
		}
		got := map[string]bool{}
		for _, p := range pkgs {
			bp, err := build.ImportDir(filepath.FromSlash(p), 0)
			if err != nil {
				t.Errorf("ARCHITECTURE.md names %s: %v", p, err)
				continue
			}
			for _, imp := range bp.Imports {
				if rel, ok := strings.CutPrefix(imp, module); ok {
					got[rel] = true
				}
			}
		}
		if !maps.Equal(got, want) {
			t.Errorf("ARCHITECTURE.md: %s imports %v, the map says %v", strings.Join(pkgs, ", "), slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
		}
		checked++
	}
	if checked < 20 {
		t.Fatalf("checked %d lines of the package map; did its format change?", checked)
	}
}
