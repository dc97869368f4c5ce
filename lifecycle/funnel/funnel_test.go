package funnel_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/funnel"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func day(n float64) time.Time { return t0.Add(time.Duration(n * 24 * float64(time.Hour))) }

const d = 24 * time.Hour

// hand builds a customer from a path of (stage, day) steps; the stored
// stage is the last step and AsOf is asOf.
func hand(id string, asOf float64, steps ...any) *lifecycle.Customer {
	c := &lifecycle.Customer{ID: id, AsOf: day(asOf), Version: 1}
	var prev stage.ID
	for i := 0; i < len(steps); i += 2 {
		to, at := steps[i].(stage.ID), day(float64(steps[i+1].(int)))
		c.History = append(c.History, lifecycle.Transition{From: prev, To: to, At: at})
		c.Stage, c.Since, prev = to, at, to
	}
	return c
}

// people are four customers whose funnel is worked out by hand in the
// test cases below (days after 2026-01-01).
func people() []*lifecycle.Customer {
	return []*lifecycle.Customer{
		// A walks the funnel to retention.
		hand("A", 20, model.Reach, 0, model.Acquisition, 2, model.Conversion, 5, model.Retention, 15),
		// B skips acquisition, then lapses back to it.
		hand("B", 200, model.Reach, 0, model.Conversion, 1, model.Acquisition, 200),
		// C enters the model at acquisition.
		hand("C", 10, model.Acquisition, 3),
		// D only visited.
		hand("D", 4, model.Reach, 4),
	}
}

// counts is [current, entered, reached, stopped] per stage in graph order.
func counts(f funnel.Funnel) [][4]int {
	var out [][4]int
	for _, s := range f.Stages {
		out = append(out, [4]int{s.Current, s.Entered, s.Reached, s.Stopped})
	}
	return out
}

func rates(f funnel.Funnel) [][2]float64 {
	var out [][2]float64
	for _, s := range f.Stages {
		out = append(out, [2]float64{s.Conversion, s.StopRate})
	}
	return out
}

func TestCounts(t *testing.T) {
	g := model.SterneCutler().Stages()
	tests := []struct {
		name      string
		opts      []funnel.Option
		customers int
		counts    [][4]int
		rates     [][2]float64
	}{{
		name:      "stored state",
		customers: 4,
		counts: [][4]int{
			{1, 3, 4, 1}, // reach: D now; A,B,D entered; all reached; D stopped
			{2, 3, 3, 1}, // acquisition: B,C now; A,B,C entered; A,B,C reached (B skipped); C stopped
			{0, 2, 2, 1}, // conversion: A,B entered and reached; B stopped
			{1, 1, 1, 1}, // retention: A
			{0, 0, 0, 0}, // loyalty
		},
		rates: [][2]float64{{0.75, 0.25}, {2.0 / 3, 1.0 / 3}, {0.5, 0.5}, {0, 1}, {0, 0}},
	}, {
		name:      "as of day 4 includes a transition exactly at that time",
		opts:      []funnel.Option{funnel.AsOf(day(4))},
		customers: 4,
		counts: [][4]int{
			{1, 3, 4, 1}, // D at reach
			{2, 2, 3, 2}, // A (since day 2) and C; B skipped; A and C stop here
			{1, 1, 1, 1}, // B
			{0, 0, 0, 0},
			{0, 0, 0, 0},
		},
		rates: [][2]float64{{0.75, 0.25}, {1.0 / 3, 2.0 / 3}, {0, 1}, {0, 0}, {0, 0}},
	}, {
		name:      "as of before everything is empty",
		opts:      []funnel.Option{funnel.AsOf(day(-1))},
		customers: 0,
		counts:    [][4]int{{}, {}, {}, {}, {}},
		rates:     [][2]float64{{}, {}, {}, {}, {}},
	}, {
		name:      "only a segment",
		opts:      []funnel.Option{funnel.Only(funnel.InStage(model.Acquisition))},
		customers: 2,
		counts: [][4]int{
			{0, 1, 2, 0}, // B entered reach; C passed it
			{2, 2, 2, 1}, // B, C
			{0, 1, 1, 1}, // B
			{0, 0, 0, 0},
			{0, 0, 0, 0},
		},
		rates: [][2]float64{{1, 0}, {0.5, 0.5}, {0, 1}, {0, 0}, {0, 0}},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := funnel.Analyze(context.Background(), g, funnel.Customers(people()), tc.opts...)
			require.NoError(t, err)
			if rep.Customers != tc.customers {
				t.Errorf("Customers = %d, want %d", rep.Customers, tc.customers)
			}
			if diff := cmp.Diff(tc.counts, counts(rep.Funnel)); diff != "" {
				t.Errorf("[current entered reached stopped] (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.rates, rates(rep.Funnel)); diff != "" {
				t.Errorf("[conversion stop_rate] (-want +got):\n%s", diff)
			}
		})
	}
}

// dist is the Dist of durations given in days, with the default
// percentiles, computed by hand.
func dist(n int, min, p25, p50, p75, p90, max, mean time.Duration) funnel.Dist {
	return funnel.Dist{N: n, Min: min, Median: p50, Max: max, Mean: mean, Percentiles: []funnel.Percentile{
		{P: 25, Value: p25}, {P: 50, Value: p50}, {P: 75, Value: p75}, {P: 90, Value: p90},
	}}
}

func TestDurations(t *testing.T) {
	g := model.SterneCutler().Stages()
	rep, err := funnel.Analyze(context.Background(), g, funnel.Customers(people()))
	require.NoError(t, err)
	type dists struct{ ToNext, FromStart, Stay, Open funnel.Dist }
	got := map[stage.ID]dists{}
	for _, s := range rep.Stages {
		got[s.Stage] = dists{s.ToNext, s.FromStart, s.Stay, s.Open}
	}
	want := map[stage.ID]dists{
		model.Reach: {
			ToNext: dist(2, d, d, d, 2*d, 2*d, 2*d, 36*time.Hour), // B 1d, A 2d (C skipped reach)
			Stay:   dist(2, d, d, d, 2*d, 2*d, 2*d, 36*time.Hour), // B 1d, A 2d
			Open:   dist(1, 0, 0, 0, 0, 0, 0, 0),                  // D, measured to its AsOf
		},
		model.Acquisition: {
			ToNext:    dist(1, 3*d, 3*d, 3*d, 3*d, 3*d, 3*d, 3*d), // A only: B skipped it
			FromStart: dist(3, 0, 0, d, 2*d, 2*d, 2*d, d),         // C 0, B 1d, A 2d
			Stay:      dist(1, 3*d, 3*d, 3*d, 3*d, 3*d, 3*d, 3*d), // A
			Open:      dist(2, 0, 0, 0, 7*d, 7*d, 7*d, 84*time.Hour),
		},
		model.Conversion: {
			ToNext:    dist(1, 10*d, 10*d, 10*d, 10*d, 10*d, 10*d, 10*d),
			FromStart: dist(2, d, d, d, 5*d, 5*d, 5*d, 3*d),
			Stay:      dist(2, 10*d, 10*d, 10*d, 199*d, 199*d, 199*d, 209*d/2),
		},
		model.Retention: {
			FromStart: dist(1, 15*d, 15*d, 15*d, 15*d, 15*d, 15*d, 15*d),
			Open:      dist(1, 5*d, 5*d, 5*d, 5*d, 5*d, 5*d, 5*d),
		},
		model.Loyalty: {},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("durations (-want +got):\n%s", diff)
	}
}

func TestCohorts(t *testing.T) {
	g := model.SterneCutler().Stages()
	rep, err := funnel.Analyze(context.Background(), g, funnel.Customers(people()),
		funnel.CohortBy(funnel.FirstSeen(funnel.Day)))
	require.NoError(t, err)
	got := map[string][][4]int{}
	for _, c := range rep.Cohorts {
		got[c.Key] = counts(c.Funnel)
	}
	want := map[string][][4]int{
		"2026-01-01": {{0, 2, 2, 0}, {1, 2, 2, 0}, {0, 2, 2, 1}, {1, 1, 1, 1}, {}}, // A, B (B entered acquisition by lapsing)
		"2026-01-04": {{0, 0, 1, 0}, {1, 1, 1, 1}, {}, {}, {}},                     // C
		"2026-01-05": {{1, 1, 1, 1}, {}, {}, {}, {}},                               // D
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cohort counts (-want +got):\n%s", diff)
	}
	keys := []string{}
	for _, c := range rep.Cohorts {
		keys = append(keys, c.Key)
	}
	if diff := cmp.Diff([]string{"2026-01-01", "2026-01-04", "2026-01-05"}, keys); diff != "" {
		t.Errorf("cohort order (-want +got):\n%s", diff)
	}
}

func TestErrors(t *testing.T) {
	g := model.SterneCutler().Stages()
	ctx := context.Background()
	boom := errors.New("scan failed")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	tests := []struct {
		name      string
		ctx       context.Context
		g         *stage.Graph
		customers []*lifecycle.Customer
		seq       func(func(*lifecycle.Customer, error) bool)
		opts      []funnel.Option
		want      error
	}{
		{name: "nil graph", g: nil, want: funnel.ErrInvalidInput},
		{name: "percentile 0", g: g, opts: []funnel.Option{funnel.Percentiles(0)}, want: funnel.ErrInvalidInput},
		{name: "percentile above 100", g: g, opts: []funnel.Option{funnel.Percentiles(50, 101)}, want: funnel.ErrInvalidInput},
		{name: "segment without match", g: g, opts: []funnel.Option{funnel.Only(funnel.Segment{Name: "x"})}, want: funnel.ErrInvalidInput},
		{name: "nil customer", g: g, customers: []*lifecycle.Customer{nil}, want: funnel.ErrInvalidInput},
		{name: "unknown stored stage", g: g, customers: []*lifecycle.Customer{{ID: "x", Stage: "nowhere"}}, want: funnel.ErrUnknownStage},
		{name: "unknown stage in history", g: g, customers: []*lifecycle.Customer{{ID: "x", Stage: model.Reach,
			History: []lifecycle.Transition{{To: "elsewhere", At: t0}, {To: model.Reach, At: t0}}}}, want: funnel.ErrUnknownStage},
		// The store was written under another model whatever AsOf says.
		{name: "unknown stored stage, as of a past date", g: g, opts: []funnel.Option{funnel.AsOf(day(10))},
			customers: []*lifecycle.Customer{{ID: "x", Stage: "nowhere", History: []lifecycle.Transition{{To: model.Reach, At: t0}}}}, want: funnel.ErrUnknownStage},
		{name: "unknown stage later in history, as of a past date", g: g, opts: []funnel.Option{funnel.AsOf(day(1))},
			customers: []*lifecycle.Customer{{ID: "x", Stage: model.Reach, History: []lifecycle.Transition{{To: model.Reach, At: t0}, {To: "elsewhere", At: day(5)}, {To: model.Reach, At: day(6)}}}}, want: funnel.ErrUnknownStage},
		// A history not oldest first (built by hand): refused, with and
		// without AsOf, not cut at the first late transition or measured
		// as negative durations.
		{name: "history out of order", g: g, customers: []*lifecycle.Customer{{ID: "x", Stage: model.Conversion, Since: day(5), AsOf: day(20),
			History: []lifecycle.Transition{{To: model.Reach, At: t0}, {From: model.Reach, To: model.Acquisition, At: day(10)}, {From: model.Acquisition, To: model.Conversion, At: day(5)}}}}, want: funnel.ErrInvalidInput},
		{name: "history out of order, as of a date", g: g, opts: []funnel.Option{funnel.AsOf(day(7))}, customers: []*lifecycle.Customer{{ID: "x", Stage: model.Conversion, Since: day(5), AsOf: day(20),
			History: []lifecycle.Transition{{To: model.Reach, At: t0}, {From: model.Reach, To: model.Acquisition, At: day(10)}, {From: model.Acquisition, To: model.Conversion, At: day(5)}}}}, want: funnel.ErrInvalidInput},
		{name: "scan error", g: g, seq: func(yield func(*lifecycle.Customer, error) bool) { yield(nil, boom) }, want: boom},
		{name: "cancelled", ctx: cancelled, g: g, customers: people(), want: context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.ctx
			if c == nil {
				c = ctx
			}
			seq := funnel.Customers(tc.customers)
			if tc.seq != nil {
				seq = tc.seq
			}
			_, err := funnel.Analyze(c, tc.g, seq, tc.opts...)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestEmptyHistoryUsesStoredStage(t *testing.T) {
	g := model.SterneCutler().Stages()
	c := &lifecycle.Customer{ID: "x", Stage: model.Conversion, Since: day(1), AsOf: day(3)}
	rep, err := funnel.Analyze(context.Background(), g, funnel.Customers([]*lifecycle.Customer{c}))
	require.NoError(t, err)
	want := [][4]int{{0, 0, 1, 0}, {0, 0, 1, 0}, {1, 1, 1, 1}, {}, {}}
	if diff := cmp.Diff(want, counts(rep.Funnel)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := rep.Stages[2].Open; got.N != 1 || got.Median != 2*d {
		t.Errorf("open stay = %+v, want one of 48h", got)
	}
}

func TestDist(t *testing.T) {
	g := model.SterneCutler().Stages()
	// Ten customers who stayed 1..10 days in reach; percentiles by nearest
	// rank: p10 = 1d, p25 = ⌈2.5⌉ = 3rd = 3d, p50 = 5d, p99 = 10d.
	var cs []*lifecycle.Customer
	for i := 1; i <= 10; i++ {
		cs = append(cs, hand("c", float64(i), model.Reach, 0, model.Acquisition, i))
	}
	rep, err := funnel.Analyze(context.Background(), g, funnel.Customers(cs), funnel.Percentiles(99, 10, 25))
	require.NoError(t, err)
	want := funnel.Dist{N: 10, Min: d, Median: 5 * d, Max: 10 * d, Mean: 132 * time.Hour,
		Percentiles: []funnel.Percentile{{P: 99, Value: 10 * d}, {P: 10, Value: d}, {P: 25, Value: 3 * d}}}
	if diff := cmp.Diff(want, rep.Stages[0].Stay); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if v, ok := rep.Stages[0].Stay.Percentile(25); !ok || v != 3*d {
		t.Errorf("Percentile(25) = %v, %v", v, ok)
	}
	if _, ok := rep.Stages[0].Stay.Percentile(50); ok {
		t.Error("Percentile(50) reported though not requested")
	}
}

// TestDistMeanExact checks that Mean is the exact mean rounded to the
// nanosecond, also for stays longer than 2⁵³ ns (about 104 days), where a
// float64 sum loses the last nanoseconds.
func TestDistMeanExact(t *testing.T) {
	g := model.SterneCutler().Stages()
	long := 400*d + 1
	var cs []*lifecycle.Customer
	for i, extra := range []time.Duration{0, 1, 1} { // stays long, long+1, long+1
		c := &lifecycle.Customer{ID: string(rune('a' + i)), Stage: model.Acquisition, Since: t0, AsOf: t0,
			History: []lifecycle.Transition{{To: model.Reach, At: t0.Add(-long - extra)}, {From: model.Reach, To: model.Acquisition, At: t0}}}
		cs = append(cs, c)
	}
	rep, err := funnel.Analyze(context.Background(), g, funnel.Customers(cs))
	require.NoError(t, err)
	// (3·long + 2) / 3 = long + 2/3, rounded: long + 1.
	if got, want := rep.Stages[0].Stay.Mean, long+1; got != want {
		t.Errorf("Mean = %d ns, want %d ns", int64(got), int64(want))
	}
	// Halves round away from zero, as math.Round does.
	cs = cs[:2] // stays long, long+1: mean long + ½
	rep, err = funnel.Analyze(context.Background(), g, funnel.Customers(cs))
	require.NoError(t, err)
	if got, want := rep.Stages[0].Stay.Mean, long+1; got != want {
		t.Errorf("Mean of two = %d ns, want %d ns", int64(got), int64(want))
	}
}

// TestTimeTablePercentileColumns checks the documented columns of
// TimeTable: one per requested percentile, read from the distributions, so
// none when every distribution is empty.
func TestTimeTablePercentileColumns(t *testing.T) {
	g := model.SterneCutler().Stages()
	rep, err := funnel.Analyze(context.Background(), g, funnel.Customers(people()), funnel.Percentiles(90, 10))
	require.NoError(t, err)
	want := []string{"stage", "measure", "n", "min", "p90", "p10", "median", "max", "mean"}
	if diff := cmp.Diff(want, rep.TimeTable().Header); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	rep, err = funnel.Analyze(context.Background(), g, funnel.Customers(nil), funnel.Percentiles(90, 10))
	require.NoError(t, err)
	tt := rep.TimeTable()
	want = []string{"stage", "measure", "n", "min", "median", "max", "mean"}
	if diff := cmp.Diff(want, tt.Header); diff != "" {
		t.Errorf("empty funnel's header (-want +got):\n%s", diff)
	}
	for _, row := range tt.Rows {
		if len(row) != len(tt.Header) {
			t.Errorf("row %q has %d cells, header %d", row, len(row), len(tt.Header))
		}
	}
}

// TestNilOptionsSkipped checks that a nil Option or RetentionOption is
// skipped rather than panicking ("nothing panics on user input").
func TestNilOptionsSkipped(t *testing.T) {
	ctx := context.Background()
	g := model.SterneCutler().Stages()
	_, err := funnel.Analyze(ctx, g, funnel.Customers(people()), nil)
	require.NoError(t, err)
	_, err = funnel.Retention([]funnel.Order{{CustomerID: "a", Time: t0}}, funnel.Month, nil)
	require.NoError(t, err)
	_, err = funnel.StoredRetention(ctx, g, model.Retention, funnel.Customers(people()), funnel.Month, nil)
	require.NoError(t, err)
}

// A record built without AsOf has no reference time for its open stay: it
// counts in Current but adds no Open age.
func TestOpenWithoutReferenceTime(t *testing.T) {
	g := model.SterneCutler().Stages()
	c := &lifecycle.Customer{ID: "x", Stage: model.Conversion, Since: day(1)}
	rep, err := funnel.Analyze(context.Background(), g, funnel.Customers([]*lifecycle.Customer{c}))
	require.NoError(t, err)
	if s := rep.Stages[2]; s.Current != 1 || s.Open.N != 0 {
		t.Errorf("current %d, open %+v; want 1 and no age", s.Current, s.Open)
	}
}

// TestReportTableCohortLabels: cohorts keyed "(all)" and "(none)" are told
// apart from the total and the empty key in Report.Table.
func TestReportTableCohortLabels(t *testing.T) {
	g := model.SterneCutler().Stages()
	i := 0
	rep, err := funnel.Analyze(context.Background(), g, funnel.Customers(people()),
		funnel.CohortBy(func(*lifecycle.Customer) string { i++; return []string{"(all)", "(none)", ""}[i%3] }))
	require.NoError(t, err)
	labels := map[string]int{}
	for _, row := range rep.Table().Rows {
		labels[row[0]]++
	}
	per := len(g.IDs())
	require.Equal(t, map[string]int{"(all)": per, `"(all)"`: per, `"(none)"`: per, "(none)": per}, labels)
}
