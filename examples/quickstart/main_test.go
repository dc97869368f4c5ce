package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestQuickstartPrintsStagesAndHistory(t *testing.T) {
	var a, b bytes.Buffer
	if err := quickstart(context.Background(), &a, 40, 1); err != nil {
		t.Fatal(err)
	}
	if err := quickstart(context.Background(), &b, 40, 1); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Fatal("two runs with the same seed printed different output")
	}
	out := a.String()
	for _, want := range []string{"for 40 customers", "reach", "acquisition", "conversion", "retention", "loyalty", "customer cust-", "(new)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
