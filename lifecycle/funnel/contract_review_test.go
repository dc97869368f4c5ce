package funnel_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/funnel"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

func zzNoPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s panicked: %v", what, r)
		}
	}()
	f()
}

func zzWant(t *testing.T, what string, err, sentinel error, contains ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: want error wrapping %v, got nil", what, sentinel)
		return
	}
	if !errors.Is(err, sentinel) {
		t.Errorf("%s: %q does not wrap %v", what, err, sentinel)
	}
	for _, s := range contains {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("%s: %q does not name %q", what, err, s)
		}
	}
}

var zt0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func zzCust(id string, cur stage.ID, hist ...any) *lifecycle.Customer {
	c := &lifecycle.Customer{ID: id, Stage: cur}
	for i := 0; i+1 < len(hist); i += 2 {
		c.History = append(c.History, lifecycle.Transition{To: hist[i].(stage.ID), At: hist[i+1].(time.Time)})
	}
	if n := len(c.History); n > 0 {
		c.Since = c.History[n-1].At
		c.AsOf = c.Since
	}
	return c
}

func zday(n int) time.Time { return zt0.Add(time.Duration(n) * 24 * time.Hour) }

func TestContractReviewNewHostile(t *testing.T) {
	g := model.SterneCutler().Stages()
	cases := map[string]struct {
		g    *stage.Graph
		opts []funnel.Option
		has  []string
	}{
		"nil graph":           {nil, nil, nil},
		"percentile 0":        {g, []funnel.Option{funnel.Percentiles(0)}, []string{"0"}},
		"percentile 100.5":    {g, []funnel.Option{funnel.Percentiles(50, 100.5)}, []string{"100.5"}},
		"percentile -1":       {g, []funnel.Option{funnel.Percentiles(-1)}, []string{"-1"}},
		"percentile NaN":      {g, []funnel.Option{funnel.Percentiles(math.NaN())}, []string{"NaN"}},
		"percentile +Inf":     {g, []funnel.Option{funnel.Percentiles(math.Inf(1))}, []string{"Inf"}},
		"AsOf zero":           {g, []funnel.Option{funnel.AsOf(time.Time{})}, nil},
		"Only nil Match":      {g, []funnel.Option{funnel.Only(funnel.Segment{Name: "x"})}, nil},
		"Only All()":          {g, []funnel.Option{funnel.Only(funnel.All())}, nil},
		"Only Any()":          {g, []funnel.Option{funnel.Only(funnel.Any())}, nil},
		"Only ScoreBelow(0)":  {g, []funnel.Option{funnel.Only(funnel.ScoreBelow(0))}, nil},
		"Only ScoreBelow(11)": {g, []funnel.Option{funnel.Only(funnel.ScoreBelow(11))}, nil},
		"Only Spent eur":      {g, []funnel.Option{funnel.Only(funnel.SpentAtLeast("eur", 5))}, []string{"eur"}},
		"Only Spent 0":        {g, []funnel.Option{funnel.Only(funnel.SpentAtLeast("EUR", 0))}, nil},
		"Only HasEvent bad":   {g, []funnel.Option{funnel.Only(funnel.HasEvent("Bad Type", 1))}, []string{"Bad Type"}},
		"Only Not(nil)":       {g, []funnel.Option{funnel.Only(funnel.Not(funnel.Segment{}))}, nil},
		"Only All(bad, ok)":   {g, []funnel.Option{funnel.Only(funnel.All(funnel.InStage(model.Reach), funnel.ScoreBelow(99)))}, nil},
		"Only Any(ok, nil)":   {g, []funnel.Option{funnel.Only(funnel.Any(funnel.InStage(model.Reach), funnel.Segment{}))}, nil},
		"Only Where bad rule": {g, []funnel.Option{funnel.Only(funnel.Where(model.Spent("XX", 1)))}, nil},
	}
	for name, c := range cases {
		var err error
		zzNoPanic(t, name, func() { _, err = funnel.New(c.g, c.opts...) })
		zzWant(t, "New "+name, err, funnel.ErrInvalidInput, c.has...)
		zzNoPanic(t, name, func() { _, err = funnel.Analyze(context.Background(), c.g, funnel.Customers(nil), c.opts...) })
		zzWant(t, "Analyze "+name, err, funnel.ErrInvalidInput, c.has...)
	}
	// Empty graph.
	var err error
	zzNoPanic(t, "empty graph", func() { _, err = funnel.New(&stage.Graph{}) })
	zzWant(t, "New empty graph", err, funnel.ErrInvalidInput)
	// Rule segments wrap model.ErrInvalidModel too (docs/analytics.md).
	_, err = funnel.New(g, funnel.Only(funnel.SpentAtLeast("eur", 5)))
	if !errors.Is(err, model.ErrInvalidModel) {
		t.Errorf("malformed rule segment: %v does not wrap model.ErrInvalidModel", err)
	}
}

func TestContractReviewAddAndAnalyzeErrors(t *testing.T) {
	g := model.SterneCutler().Stages()
	a, err := funnel.New(g)
	if err != nil {
		t.Fatal(err)
	}
	zzWant(t, "Add(nil)", a.Add(nil), funnel.ErrInvalidInput)
	err = a.Add(zzCust("ghost", "limbo", stage.ID("limbo"), zday(1)))
	zzWant(t, "Add unknown stage", err, funnel.ErrUnknownStage, "ghost", "limbo")
	err = a.Add(zzCust("ghost2", model.Reach, model.Reach, zday(1), stage.ID("nowhere"), zday(2), model.Reach, zday(3)))
	zzWant(t, "Add unknown history stage", err, funnel.ErrUnknownStage, "ghost2", "nowhere")
	if r := a.Report(); r.Customers != 0 {
		t.Errorf("refused customers were counted: %d", r.Customers)
	}
	// AsOf: unknown stage after the AsOf time is still an error.
	a2, _ := funnel.New(g, funnel.AsOf(zday(2)))
	err = a2.Add(zzCust("late", model.Reach, model.Reach, zday(1), stage.ID("future"), zday(5)))
	zzWant(t, "Add AsOf unknown stage later", err, funnel.ErrUnknownStage, "future")

	ctx := context.Background()
	_, err = funnel.Analyze(ctx, g, nil)
	zzWant(t, "Analyze nil seq", err, funnel.ErrInvalidInput)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = funnel.Analyze(cctx, g, funnel.Customers([]*lifecycle.Customer{zzCust("a", model.Reach, model.Reach, zday(1))}))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Analyze cancelled = %v", err)
	}
	serr := errors.New("scan broke")
	_, err = funnel.Analyze(ctx, g, func(yield func(*lifecycle.Customer, error) bool) { yield(nil, serr) })
	if !errors.Is(err, serr) {
		t.Errorf("Analyze scan error = %v", err)
	}
	_, err = funnel.Analyze(ctx, g, funnel.Customers([]*lifecycle.Customer{nil}))
	zzWant(t, "Analyze nil customer", err, funnel.ErrInvalidInput)
	zzNoPanic(t, "AnalyzeStore nil", func() { _, err = funnel.AnalyzeStore(ctx, g, nil) })
	if err == nil {
		t.Errorf("AnalyzeStore(nil store): no error")
	}
	// Empty input: a report with zero customers and one entry per stage.
	r, err := funnel.Analyze(ctx, g, funnel.Customers(nil))
	if err != nil || r.Customers != 0 || len(r.Stages) != len(g.Stages()) {
		t.Errorf("empty report: %+v, %v", r, err)
	}
	zzNoPanic(t, "empty tables", func() {
		_ = r.Table().String()
		_ = r.Funnel.TimeTable().String()
	})
	if h := r.Funnel.TimeTable().Header; len(h) != 7 {
		t.Errorf("TimeTable header of an empty report %v: want no percentile columns", h)
	}
}

func TestContractReviewFunnelDefinitions(t *testing.T) {
	g := model.SterneCutler().Stages()
	ids := g.Stages()
	s := func(i int) stage.ID { return ids[i].ID }
	cs := []*lifecycle.Customer{
		// Walks 0 → 1 → 2 and stays.
		zzCust("a", s(2), s(0), zday(0), s(1), zday(2), s(2), zday(6)),
		// Skips to 2 straight away, then regresses to 1.
		zzCust("b", s(1), s(2), zday(1), s(1), zday(11)),
		// Stays in 0.
		zzCust("c", s(0), s(0), zday(3)),
		// Built outside the Tracker: Stage and Since, no history.
		{ID: "d", Stage: s(1), Since: zday(4), AsOf: zday(10)},
		// Pending referrer: not counted at all.
		{ID: "p", Stage: s(3), Since: zday(1), Facts: lifecycle.Facts{Referrals: []lifecycle.Referral{{Customer: "x", At: zday(1)}}}, History: []lifecycle.Transition{{To: s(3), At: zday(1)}}},
	}
	rep, err := funnel.Analyze(context.Background(), g, funnel.Customers(cs), funnel.Percentiles(50, 100))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Customers != 4 {
		t.Errorf("Customers = %d, want 4 (pending referrer left out)", rep.Customers)
	}
	sum := 0
	for _, st := range rep.Stages {
		sum += st.Current
	}
	if sum != rep.Customers {
		t.Errorf("Σ Current %d != Customers %d", sum, rep.Customers)
	}
	st0, _ := rep.Stage(s(0))
	st1, _ := rep.Stage(s(1))
	st2, _ := rep.Stage(s(2))
	if st0.Reached != 4 || st1.Reached != 3 || st2.Reached != 2 {
		t.Errorf("Reached = %d %d %d, want 4 3 2", st0.Reached, st1.Reached, st2.Reached)
	}
	if st0.Entered != 2 || st1.Entered != 3 || st2.Entered != 2 {
		t.Errorf("Entered = %d %d %d, want 2 3 2", st0.Entered, st1.Entered, st2.Entered)
	}
	if st0.Stopped != 1 || st1.Stopped != 1 || st2.Stopped != 2 {
		t.Errorf("Stopped = %d %d %d, want 1 1 2", st0.Stopped, st1.Stopped, st2.Stopped)
	}
	if math.Abs(st0.Conversion-0.75) > 1e-12 || math.Abs(st0.StopRate-0.25) > 1e-12 {
		t.Errorf("stage 0 conversion %v stop rate %v", st0.Conversion, st0.StopRate)
	}
	if _, ok := rep.Stage("nope"); ok {
		t.Errorf("Stage(nope) ok")
	}
	// ToNext(0): only a entered 0 and reached 1: 2 days.
	if st0.ToNext.N != 1 || st0.ToNext.Min != 48*time.Hour {
		t.Errorf("ToNext(0) = %+v", st0.ToNext)
	}
	// Stay(1): a's stay 2→6 (4 days); b's stay in 1 is open.
	if st1.Stay.N != 1 || st1.Stay.Max != 96*time.Hour {
		t.Errorf("Stay(1) = %+v", st1.Stay)
	}
	// Open(1): b since day 11, AsOf day 11 → 0; d since day 4, AsOf day 10 → 6 days.
	if st1.Open.N != 2 || st1.Open.Max != 6*24*time.Hour {
		t.Errorf("Open(1) = %+v", st1.Open)
	}
	// FromStart(2): a 6 days, b 0.
	if st2.FromStart.N != 2 || st2.FromStart.Min != 0 || st2.FromStart.Max != 6*24*time.Hour {
		t.Errorf("FromStart(2) = %+v", st2.FromStart)
	}
	if st0.FromStart.N != 0 {
		t.Errorf("FromStart of the first stage = %+v, want empty", st0.FromStart)
	}
	// AsOf day 5: a in 1, b in 2, c in 0; d (Since day 4) in 1.
	rep2, err := funnel.Analyze(context.Background(), g, funnel.Customers(cs), funnel.AsOf(zday(5)))
	if err != nil {
		t.Fatal(err)
	}
	if rep2.Customers != 4 || rep2.Stages[1].Current != 2 || rep2.Stages[2].Current != 1 {
		t.Errorf("AsOf day 5: %+v", rep2.Funnel)
	}
	if !rep2.AsOf.Equal(zday(5)) {
		t.Errorf("Report.AsOf = %v", rep2.AsOf)
	}
	// AsOf before anyone: no customers.
	rep3, _ := funnel.Analyze(context.Background(), g, funnel.Customers(cs), funnel.AsOf(zday(-5)))
	if rep3.Customers != 0 {
		t.Errorf("AsOf before every history: %d customers", rep3.Customers)
	}
	// AsOf in another zone means the same instant.
	loc := time.FixedZone("W", -10*3600)
	rep4, _ := funnel.Analyze(context.Background(), g, funnel.Customers(cs), funnel.AsOf(zday(5).In(loc)))
	if rep4.Customers != rep2.Customers || rep4.Stages[2].Current != rep2.Stages[2].Current {
		t.Errorf("AsOf in another zone differs")
	}
}

func TestContractReviewDistNearestRank(t *testing.T) {
	g := model.SterneCutler().Stages()
	ids := g.Stages()
	var cs []*lifecycle.Customer
	// Stays in stage 0 of 1..10 hours.
	for i := 1; i <= 10; i++ {
		cs = append(cs, zzCust(fmt.Sprint("c", i), ids[1].ID, ids[0].ID, zt0, ids[1].ID, zt0.Add(time.Duration(i)*time.Hour)))
	}
	rep, err := funnel.Analyze(context.Background(), g, funnel.Customers(cs), funnel.Percentiles(90, 10, 100, 0.0001, 55))
	if err != nil {
		t.Fatal(err)
	}
	d := rep.Stages[0].Stay
	if d.N != 10 || d.Min != time.Hour || d.Max != 10*time.Hour || d.Median != 5*time.Hour || d.Mean != 330*time.Minute {
		t.Errorf("Dist = %+v", d)
	}
	want := map[float64]time.Duration{90: 9 * time.Hour, 10: time.Hour, 100: 10 * time.Hour, 0.0001: time.Hour, 55: 6 * time.Hour}
	order := []float64{90, 10, 100, 0.0001, 55}
	for i, p := range d.Percentiles {
		if p.P != order[i] || p.Value != want[p.P] {
			t.Errorf("percentile %d = %+v, want %v at %v", i, p, want[order[i]], order[i])
		}
	}
	if v, ok := d.Percentile(55); !ok || v != 6*time.Hour {
		t.Errorf("Percentile(55) = %v %v", v, ok)
	}
	if _, ok := d.Percentile(50); ok {
		t.Errorf("Percentile(50) ok though not requested")
	}
	var empty funnel.Dist
	if _, ok := empty.Percentile(50); ok {
		t.Errorf("empty Dist Percentile ok")
	}
	// Table: durations rounded to the second, parseable.
	tt := rep.Funnel.TimeTable()
	if !strings.Contains(strings.Join(tt.Header, ","), "p90") || !strings.Contains(strings.Join(tt.Header, ","), "p55") {
		t.Errorf("TimeTable header %v", tt.Header)
	}
	for _, row := range tt.Rows {
		for j, cell := range row[2:] {
			if cell == "" {
				continue
			}
			if j == 0 { // n
				continue
			}
			if _, err := time.ParseDuration(cell); err != nil {
				t.Errorf("TimeTable cell %q does not parse: %v", cell, err)
			}
		}
	}
}

func TestContractReviewPeriods(t *testing.T) {
	// ISO weeks in UTC.
	cases := []struct {
		p    funnel.Period
		t    time.Time
		want string
	}{
		{funnel.Week, time.Date(2021, 1, 1, 12, 0, 0, 0, time.UTC), "2020-W53"},
		{funnel.Week, time.Date(2024, 12, 30, 0, 0, 0, 0, time.UTC), "2025-W01"},
		{funnel.Week, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), "2026-W09"},
		{funnel.Day, time.Date(2026, 3, 1, 23, 0, 0, 0, time.FixedZone("M", -5*3600)), "2026-03-02"},
		{funnel.Month, time.Date(2026, 3, 1, 0, 30, 0, 0, time.FixedZone("P", 3600)), "2026-02"},
		{funnel.Period{}, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), "2026-03-01"},
	}
	for _, c := range cases {
		if got := c.p.Key(c.t); got != c.want {
			t.Errorf("%v.Key(%v) = %q, want %q", c.p, c.t, got, c.want)
		}
	}
	for _, d := range []time.Duration{0, -1, math.MinInt64} {
		_, err := funnel.Every(d, zt0)
		zzWant(t, fmt.Sprintf("Every(%v)", d), err, funnel.ErrInvalidInput)
	}
	p, err := funnel.Every(90*time.Minute, zt0)
	if err != nil {
		t.Fatal(err)
	}
	if k := p.Key(zt0.Add(100 * time.Minute)); k != "2026-01-01T01:30:00Z" {
		t.Errorf("Every key = %q", k)
	}
	if i := p.Index(zt0.Add(-time.Minute)); i != -1 {
		t.Errorf("Every index before origin = %d, want -1", i)
	}
	ph, _ := funnel.Every(1500*time.Millisecond, zt0)
	if k := ph.Key(zt0.Add(2 * time.Second)); k != "2026-01-01T00:00:01.500000000Z" {
		t.Errorf("Every fractional key = %q", k)
	}
	// Keys sort in time order; Start(Index(t)) ≤ t.
	for _, per := range []funnel.Period{funnel.Day, funnel.Week, funnel.Month, p} {
		prev := ""
		for i := 0; i < 400; i++ {
			tm := time.Date(1999, 12, 20, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 37 * time.Hour)
			k := per.Key(tm)
			if k < prev {
				t.Errorf("%v keys out of order: %q after %q", per, k, prev)
				break
			}
			prev = k
			if st := per.Start(per.Index(tm)); st.After(tm) || per.Key(st) != k {
				t.Errorf("%v: Start(Index(%v)) = %v, key %q vs %q", per, tm, st, per.Key(st), k)
				break
			}
		}
	}
	// Extreme times must not panic.
	for _, per := range []funnel.Period{funnel.Day, funnel.Week, funnel.Month, p} {
		for _, tm := range []time.Time{{}, time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), time.Unix(math.MaxInt64/4, 0), time.Unix(math.MinInt64/4, 0)} {
			zzNoPanic(t, fmt.Sprintf("%v.Key(%v)", per, tm), func() { _ = per.Key(tm); _ = per.Start(per.Index(tm)) })
		}
	}
}

func TestContractReviewRetention(t *testing.T) {
	d := func(m, dd int) time.Time { return time.Date(2026, time.Month(m), dd, 10, 0, 0, 0, time.UTC) }
	orders := []funnel.Order{
		{CustomerID: "a", Time: d(1, 5), Amount: 100, Currency: "EUR"},
		{CustomerID: "a", Time: d(1, 5), Amount: 50, Currency: "EUR"}, // same instant: a repeat
		{CustomerID: "b", Time: d(1, 20), Amount: 10, Currency: "EUR"},
		{CustomerID: "b", Time: d(3, 2), Amount: 20, Currency: "EUR"},
		{CustomerID: "c", Time: d(2, 2), Amount: 0},
	}
	cp := append([]funnel.Order{}, orders...)
	tab, err := funnel.Retention(orders, funnel.Month)
	if err != nil {
		t.Fatal(err)
	}
	for i := range orders {
		if orders[i] != cp[i] {
			t.Errorf("Retention modified orders")
		}
	}
	if tab.Currency != "EUR" || len(tab.Cohorts) != 2 || !tab.Until.Equal(d(3, 2)) {
		t.Fatalf("table %+v", tab)
	}
	jan := tab.Cohorts[0]
	if jan.Key != "2026-01" || jan.Customers != 2 || len(jan.Active) != 3 {
		t.Fatalf("jan %+v", jan)
	}
	eq := func(name string, got, want []int) {
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	eq("Active", jan.Active, []int{2, 0, 1})
	eq("Repeated", jan.Repeated, []int{1, 1, 2})
	eq("Retained", jan.Retained, []int{2, 1, 1})
	if fmt.Sprint(jan.Revenue) != "[160 0 20]" || jan.TotalRevenue != 180 {
		t.Errorf("Revenue %v total %d", jan.Revenue, jan.TotalRevenue)
	}
	// Until earlier: later orders ignored.
	tab2, _ := funnel.Retention(orders, funnel.Month, funnel.Until(d(1, 31)))
	if len(tab2.Cohorts) != 1 || tab2.Cohorts[0].TotalRevenue != 160 {
		t.Errorf("Until Jan 31: %+v", tab2.Cohorts)
	}
	// Empty.
	tab3, err := funnel.Retention(nil, funnel.Month)
	if err != nil || tab3 == nil || len(tab3.Cohorts) != 0 {
		t.Errorf("empty Retention = %+v, %v", tab3, err)
	}
	// Hostile.
	bad := map[string]struct {
		o    []funnel.Order
		opts []funnel.RetentionOption
		p    funnel.Period
		has  []string
	}{
		"no customer":     {[]funnel.Order{orders[0], {Time: d(1, 1), Amount: 1, Currency: "EUR"}}, nil, funnel.Month, []string{"1"}},
		"zero time":       {[]funnel.Order{orders[0], orders[2], {CustomerID: "x", Amount: 1, Currency: "EUR"}}, nil, funnel.Month, []string{"2"}},
		"negative amount": {[]funnel.Order{{CustomerID: "x", Time: d(1, 1), Amount: -1, Currency: "EUR"}}, nil, funnel.Month, []string{"0"}},
		"two currencies":  {[]funnel.Order{orders[0], {CustomerID: "x", Time: d(1, 1), Amount: 1, Currency: "USD"}}, nil, funnel.Month, []string{"1"}},
		"code and none":   {[]funnel.Order{orders[0], {CustomerID: "x", Time: d(1, 1), Amount: 1}}, nil, funnel.Month, []string{"1"}},
	}
	ns, _ := funnel.Every(time.Nanosecond, zt0)
	bad["too many periods"] = struct {
		o    []funnel.Order
		opts []funnel.RetentionOption
		p    funnel.Period
		has  []string
	}{[]funnel.Order{orders[0], orders[3]}, nil, ns, nil}
	bad["until far"] = struct {
		o    []funnel.Order
		opts []funnel.RetentionOption
		p    funnel.Period
		has  []string
	}{[]funnel.Order{orders[0]}, []funnel.RetentionOption{funnel.Until(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))}, funnel.Day, nil}
	for name, c := range bad {
		var err error
		zzNoPanic(t, name, func() { _, err = funnel.Retention(c.o, c.p, c.opts...) })
		zzWant(t, "Retention "+name, err, funnel.ErrInvalidInput, c.has...)
	}
	// InCurrency: other currencies are orders, not revenue.
	tab4, err := funnel.Retention([]funnel.Order{orders[0], {CustomerID: "a", Time: d(2, 1), Amount: 7, Currency: "USD"}}, funnel.Month, funnel.InCurrency("EUR"))
	if err != nil {
		t.Fatal(err)
	}
	if c := tab4.Cohorts[0]; tab4.Currency != "EUR" || c.TotalRevenue != 100 || fmt.Sprint(c.Active) != "[1 1]" {
		t.Errorf("InCurrency: %+v", tab4)
	}
	// Saturation of revenue at MaxInt64.
	tab5, err := funnel.Retention([]funnel.Order{{CustomerID: "a", Time: d(1, 1), Amount: math.MaxInt64, Currency: "EUR"}, {CustomerID: "a", Time: d(1, 2), Amount: math.MaxInt64, Currency: "EUR"}}, funnel.Month)
	if err != nil || tab5.Cohorts[0].Revenue[0] != math.MaxInt64 || tab5.Cohorts[0].TotalRevenue != math.MaxInt64 {
		t.Errorf("saturating revenue: %+v %v", tab5, err)
	}
	// Matrix and Table render without panic; shares with 4 decimals.
	m := tab.Matrix(funnel.RetainedShare)
	if len(m.Rows) != 2 || m.Rows[0][3] != "1.0000" || m.Rows[0][4] != "0.5000" {
		t.Errorf("Matrix retained = %v %v", m.Header, m.Rows)
	}
	zzNoPanic(t, "Matrix bad measure", func() { _ = tab.Matrix(funnel.Measure(99)).String() })
	zzNoPanic(t, "Matrix zero measure", func() { _ = tab.Matrix(0).String() })
}

func TestContractReviewStoredRetentionHostile(t *testing.T) {
	ctx := context.Background()
	g := model.SterneCutler().Stages()
	seq := funnel.Customers(nil)
	var err error
	zzNoPanic(t, "nil graph", func() { _, err = funnel.StoredRetention(ctx, nil, model.Retention, seq, funnel.Month) })
	zzWant(t, "StoredRetention nil graph", err, funnel.ErrInvalidInput)
	zzNoPanic(t, "bad repeat", func() { _, err = funnel.StoredRetention(ctx, g, "nope", seq, funnel.Month) })
	zzWant(t, "StoredRetention bad repeat", err, funnel.ErrInvalidInput, "nope")
	zzNoPanic(t, "nil customers", func() { _, err = funnel.StoredRetention(ctx, g, model.Retention, nil, funnel.Month) })
	zzWant(t, "StoredRetention nil customers", err, funnel.ErrInvalidInput)
	serr := errors.New("scan broke")
	_, err = funnel.StoredRetention(ctx, g, model.Retention, func(yield func(*lifecycle.Customer, error) bool) { yield(nil, serr) }, funnel.Month)
	if !errors.Is(err, serr) {
		t.Errorf("scan error = %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	st := store.NewMemory()
	_, err = funnel.StoredRetention(cctx, g, model.Retention, st.Scan(cctx), funnel.Month)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled = %v", err)
	}
	zzNoPanic(t, "nil customer in seq", func() {
		_, err = funnel.StoredRetention(ctx, g, model.Retention, funnel.Customers([]*lifecycle.Customer{nil}), funnel.Month)
	})
	zzWant(t, "StoredRetention nil customer", err, funnel.ErrInvalidInput)
}

// Stored retention equals the exact table on an in-order stream without refunds.
func TestContractReviewStoredMatchesExact(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	now := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	tr := lifecycle.NewTracker(model.SterneCutler(), st, lifecycle.WithClock(func() time.Time { return now }))
	var evs []lifecycle.Event
	for i, o := range []struct {
		c string
		m int
		d int
	}{{"a", 1, 3}, {"a", 1, 20}, {"b", 1, 9}, {"b", 3, 4}, {"c", 2, 1}, {"c", 2, 2}, {"c", 5, 6}, {"d", 4, 4}} {
		evs = append(evs, lifecycle.Event{ID: fmt.Sprint("o", i), CustomerID: o.c, Type: lifecycle.OrderCompleted, Time: time.Date(2026, time.Month(o.m), o.d, 8, 0, 0, 0, time.UTC), Amount: 1000, Currency: "EUR"})
	}
	for _, e := range evs {
		if _, err := tr.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	ex, err := funnel.Retention(funnel.OrdersFrom(evs), funnel.Month)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := funnel.StoredRetention(ctx, model.SterneCutler().Stages(), model.Retention, st.Scan(ctx), funnel.Month)
	if err != nil {
		t.Fatal(err)
	}
	if len(ex.Cohorts) != len(stored.Cohorts) {
		t.Fatalf("cohorts %d vs %d", len(ex.Cohorts), len(stored.Cohorts))
	}
	for i := range ex.Cohorts {
		e, s := ex.Cohorts[i], stored.Cohorts[i]
		if e.Key != s.Key || e.Customers != s.Customers || fmt.Sprint(e.Repeated) != fmt.Sprint(s.Repeated) || fmt.Sprint(e.Retained) != fmt.Sprint(s.Retained) || e.TotalRevenue != s.TotalRevenue {
			t.Errorf("cohort %s: exact %+v, stored %+v", e.Key, e, s)
		}
		if s.Active != nil || s.Revenue != nil {
			t.Errorf("stored Active/Revenue not nil")
		}
	}
}

func TestContractReviewSegments(t *testing.T) {
	ctx := context.Background()
	g := model.SterneCutler().Stages()
	cs := []*lifecycle.Customer{zzCust("a", model.Reach, model.Reach, zday(1)), zzCust("b", model.Retention, model.Retention, zday(1)),
		{ID: "p", Facts: lifecycle.Facts{Referrals: []lifecycle.Referral{{Customer: "x", At: zday(1)}}}}}
	collect := func(seq iter.Seq2[*lifecycle.Customer, error]) ([]string, error) {
		var ids []string
		for c, err := range seq {
			if err != nil {
				return ids, err
			}
			ids = append(ids, c.ID)
		}
		return ids, nil
	}
	ids, err := collect(funnel.Not(funnel.InStage(model.Retention)).Filter(funnel.Customers(cs)))
	if err != nil || fmt.Sprint(ids) != "[a]" {
		t.Errorf("Not(InStage(retention)).Filter = %v, %v (pending referrer must never be yielded)", ids, err)
	}
	for name, seg := range map[string]funnel.Segment{"nil Match": {Name: "x"}, "All()": funnel.All(), "bad score": funnel.ScoreBelow(0), "bad rule": funnel.Where(model.Spent("EUR", 0))} {
		var err error
		zzNoPanic(t, name, func() { _, err = collect(seg.Filter(funnel.Customers(cs))) })
		zzWant(t, "Filter "+name, err, funnel.ErrInvalidInput)
		zzNoPanic(t, name, func() {
			for _, e := range seg.IDs(ctx, store.NewMemory()) {
				err = e
				break
			}
		})
		zzWant(t, "IDs "+name, err, funnel.ErrInvalidInput)
	}
	zzNoPanic(t, "Filter(nil)", func() { _, err = collect(funnel.InStage(model.Reach).Filter(nil)) })
	zzWant(t, "Filter(nil)", err, funnel.ErrInvalidInput)
	zzNoPanic(t, "IDs(nil store)", func() {
		err = nil
		for _, e := range funnel.InStage(model.Reach).IDs(ctx, nil) {
			err = e
			break
		}
	})
	zzWant(t, "IDs(nil store)", err, funnel.ErrInvalidInput)
	// Stop early: breaking out of Filter must not panic.
	zzNoPanic(t, "break", func() {
		for range funnel.InStage(model.Reach, model.Retention).Filter(funnel.Customers(cs)) {
			break
		}
	})
	// Only counts only matches; report over them.
	rep, err := funnel.Analyze(ctx, g, funnel.Customers(cs), funnel.Only(funnel.InStage(model.Retention)))
	if err != nil || rep.Customers != 1 {
		t.Errorf("Only: %v customers, %v", rep.Customers, err)
	}
	// ScoreBelow bounds 1..10 valid.
	for _, n := range []int{1, 10} {
		if _, err := funnel.New(g, funnel.Only(funnel.ScoreBelow(n))); err != nil {
			t.Errorf("ScoreBelow(%d): %v", n, err)
		}
	}
}

func TestContractReviewReportTableLabels(t *testing.T) {
	g := model.SterneCutler().Stages()
	cs := []*lifecycle.Customer{zzCust("a", model.Reach, model.Reach, zday(1)), zzCust("b", model.Reach, model.Reach, zday(2)), zzCust("c", model.Reach, model.Reach, zday(3))}
	keys := map[string]string{"a": "(all)", "b": "", "c": "x,y \"q\""}
	rep, err := funnel.Analyze(context.Background(), g, funnel.Customers(cs), funnel.CohortBy(func(c *lifecycle.Customer) string { return keys[c.ID] }))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Cohorts) != 3 || rep.Cohorts[0].Key != "" {
		t.Fatalf("cohorts %+v", rep.Cohorts)
	}
	tab := rep.Table()
	labels := map[string]bool{}
	for _, r := range tab.Rows {
		labels[r[0]] = true
	}
	for _, want := range []string{"(all)", "(none)", `"(all)"`} {
		if !labels[want] {
			t.Errorf("Report.Table labels %v lack %q", labels, want)
		}
	}
	var b strings.Builder
	if err := tab.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	s := tab.String()
	for _, line := range strings.Split(s, "\n") {
		if strings.HasSuffix(line, " ") {
			t.Errorf("trailing space in %q", line)
		}
	}
	// FirstSeen / FirstOrder keys.
	c := zzCust("z", model.Reach, model.Reach, time.Date(2026, 3, 31, 23, 0, 0, 0, time.FixedZone("E", 5*3600)))
	if k := funnel.FirstSeen(funnel.Month)(c); k != "2026-03" {
		t.Errorf("FirstSeen(Month) = %q, want 2026-03 (UTC)", k)
	}
	if k := funnel.FirstOrder(funnel.Month)(c); k != "" {
		t.Errorf("FirstOrder of a non-buyer = %q", k)
	}
	if k := funnel.FirstSeen(funnel.Month)(&lifecycle.Customer{ID: "empty"}); k != "" {
		t.Errorf("FirstSeen of nothing = %q", k)
	}
}

// MaxPeriods: a row may span MaxPeriods periods, not more.
func TestContractReviewRetentionMaxPeriods(t *testing.T) {
	p, _ := funnel.Every(time.Second, zt0)
	at := func(s int) funnel.Order {
		return funnel.Order{CustomerID: "a", Time: zt0.Add(time.Duration(s) * time.Second)}
	}
	tab, err := funnel.Retention([]funnel.Order{at(0), at(funnel.MaxPeriods - 1)}, p)
	if err != nil {
		t.Fatalf("row of exactly MaxPeriods periods: %v", err)
	}
	if n := len(tab.Cohorts[0].Retained); n != funnel.MaxPeriods {
		t.Errorf("row length %d, want MaxPeriods", n)
	}
	_, err = funnel.Retention([]funnel.Order{at(0), at(funnel.MaxPeriods)}, p)
	zzWant(t, "row of MaxPeriods+1", err, funnel.ErrInvalidInput)
	// Until before every order: nothing observed.
	tab2, err := funnel.Retention([]funnel.Order{at(10)}, p, funnel.Until(zt0))
	if err != nil || len(tab2.Cohorts) != 0 {
		t.Errorf("Until before the orders: %+v, %v", tab2, err)
	}
}
