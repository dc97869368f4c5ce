package funnel_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/funnel"
	"github.com/clmkit/clm/lifecycle/shopsim"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

func zoStore(t *testing.T) (lifecycle.Store, []lifecycle.Event, time.Time) {
	t.Helper()
	ctx := context.Background()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(0, 0, 365)
	evs := shopsim.Generate(shopsim.Config{Customers: 300, Start: start, Days: 365, Seed: 7})
	st := store.NewMemory()
	tr := lifecycle.NewTracker(model.SterneCutler(), st, lifecycle.WithClock(func() time.Time { return end }))
	for _, e := range evs {
		if _, err := tr.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tr.Sweep(ctx, end); err != nil {
		t.Fatal(err)
	}
	return st, evs, end
}

func zoCSV(t *testing.T, tab funnel.Table) [][]string {
	t.Helper()
	var b bytes.Buffer
	if err := tab.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b.Bytes())).ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse: %v", err)
	}
	want := append([][]string{tab.Header}, tab.Rows...)
	if len(recs) != len(want) {
		t.Fatalf("CSV %d records, table %d", len(recs), len(want))
	}
	for i := range want {
		if strings.Join(recs[i], "\x00") != strings.Join(want[i], "\x00") {
			t.Errorf("CSV record %d %q, table %q", i, recs[i], want[i])
		}
	}
	return recs
}

func zoDur(d time.Duration) string {
	return d.Round(time.Second).String()
}

// docs/analytics.md "Rendering" and table.go: columns, values, formats.
func TestContractReviewOutFunnelTableMatchesReport(t *testing.T) {
	st, _, _ := zoStore(t)
	g := model.SterneCutler().Stages()
	rep, err := funnel.AnalyzeStore(context.Background(), g, st,
		funnel.CohortBy(funnel.FirstSeen(funnel.Month)), funnel.Percentiles(50, 90, 99.9))
	if err != nil {
		t.Fatal(err)
	}
	tab := rep.Funnel.Table()
	if strings.Join(tab.Header, ",") != "stage,current,entered,reached,stopped,conversion,stop_rate,to_next_median,stay_median" {
		t.Errorf("header %v", tab.Header)
	}
	recs := zoCSV(t, tab)
	stages := g.Stages()
	if len(recs)-1 != len(stages) {
		t.Fatalf("%d rows for %d stages", len(recs)-1, len(stages))
	}
	for i, s := range rep.Funnel.Stages {
		r := recs[i+1]
		if r[0] != string(stages[i].ID) || r[0] != string(s.Stage) {
			t.Errorf("row %d stage %q, graph order %q", i, r[0], stages[i].ID)
		}
		want := []string{strconv.Itoa(s.Current), strconv.Itoa(s.Entered), strconv.Itoa(s.Reached), strconv.Itoa(s.Stopped),
			strconv.FormatFloat(s.Conversion, 'f', 4, 64), strconv.FormatFloat(s.StopRate, 'f', 4, 64)}
		for k, w := range want {
			if r[k+1] != w {
				t.Errorf("%s %s = %q, API %q", s.Stage, tab.Header[k+1], r[k+1], w)
			}
		}
		for k, d := range []funnel.Dist{s.ToNext, s.Stay} {
			c := r[7+k]
			if d.N == 0 {
				if c != "" {
					t.Errorf("%s %s = %q for an empty Dist", s.Stage, tab.Header[7+k], c)
				}
				continue
			}
			pd, err := time.ParseDuration(c)
			if err != nil || pd != d.Median.Round(time.Second) {
				t.Errorf("%s %s = %q, median %v", s.Stage, tab.Header[7+k], c, d.Median)
			}
		}
	}
	// Report.Table: (all) first, then cohorts sorted by key.
	rt := rep.Table()
	if rt.Header[0] != "cohort" || strings.Join(rt.Header[1:], ",") != strings.Join(tab.Header, ",") {
		t.Errorf("report header %v", rt.Header)
	}
	zoCSV(t, rt)
	var keys []string
	for _, r := range rt.Rows {
		if len(keys) == 0 || keys[len(keys)-1] != r[0] {
			keys = append(keys, r[0])
		}
	}
	if keys[0] != "(all)" {
		t.Errorf("first cohort %q", keys[0])
	}
	for i := 2; i < len(keys); i++ {
		if keys[i] <= keys[i-1] {
			t.Errorf("cohorts not sorted: %v", keys)
		}
	}
	if len(keys)-1 != len(rep.Cohorts) || len(rt.Rows) != len(keys)*len(stages) {
		t.Errorf("%d cohort keys, %d cohorts, %d rows", len(keys), len(rep.Cohorts), len(rt.Rows))
	}
	// TimeTable
	tt := rep.Funnel.TimeTable()
	if strings.Join(tt.Header, ",") != "stage,measure,n,min,p50,p90,p99.9,median,max,mean" {
		t.Errorf("time table header %v", tt.Header)
	}
	trecs := zoCSV(t, tt)
	i := 1
	for _, s := range rep.Funnel.Stages {
		for _, m := range []struct {
			name string
			d    funnel.Dist
		}{{"to_next", s.ToNext}, {"from_start", s.FromStart}, {"stay", s.Stay}, {"open", s.Open}} {
			r := trecs[i]
			i++
			if r[0] != string(s.Stage) || r[1] != m.name || r[2] != strconv.Itoa(m.d.N) {
				t.Errorf("row %v, want %s %s %d", r[:3], s.Stage, m.name, m.d.N)
				continue
			}
			if m.d.N == 0 {
				for _, c := range r[3:] {
					if c != "" {
						t.Errorf("%s %s empty Dist has cell %q", s.Stage, m.name, c)
					}
				}
				continue
			}
			want := []time.Duration{m.d.Min}
			for _, p := range []float64{50, 90, 99.9} {
				v, ok := m.d.Percentile(p)
				if !ok {
					t.Errorf("no p%g", p)
				}
				want = append(want, v)
			}
			want = append(want, m.d.Median, m.d.Max, m.d.Mean)
			for k, w := range want {
				if r[3+k] != zoDur(w) {
					t.Errorf("%s %s %s = %q, API %v", s.Stage, m.name, tt.Header[3+k], r[3+k], w)
				}
				if _, err := time.ParseDuration(r[3+k]); err != nil {
					t.Errorf("%q does not parse", r[3+k])
				}
			}
		}
	}
	// Same input, same bytes.
	rep2, _ := funnel.AnalyzeStore(context.Background(), g, st,
		funnel.CohortBy(funnel.FirstSeen(funnel.Month)), funnel.Percentiles(50, 90, 99.9))
	if rep2.Table().String() != rt.String() || rep2.Funnel.TimeTable().String() != tt.String() {
		t.Error("same store, different tables")
	}
}

// String: columns separated by two spaces, first left-aligned, others
// right-aligned, no trailing spaces.
func TestContractReviewOutTableStringAligned(t *testing.T) {
	st, _, _ := zoStore(t)
	rep, err := funnel.AnalyzeStore(context.Background(), model.SterneCutler().Stages(), st,
		funnel.CohortBy(funnel.FirstSeen(funnel.Week)))
	if err != nil {
		t.Fatal(err)
	}
	for name, tab := range map[string]funnel.Table{"report": rep.Table(), "time": rep.Funnel.TimeTable()} {
		lines := strings.Split(strings.TrimSuffix(tab.String(), "\n"), "\n")
		if len(lines) != 1+len(tab.Rows) {
			t.Fatalf("%s: %d lines for %d rows", name, len(lines), len(tab.Rows))
		}
		// The right edge of every right-aligned column is the same on
		// every line (for lines whose cell there is not empty).
		all := append([][]string{tab.Header}, tab.Rows...)
		for i, l := range lines {
			if strings.HasSuffix(l, " ") {
				t.Errorf("%s line %d has trailing spaces", name, i)
			}
			if !strings.HasPrefix(l, all[i][0]) {
				t.Errorf("%s line %d does not start with its first cell", name, i)
			}
		}
		for c := 1; c < len(tab.Header); c++ {
			edge := -1
			for i, l := range lines {
				cell := all[i][c]
				if cell == "" {
					continue
				}
				// find the end of this column: recompute from widths
				pos := zoEdge(all, c)
				if !strings.HasSuffix([]string{string([]rune(l)[:min(pos, len([]rune(l)))])}[0], cell) {
					t.Errorf("%s line %d column %s not right-aligned at %d: %q", name, i, tab.Header[c], pos, l)
					break
				}
				edge = pos
			}
			_ = edge
		}
	}
}

func zoEdge(all [][]string, c int) int {
	pos := 0
	for k := 0; k <= c; k++ {
		w := 0
		for _, r := range all {
			if k < len(r) {
				w = max(w, len([]rune(r[k])))
			}
		}
		if k > 0 {
			pos += 2
		}
		pos += w
	}
	return pos
}

// Report.Table labels: "(all)" total, "(none)" for the empty key, quoted
// keys that are themselves labels; hostile keys survive CSV.
func TestContractReviewOutReportCohortLabels(t *testing.T) {
	st, _, _ := zoStore(t)
	keys := []string{"", "(all)", "(none)", `a,"b"`, "x\ny", "<&>"}
	rep, err := funnel.AnalyzeStore(context.Background(), model.SterneCutler().Stages(), st, funnel.CohortBy(func(c *lifecycle.Customer) string {
		h := 0
		for _, r := range c.ID {
			h += int(r)
		}
		return keys[h%len(keys)]
	}))
	if err != nil {
		t.Fatal(err)
	}
	tab := rep.Table()
	zoCSV(t, tab)
	seen := map[string]bool{}
	for _, r := range tab.Rows {
		seen[r[0]] = true
	}
	for _, want := range []string{"(all)", "(none)", `"(all)"`, `"(none)"`, `a,"b"`, "x\ny", "<&>"} {
		if !seen[want] {
			t.Errorf("no cohort labelled %q (have %v)", want, seen)
		}
	}
}

// Retention tables: columns and cells equal the API.
func TestContractReviewOutRetentionTables(t *testing.T) {
	_, evs, _ := zoStore(t)
	rt, err := funnel.Retention(funnel.OrdersFrom(evs), funnel.Month)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []funnel.Measure{funnel.ActiveShare, funnel.RepeatedShare, funnel.RetainedShare, funnel.RevenueAmount} {
		tab := rt.Matrix(m)
		recs := zoCSV(t, tab)
		width := 0
		for _, c := range rt.Cohorts {
			width = max(width, len(c.Retained))
		}
		want := []string{"cohort", "customers", "total_revenue"}
		for k := 0; k < width; k++ {
			want = append(want, "k"+strconv.Itoa(k))
		}
		if strings.Join(recs[0], ",") != strings.Join(want, ",") {
			t.Errorf("%s header %v", m, recs[0])
		}
		for i, c := range rt.Cohorts {
			r := recs[i+1]
			if r[0] != c.Key || r[1] != strconv.Itoa(c.Customers) || r[2] != strconv.FormatInt(c.TotalRevenue, 10) {
				t.Errorf("%s row %v", m, r[:3])
			}
			for k := 0; k < width; k++ {
				cell := r[3+k]
				var xs []int
				switch m {
				case funnel.ActiveShare:
					xs = c.Active
				case funnel.RepeatedShare:
					xs = c.Repeated
				case funnel.RetainedShare:
					xs = c.Retained
				}
				if k >= len(c.Retained) {
					if cell != "" {
						t.Errorf("%s %s k%d past the last period = %q", m, c.Key, k, cell)
					}
					continue
				}
				if m == funnel.RevenueAmount {
					if cell != strconv.FormatInt(c.Revenue[k], 10) {
						t.Errorf("revenue %s k%d = %q, API %d", c.Key, k, cell, c.Revenue[k])
					}
					continue
				}
				w := strconv.FormatFloat(float64(xs[k])/float64(c.Customers), 'f', 4, 64)
				if cell != w {
					t.Errorf("%s %s k%d = %q, API %s", m, c.Key, k, cell, w)
				}
			}
		}
		if i := 1; i < len(rt.Cohorts) && rt.Cohorts[0].Key >= rt.Cohorts[1].Key {
			t.Errorf("cohorts not in order")
		}
	}
	long := rt.Table()
	recs := zoCSV(t, long)
	if strings.Join(recs[0], ",") != "cohort,customers,k,active,repeated,retained,revenue" {
		t.Errorf("long header %v", recs[0])
	}
	i := 1
	for _, c := range rt.Cohorts {
		for k := range c.Retained {
			r := recs[i]
			i++
			want := []string{c.Key, strconv.Itoa(c.Customers), strconv.Itoa(k), strconv.Itoa(c.Active[k]), strconv.Itoa(c.Repeated[k]), strconv.Itoa(c.Retained[k]), strconv.FormatInt(c.Revenue[k], 10)}
			if strings.Join(r, ",") != strings.Join(want, ",") {
				t.Errorf("long row %v, API %v", r, want)
			}
		}
	}
}

// Errors name the value and wrap ErrInvalidInput; nothing panics.
func TestContractReviewOutErrors(t *testing.T) {
	g := model.SterneCutler().Stages()
	for _, p := range []float64{0, -1, 100.5, math.NaN(), math.Inf(1)} {
		_, err := funnel.Analyze(context.Background(), g, funnel.Customers(nil), funnel.Percentiles(p))
		if !errors.Is(err, funnel.ErrInvalidInput) || !strings.Contains(err.Error(), strconv.FormatFloat(p, 'g', -1, 64)) {
			t.Errorf("percentile %v: %v", p, err)
		}
	}
	if _, err := funnel.Analyze(context.Background(), nil, funnel.Customers(nil)); !errors.Is(err, funnel.ErrInvalidInput) {
		t.Errorf("nil graph: %v", err)
	}
	c := &lifecycle.Customer{ID: "x", Stage: "nowhere", History: []lifecycle.Transition{{To: "nowhere", At: time.Unix(0, 0)}}}
	_, err := funnel.Analyze(context.Background(), g, funnel.Customers([]*lifecycle.Customer{c}))
	if !errors.Is(err, funnel.ErrUnknownStage) || !strings.Contains(err.Error(), "x") || !strings.Contains(err.Error(), "nowhere") {
		t.Errorf("unknown stage: %v", err)
	}
	_, err = funnel.Retention([]funnel.Order{{CustomerID: "a", Time: time.Unix(0, 0), Amount: -5, Currency: "EUR"}}, funnel.Day)
	if !errors.Is(err, funnel.ErrInvalidInput) || !strings.Contains(err.Error(), "-5") {
		t.Errorf("negative order: %v", err)
	}
	// Empty report tables render.
	rep, err := funnel.Analyze(context.Background(), g, funnel.Customers(nil))
	if err != nil {
		t.Fatal(err)
	}
	zoCSV(t, rep.Table())
	tt := rep.Funnel.TimeTable()
	zoCSV(t, tt)
	if strings.Join(tt.Header, ",") != "stage,measure,n,min,median,max,mean" {
		t.Errorf("empty funnel time table header %v", tt.Header)
	}
	_ = stage.Path
}

// String() of a report whose cohort key holds a line break: "aligned
// plain text", one line per row.
func TestContractReviewOutTableStringLineBreakKey(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cs := []*lifecycle.Customer{
		{ID: "a", Stage: model.Reach, Since: at, History: []lifecycle.Transition{{To: model.Reach, At: at}}},
		{ID: "b", Stage: model.Reach, Since: at, History: []lifecycle.Transition{{To: model.Reach, At: at}}},
	}
	rep, err := funnel.Analyze(context.Background(), model.SterneCutler().Stages(), funnel.Customers(cs),
		funnel.CohortBy(func(c *lifecycle.Customer) string {
			if c.ID == "a" {
				return "line\nbreak"
			}
			return "tab\there"
		}))
	if err != nil {
		t.Fatal(err)
	}
	tab := rep.Table()
	s := tab.String()
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if len(lines) != 1+len(tab.Rows) {
		t.Errorf("String() has %d lines for %d rows + header:\n%s", len(lines), len(tab.Rows), s)
	}
}
