package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The output README.md and docs/flywheel.md show for
// `go run ./examples/flywheel -out /tmp/fw` is what the command prints,
// line for line (the shown table elides rows with "…").
func TestDocReadmeFlywheelOutput(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fw")
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"-out", dir}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.ReplaceAll(stdout.String(), dir, "/tmp/fw"), "\n")
	for _, doc := range []string{"../../README.md", "../../docs/flywheel.md"} {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile("(?s)```\n\\$ go run ./examples/flywheel -out /tmp/fw\n(.*?)```").FindSubmatch(b)
		if m == nil {
			t.Fatalf("%s: no flywheel output block", doc)
		}
		i := 0
		for _, want := range strings.Split(strings.TrimSuffix(string(m[1]), "\n"), "\n") {
			if strings.TrimSpace(want) == "…" {
				// skip got's rows up to the next shown one
				continue
			}
			for i < len(got) && got[i] != want && strings.TrimSpace(want) != "" && isRow(got[i]) && isRow(want) {
				i++
			}
			if i >= len(got) || got[i] != want {
				t.Errorf("%s shows\n%q\nthe command prints at that point\n%q\nwhole output:\n%s", doc, want, at(got, i), stdout.String())
				break
			}
			i++
		}
	}
}

func isRow(s string) bool {
	f := strings.Fields(s)
	return len(f) > 0 && regexp.MustCompile(`^[0-9]+$`).MatchString(f[0])
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "(end of output)"
}
