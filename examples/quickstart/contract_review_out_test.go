package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// examples/quickstart doc: prints how many customers sit in each stage
// (every stage of the model, summing to the customers) and the busiest
// customer's history; the same flags print the same figures.
func TestContractReviewOutQuickstartCounts(t *testing.T) {
	for _, n := range []int{1, 40, 300} {
		var a, b bytes.Buffer
		if err := quickstart(context.Background(), &a, n, 9); err != nil {
			t.Fatal(err)
		}
		_ = quickstart(context.Background(), &b, n, 9)
		if a.String() != b.String() {
			t.Errorf("n=%d: same flags, different output", n)
		}
		out := a.String()
		re := regexp.MustCompile(`(?m)^\s+(reach|acquisition|conversion|retention|loyalty)\s+(\d+)$`)
		m := re.FindAllStringSubmatch(out, -1)
		if len(m) != 5 {
			t.Fatalf("n=%d: %d stage rows:\n%s", n, len(m), out)
		}
		sum := 0
		for _, r := range m {
			v, _ := strconv.Atoi(r[2])
			sum += v
		}
		if sum != n || !strings.Contains(out, "for "+strconv.Itoa(n)+" customers") {
			t.Errorf("n=%d: stage counts sum to %d:\n%s", n, sum, out)
		}
		hist := regexp.MustCompile(`(?m)^  \d{4}-\d\d-\d\d \d\d:\d\d  \S+\s+→ \S+\s+\(\S+\)$`).FindAllString(out, -1)
		if len(hist) == 0 {
			t.Errorf("n=%d: no history lines:\n%s", n, out)
		}
	}
}
