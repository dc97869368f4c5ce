package funnel_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/funnel"
	"github.com/clmkit/clm/stage"
)

// TestEveryFarOrigin: Every(d, origin) makes buckets [origin+k·d,
// origin+(k+1)·d) for every k, also more than 292 years from the origin
// (time.Time{} is the obvious one), where time.Time.Sub saturates.
func TestEveryFarOrigin(t *testing.T) {
	p, err := funnel.Every(24*time.Hour, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	a := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	b := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	if p.Index(a) == p.Index(b) {
		t.Errorf("Every(24h, zero time): Index(2026-03-01) == Index(2026-03-20) == %d; keys %q, %q (want different daily buckets)",
			p.Index(a), p.Key(a), p.Key(b))
	}
	if k := p.Key(a); k != "2026-03-01T00:00:00Z" {
		t.Errorf("Every(24h, zero time).Key(2026-03-01T12:00Z) = %q, want the bucket start 2026-03-01T00:00:00Z", k)
	}
	// And the retention table built on it merges two cohorts 19 days apart.
	tab, err := funnel.Retention([]funnel.Order{
		{CustomerID: "x", Time: a},
		{CustomerID: "y", Time: b},
	}, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Cohorts) != 2 {
		t.Errorf("Retention with Every(24h, zero time): %d cohorts (keys %v), want 2", len(tab.Cohorts), cohortKeys(tab))
	}
}

func cohortKeys(t *funnel.RetentionTable) []string {
	var ks []string
	for _, c := range t.Cohorts {
		ks = append(ks, c.Key)
	}
	return ks
}

// TestRetentionTooManyPeriods: a table row longer than MaxPeriods (a
// period of a nanosecond over ten years) is refused with ErrInvalidInput,
// not allocated (or panicked on).
func TestRetentionTooManyPeriods(t *testing.T) {
	p, err := funnel.Every(time.Nanosecond, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	orders := []funnel.Order{
		{CustomerID: "x", Time: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)},
		{CustomerID: "x", Time: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	if _, err := funnel.Retention(orders, p); !errors.Is(err, funnel.ErrInvalidInput) {
		t.Fatalf("Retention(2 orders ten years apart, Every(1ns)) = %v; want an error wrapping ErrInvalidInput", err)
	}
	// MaxPeriods periods exactly are a table.
	orders[1].Time = orders[0].Time.Add((funnel.MaxPeriods - 1) * time.Nanosecond)
	tab, err := funnel.Retention(orders, p)
	if err != nil || len(tab.Cohorts) != 1 || len(tab.Cohorts[0].Active) != funnel.MaxPeriods {
		t.Fatalf("Retention over MaxPeriods periods = %v; want one row of %d", err, funnel.MaxPeriods)
	}
}

// TestFromStartByPathPosition: FromStart is empty for the first path
// stage and, for an off-path stage, the time to its first entry, also when
// the graph lists the off-path stage first.
func TestFromStartByPathPosition(t *testing.T) {
	g, err := stage.New([]stage.Stage{
		{ID: "lost", Kind: stage.Decline},
		{ID: "lead"},
		{ID: "buyer"},
	}, []stage.Edge{
		{From: "lost", To: "lead", Kind: stage.Recover},
		{From: "lead", To: "buyer", Kind: stage.Advance},
		{From: "buyer", To: "lost", Kind: stage.Fall},
	})
	if err != nil {
		t.Skipf("graph refused: %v", err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &lifecycle.Customer{ID: "c", Version: 1, Stage: "lost", Since: t0.Add(10 * 24 * time.Hour), AsOf: t0.Add(10 * 24 * time.Hour),
		History: []lifecycle.Transition{
			{To: "lead", At: t0},
			{From: "lead", To: "buyer", At: t0.Add(2 * 24 * time.Hour)},
			{From: "buyer", To: "lost", At: t0.Add(10 * 24 * time.Hour)},
		}}
	rep, err := funnel.Analyze(context.Background(), g, funnel.Customers([]*lifecycle.Customer{c}))
	if err != nil {
		t.Fatal(err)
	}
	lead, _ := rep.Stage("lead")
	lost, _ := rep.Stage("lost")
	if lead.FromStart.N != 0 {
		t.Errorf("first path stage lead: FromStart.N = %d, want 0 (empty for the first stage)", lead.FromStart.N)
	}
	if lost.FromStart.N != 1 || lost.FromStart.Max != 10*24*time.Hour {
		t.Errorf("off-path stage lost: FromStart = %+v, want one value of 240h (first entry 10 days after start)", lost.FromStart)
	}
}

// TestTableQuotesLineSeparators: a cell with U+2028 or U+2029, which
// break lines as \n does, is shown quoted in String, as a control
// character is; other cells as they are.
func TestTableQuotesLineSeparators(t *testing.T) {
	tab := funnel.Table{Header: []string{"k", "v"}, Rows: [][]string{{"a\u2028b", "c\u2029d"}, {"plain", "x\ty"}}}
	got := tab.String()
	for _, want := range []string{`"a\u2028b"`, `"c\u2029d"`, `"x\ty"`, "plain"} {
		if !strings.Contains(got, want) {
			t.Errorf("String() lacks %s:\n%s", want, got)
		}
	}
	if strings.ContainsAny(got, "\u2028\u2029\t") {
		t.Errorf("String() holds a raw separator or tab:\n%q", got)
	}
}
