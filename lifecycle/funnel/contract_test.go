package funnel_test

// Tests written from the package documentation (go doc, README.md,
// docs/analytics.md, docs/models.md) alone. Expected values are computed by
// hand in the comments.

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math"
	"math/rand"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/funnel"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

var rvT0 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC) // a Monday

func rvH(h float64) time.Time { return rvT0.Add(time.Duration(h * float64(time.Hour))) }

// rvCust builds a customer by hand: pairs of (stage, hours after rvT0). The
// stored Stage/Since are the last transition's; AsOf is asOf hours.
func rvCust(id string, asOf float64, pairs ...any) *lifecycle.Customer {
	c := &lifecycle.Customer{ID: id, AsOf: rvH(asOf)}
	var from stage.ID
	for i := 0; i < len(pairs); i += 2 {
		to := pairs[i].(stage.ID)
		var h float64
		switch v := pairs[i+1].(type) {
		case int:
			h = float64(v)
		case float64:
			h = v
		}
		c.History = append(c.History, lifecycle.Transition{From: from, To: to, At: rvH(h)})
		from = to
	}
	if n := len(c.History); n > 0 {
		c.Stage, c.Since = c.History[n-1].To, c.History[n-1].At
	}
	c.Facts.First = rvH(0)
	c.Facts.Last = c.AsOf
	return c
}

func rvSC() *stage.Graph { return model.SterneCutler().Stages() }

func rvAnalyze(t *testing.T, g *stage.Graph, cs []*lifecycle.Customer, opts ...funnel.Option) *funnel.Report {
	t.Helper()
	rep, err := funnel.Analyze(context.Background(), g, funnel.Customers(cs), opts...)
	if err != nil {
		t.Fatalf("Analyze: %v", err)
	}
	return rep
}

func rvStage(t *testing.T, f *funnel.Funnel, id stage.ID) funnel.StageStats {
	t.Helper()
	s, ok := f.Stage(id)
	if !ok {
		t.Fatalf("Stage(%q) missing", id)
	}
	return s
}

func rvHours(hs ...float64) []time.Duration {
	out := make([]time.Duration, len(hs))
	for i, h := range hs {
		out[i] = time.Duration(h * float64(time.Hour))
	}
	return out
}

// rvCheckDist checks N, Min, Median, Max, Mean and the default percentiles
// against the nearest-rank definition computed here from the values.
func rvCheckDist(t *testing.T, what string, d funnel.Dist, vals []time.Duration) {
	t.Helper()
	if d.N != len(vals) {
		t.Errorf("%s: N = %d, want %d (dist %+v)", what, d.N, len(vals), d)
		return
	}
	if len(vals) == 0 {
		if d.Min != 0 || d.Median != 0 || d.Max != 0 || d.Mean != 0 || len(d.Percentiles) != 0 {
			t.Errorf("%s: empty Dist has non-zero fields: %+v", what, d)
		}
		return
	}
	s := append([]time.Duration(nil), vals...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := func(p float64) time.Duration {
		k := int(math.Ceil(p * float64(len(s)) / 100))
		if k < 1 {
			k = 1
		}
		return s[k-1]
	}
	var sum time.Duration
	for _, v := range s {
		sum += v
	}
	mean := time.Duration(math.Round(float64(sum) / float64(len(s))))
	if d.Min != s[0] || d.Max != s[len(s)-1] || d.Median != rank(50) || d.Mean != mean {
		t.Errorf("%s: min/median/max/mean = %v/%v/%v/%v, want %v/%v/%v/%v", what, d.Min, d.Median, d.Max, d.Mean, s[0], rank(50), s[len(s)-1], mean)
	}
	for _, p := range d.Percentiles {
		if p.Value != rank(p.P) {
			t.Errorf("%s: p%v = %v, want %v", what, p.P, p.Value, rank(p.P))
		}
	}
}

// rvExample is a hand-built Sterne–Cutler population (hours after rvT0):
//
//	A: reach@0, acquisition@2, conversion@5; AsOf 10
//	B: reach@0, conversion@4 (skips acquisition), acquisition@20 (lapse); AsOf 30
//	C: acquisition@1 (enters at acquisition); AsOf 1
//	D: reach@0, acquisition@1, conversion@2, retention@6, loyalty@10,
//	   acquisition@50 (lapse), conversion@60; AsOf 70
func rvExample() []*lifecycle.Customer {
	return []*lifecycle.Customer{
		rvCust("A", 10, model.Reach, 0, model.Acquisition, 2, model.Conversion, 5),
		rvCust("B", 30, model.Reach, 0, model.Conversion, 4, model.Acquisition, 20),
		rvCust("C", 1, model.Acquisition, 1),
		rvCust("D", 70, model.Reach, 0, model.Acquisition, 1, model.Conversion, 2, model.Retention, 6,
			model.Loyalty, 10, model.Acquisition, 50, model.Conversion, 60),
	}
}

// TestContractHandExample checks every number of StageStats on rvExample
// against the definitions of docs/analytics.md, computed by hand.
func TestContractHandExample(t *testing.T) {
	rep := rvAnalyze(t, rvSC(), rvExample())
	if rep.Customers != 4 {
		t.Fatalf("Customers = %d, want 4", rep.Customers)
	}
	if !rep.AsOf.IsZero() || rep.Cohorts != nil {
		t.Errorf("AsOf = %v, Cohorts = %v: want zero and nil without AsOf/CohortBy", rep.AsOf, rep.Cohorts)
	}
	ids := []stage.ID{model.Reach, model.Acquisition, model.Conversion, model.Retention, model.Loyalty}
	if len(rep.Stages) != 5 {
		t.Fatalf("len(Stages) = %d, want 5", len(rep.Stages))
	}
	for i, id := range ids {
		if rep.Stages[i].Stage != id {
			t.Errorf("Stages[%d] = %q, want %q (graph order)", i, rep.Stages[i].Stage, id)
		}
	}
	type row struct {
		current, entered, reached, stopped int
		conv, stop                         float64
	}
	want := map[stage.ID]row{
		model.Reach:       {0, 3, 4, 0, 1, 0},
		model.Acquisition: {2, 4, 4, 1, 0.75, 0.25},
		model.Conversion:  {2, 3, 3, 2, 1.0 / 3, 2.0 / 3},
		model.Retention:   {0, 1, 1, 0, 1, 0},
		model.Loyalty:     {0, 1, 1, 1, 0, 1},
	}
	sum := 0
	for _, id := range ids {
		s := rvStage(t, &rep.Funnel, id)
		w := want[id]
		sum += s.Current
		got := row{s.Current, s.Entered, s.Reached, s.Stopped, s.Conversion, s.StopRate}
		if got.current != w.current || got.entered != w.entered || got.reached != w.reached || got.stopped != w.stopped ||
			math.Abs(got.conv-w.conv) > 1e-12 || math.Abs(got.stop-w.stop) > 1e-12 {
			t.Errorf("%s: got %+v, want %+v", id, got, w)
		}
		if s.Kind != stage.Path {
			t.Errorf("%s: Kind = %v, want path", id, s.Kind)
		}
	}
	if sum != rep.Customers {
		t.Errorf("Σ Current = %d, want Customers = %d", sum, rep.Customers)
	}
	dists := map[string]struct {
		d    funnel.Dist
		want []time.Duration
	}{
		"reach.ToNext":          {rvStage(t, &rep.Funnel, model.Reach).ToNext, rvHours(2, 4, 1)},
		"acquisition.ToNext":    {rvStage(t, &rep.Funnel, model.Acquisition).ToNext, rvHours(3, 1)},
		"conversion.ToNext":     {rvStage(t, &rep.Funnel, model.Conversion).ToNext, rvHours(4)},
		"retention.ToNext":      {rvStage(t, &rep.Funnel, model.Retention).ToNext, rvHours(4)},
		"loyalty.ToNext":        {rvStage(t, &rep.Funnel, model.Loyalty).ToNext, nil},
		"reach.FromStart":       {rvStage(t, &rep.Funnel, model.Reach).FromStart, nil},
		"acquisition.FromStart": {rvStage(t, &rep.Funnel, model.Acquisition).FromStart, rvHours(2, 4, 0, 1)},
		"conversion.FromStart":  {rvStage(t, &rep.Funnel, model.Conversion).FromStart, rvHours(5, 4, 2)},
		"retention.FromStart":   {rvStage(t, &rep.Funnel, model.Retention).FromStart, rvHours(6)},
		"loyalty.FromStart":     {rvStage(t, &rep.Funnel, model.Loyalty).FromStart, rvHours(10)},
		"reach.Stay":            {rvStage(t, &rep.Funnel, model.Reach).Stay, rvHours(2, 4, 1)},
		"acquisition.Stay":      {rvStage(t, &rep.Funnel, model.Acquisition).Stay, rvHours(3, 1, 10)},
		"conversion.Stay":       {rvStage(t, &rep.Funnel, model.Conversion).Stay, rvHours(16, 4)},
		"retention.Stay":        {rvStage(t, &rep.Funnel, model.Retention).Stay, rvHours(4)},
		"loyalty.Stay":          {rvStage(t, &rep.Funnel, model.Loyalty).Stay, rvHours(40)},
		"reach.Open":            {rvStage(t, &rep.Funnel, model.Reach).Open, nil},
		"acquisition.Open":      {rvStage(t, &rep.Funnel, model.Acquisition).Open, rvHours(10, 0)},
		"conversion.Open":       {rvStage(t, &rep.Funnel, model.Conversion).Open, rvHours(5, 10)},
		"retention.Open":        {rvStage(t, &rep.Funnel, model.Retention).Open, nil},
	}
	for name, c := range dists {
		rvCheckDist(t, name, c.d, c.want)
	}
	// Spot-check the literal values too: reach.ToNext = {1,2,4}h.
	d := rvStage(t, &rep.Funnel, model.Reach).ToNext
	if d.Median != 2*time.Hour || d.Mean != 2*time.Hour+20*time.Minute {
		t.Errorf("reach.ToNext median/mean = %v/%v, want 2h/2h20m", d.Median, d.Mean)
	}
	if v, ok := d.Percentile(75); !ok || v != 4*time.Hour {
		t.Errorf("reach.ToNext p75 = %v,%v; want 4h (⌈0.75·3⌉ = 3rd)", v, ok)
	}
	if v, ok := d.Percentile(25); !ok || v != time.Hour {
		t.Errorf("reach.ToNext p25 = %v,%v; want 1h", v, ok)
	}
	if _, ok := d.Percentile(51); ok {
		t.Errorf("Percentile(51) ok although not requested")
	}
	if _, ok := rvStage(t, &rep.Funnel, model.Loyalty).ToNext.Percentile(50); ok {
		t.Errorf("Percentile on an empty Dist: ok = true")
	}
	// Default percentiles, in order.
	var ps []float64
	for _, p := range d.Percentiles {
		ps = append(ps, p.P)
	}
	if !reflect.DeepEqual(ps, []float64{25, 50, 75, 90}) {
		t.Errorf("default percentiles = %v, want [25 50 75 90]", ps)
	}
	if _, ok := rep.Stage("nope"); ok {
		t.Errorf("Stage(nope): ok = true")
	}
}

// TestContractAsOfHandExample: AsOf(t) rebuilds every customer from transitions
// with At ≤ t; Open is measured to t; stays ending after t are open.
//
// At t = 5h: A reach0 acq2 conv5 (equal counts) → conversion; B reach0 conv4
// → conversion; C acq1 → acquisition; D reach0 acq1 conv2 → conversion.
// Open(conversion) = {5−5, 5−4, 5−2} = {0,1,3}h; Open(acquisition) = {4}h.
// Stay(reach) = {2,4,1}; Stay(acquisition) = {3,1}; Stay(conversion) = {}.
func TestContractAsOfHandExample(t *testing.T) {
	at := rvH(5).In(time.FixedZone("odd", -7*3600-30*60))
	rep := rvAnalyze(t, rvSC(), rvExample(), funnel.AsOf(at))
	if !rep.AsOf.Equal(at) {
		t.Errorf("Report.AsOf = %v, want %v", rep.AsOf, at)
	}
	if rep.Customers != 4 {
		t.Fatalf("Customers = %d, want 4", rep.Customers)
	}
	cur := map[stage.ID]int{}
	for _, s := range rep.Stages {
		cur[s.Stage] = s.Current
	}
	if cur[model.Conversion] != 3 || cur[model.Acquisition] != 1 || cur[model.Retention] != 0 {
		t.Errorf("Current = %v, want conversion 3, acquisition 1", cur)
	}
	reached := []int{}
	for _, s := range rep.Stages {
		reached = append(reached, s.Reached)
	}
	if !reflect.DeepEqual(reached, []int{4, 4, 3, 0, 0}) {
		t.Errorf("Reached = %v, want [4 4 3 0 0]", reached)
	}
	rvCheckDist(t, "conversion.Open", rvStage(t, &rep.Funnel, model.Conversion).Open, rvHours(0, 1, 3))
	rvCheckDist(t, "acquisition.Open", rvStage(t, &rep.Funnel, model.Acquisition).Open, rvHours(4))
	rvCheckDist(t, "reach.Stay", rvStage(t, &rep.Funnel, model.Reach).Stay, rvHours(2, 4, 1))
	rvCheckDist(t, "acquisition.Stay", rvStage(t, &rep.Funnel, model.Acquisition).Stay, rvHours(3, 1))
	rvCheckDist(t, "conversion.Stay", rvStage(t, &rep.Funnel, model.Conversion).Stay, nil)
	rvCheckDist(t, "conversion.ToNext", rvStage(t, &rep.Funnel, model.Conversion).ToNext, nil)

	// Before anyone entered: nobody counted.
	rep = rvAnalyze(t, rvSC(), rvExample(), funnel.AsOf(rvH(-1)))
	if rep.Customers != 0 {
		t.Errorf("AsOf before every transition: Customers = %d, want 0", rep.Customers)
	}
	// 1ns before C's entry: C not yet entered, the others in reach.
	rep = rvAnalyze(t, rvSC(), rvExample(), funnel.AsOf(rvH(1).Add(-1)))
	if rep.Customers != 3 || rvStage(t, &rep.Funnel, model.Reach).Current != 3 {
		t.Errorf("AsOf 1h-1ns: Customers = %d, reach current = %d; want 3, 3", rep.Customers, rvStage(t, &rep.Funnel, model.Reach).Current)
	}
}

// TestContractEmptyInput: no customers gives a zero funnel with one entry per
// stage in graph order, empty Dists, and a TimeTable without percentile
// columns.
func TestContractEmptyInput(t *testing.T) {
	rep := rvAnalyze(t, rvSC(), nil)
	if rep.Customers != 0 || len(rep.Stages) != 5 {
		t.Fatalf("Customers = %d, len(Stages) = %d; want 0, 5", rep.Customers, len(rep.Stages))
	}
	for _, s := range rep.Stages {
		for name, d := range map[string]funnel.Dist{"ToNext": s.ToNext, "FromStart": s.FromStart, "Stay": s.Stay, "Open": s.Open} {
			rvCheckDist(t, string(s.Stage)+"."+name, d, nil)
		}
		if s.Conversion != 0 || s.StopRate != 0 || s.Reached != 0 {
			t.Errorf("%s: %+v, want zeros", s.Stage, s)
		}
	}
	tt := rep.TimeTable()
	for _, h := range tt.Header {
		if strings.HasPrefix(h, "p") && h != "p" {
			if _, err := fmt.Sscanf(h[1:], "%f", new(float64)); err == nil {
				t.Errorf("TimeTable header %v has a percentile column for an empty funnel", tt.Header)
			}
		}
	}
	wantHdr := []string{"stage", "measure", "n", "min", "median", "max", "mean"}
	if !reflect.DeepEqual(tt.Header, wantHdr) {
		t.Errorf("TimeTable header = %v, want %v", tt.Header, wantHdr)
	}
	if len(tt.Rows) != 20 {
		t.Errorf("TimeTable rows = %d, want 5 stages × 4 measures", len(tt.Rows))
	}
	tab := rep.Funnel.Table()
	wantF := []string{"stage", "current", "entered", "reached", "stopped", "conversion", "stop_rate", "to_next_median", "stay_median"}
	if !reflect.DeepEqual(tab.Header, wantF) {
		t.Errorf("Funnel.Table header = %v, want %v", tab.Header, wantF)
	}
	for _, r := range tab.Rows {
		if r[7] != "" || r[8] != "" || r[5] != "0.0000" {
			t.Errorf("empty funnel row %v: want conversion 0.0000 and empty medians", r)
		}
	}
	// With CohortBy over nothing, no cohort.
	rep = rvAnalyze(t, rvSC(), nil, funnel.CohortBy(func(*lifecycle.Customer) string { return "x" }))
	if len(rep.Cohorts) != 0 {
		t.Errorf("Cohorts = %v, want none", rep.Cohorts)
	}
}

// TestContractNotEnteredAndStageOnly: a record with neither History nor Stage
// has not entered the model; a record with a Stage but no History counts as
// one transition into Stage at Since.
func TestContractNotEnteredAndStageOnly(t *testing.T) {
	none := &lifecycle.Customer{ID: "none", AsOf: rvH(3)}
	none.Facts.First = rvH(0)
	only := &lifecycle.Customer{ID: "only", Stage: model.Acquisition, Since: rvH(5), AsOf: rvH(8)}
	only.Facts.First = rvH(5)
	rep := rvAnalyze(t, rvSC(), []*lifecycle.Customer{none, only})
	if rep.Customers != 1 {
		t.Fatalf("Customers = %d, want 1 (the record without history or stage has not entered)", rep.Customers)
	}
	r := rvStage(t, &rep.Funnel, model.Reach)
	a := rvStage(t, &rep.Funnel, model.Acquisition)
	if r.Reached != 1 || r.Entered != 0 || a.Entered != 1 || a.Current != 1 || a.Stopped != 1 {
		t.Errorf("reach %+v / acquisition %+v: want reach reached 1 entered 0, acquisition entered/current/stopped 1", r, a)
	}
	rvCheckDist(t, "reach.ToNext (skipper)", r.ToNext, nil)
	rvCheckDist(t, "acquisition.FromStart", a.FromStart, rvHours(0))
	rvCheckDist(t, "acquisition.Open", a.Open, rvHours(3))
	// With AsOf before Since: not entered yet.
	rep = rvAnalyze(t, rvSC(), []*lifecycle.Customer{only}, funnel.AsOf(rvH(4)))
	if rep.Customers != 0 {
		t.Errorf("AsOf before Since: Customers = %d, want 0", rep.Customers)
	}
	rep = rvAnalyze(t, rvSC(), []*lifecycle.Customer{only}, funnel.AsOf(rvH(6)))
	if rep.Customers != 1 {
		t.Errorf("AsOf after Since: Customers = %d, want 1", rep.Customers)
	}
	rvCheckDist(t, "acquisition.Open AsOf", rvStage(t, &rep.Funnel, model.Acquisition).Open, rvHours(1))
}

// TestContractOpenEntry: Open's entry is Since; without Since, the last
// transition if it led into the stage, else no age; a reference time before
// entry adds no age (Open.N < Current).
func TestContractOpenEntry(t *testing.T) {
	// Since zero, last transition into acquisition at 2h, AsOf 7h → 5h.
	a := rvCust("a", 7, model.Reach, 0, model.Acquisition, 2)
	a.Since = time.Time{}
	// Since zero, stored stage conversion, last transition led to
	// acquisition → no age.
	b := rvCust("b", 7, model.Reach, 0, model.Acquisition, 2)
	b.Stage, b.Since = model.Conversion, time.Time{}
	// AsOf before Since → no age.
	c := rvCust("c", 1, model.Reach, 0, model.Acquisition, 3)
	rep := rvAnalyze(t, rvSC(), []*lifecycle.Customer{a, b, c})
	acq := rvStage(t, &rep.Funnel, model.Acquisition)
	conv := rvStage(t, &rep.Funnel, model.Conversion)
	if acq.Current != 2 || conv.Current != 1 {
		t.Errorf("Current acquisition/conversion = %d/%d, want 2/1", acq.Current, conv.Current)
	}
	rvCheckDist(t, "acquisition.Open", acq.Open, rvHours(5))
	rvCheckDist(t, "conversion.Open", conv.Open, nil)
}

// TestContractRegressionAndLoop: re-entering a stage counts once in Entered,
// Reached keeps the first time, ToNext runs from the first reaching, and
// each completed stay is its own duration.
//
// reach@0 acquisition@1 reach@2 acquisition@5 conversion@9; AsOf 9.
// ToNext(reach) = 1, ToNext(acquisition) = 9−1 = 8, FromStart(conversion) = 9.
// Stay(reach) = {1, 3}; Stay(acquisition) = {1, 4}.
func TestContractRegressionAndLoop(t *testing.T) {
	c := rvCust("x", 9, model.Reach, 0, model.Acquisition, 1, model.Reach, 2, model.Acquisition, 5, model.Conversion, 9)
	rep := rvAnalyze(t, rvSC(), []*lifecycle.Customer{c})
	r := rvStage(t, &rep.Funnel, model.Reach)
	a := rvStage(t, &rep.Funnel, model.Acquisition)
	v := rvStage(t, &rep.Funnel, model.Conversion)
	if r.Entered != 1 || a.Entered != 1 || r.Reached != 1 || a.Reached != 1 || v.Reached != 1 {
		t.Errorf("Entered/Reached not counted once per customer: reach %d/%d acquisition %d/%d", r.Entered, r.Reached, a.Entered, a.Reached)
	}
	rvCheckDist(t, "reach.ToNext", r.ToNext, rvHours(1))
	rvCheckDist(t, "acquisition.ToNext", a.ToNext, rvHours(8))
	rvCheckDist(t, "conversion.FromStart", v.FromStart, rvHours(9))
	rvCheckDist(t, "reach.Stay", r.Stay, rvHours(1, 3))
	rvCheckDist(t, "acquisition.Stay", a.Stay, rvHours(1, 4))
}

// TestContractSkipperFallsBack: a customer who skipped a stage and later falls
// back into it is left out of its ToNext, but its stays count.
//
// reach@0 conversion@3 acquisition@10 conversion@12 retention@20.
func TestContractSkipperFallsBack(t *testing.T) {
	c := rvCust("s", 20, model.Reach, 0, model.Conversion, 3, model.Acquisition, 10, model.Conversion, 12, model.Retention, 20)
	rep := rvAnalyze(t, rvSC(), []*lifecycle.Customer{c})
	a := rvStage(t, &rep.Funnel, model.Acquisition)
	rvCheckDist(t, "acquisition.ToNext", a.ToNext, nil)
	rvCheckDist(t, "acquisition.Stay", a.Stay, rvHours(2))
	rvCheckDist(t, "acquisition.FromStart", a.FromStart, rvHours(3))
	rvCheckDist(t, "reach.ToNext", rvStage(t, &rep.Funnel, model.Reach).ToNext, rvHours(3))
	rvCheckDist(t, "conversion.ToNext", rvStage(t, &rep.Funnel, model.Conversion).ToNext, rvHours(17))
	rvCheckDist(t, "conversion.Stay", rvStage(t, &rep.Funnel, model.Conversion).Stay, rvHours(7, 8))
}

// TestContractRepeatedSameStage: a transition from a stage into itself (a
// record written by hand) must not double count time: the stays of
// acquisition add up to the 9h the customer spent there.
//
// reach@0 acquisition@1 acquisition@5 conversion@10.
func TestContractRepeatedSameStage(t *testing.T) {
	c := rvCust("r", 10, model.Reach, 0, model.Acquisition, 1, model.Acquisition, 5, model.Conversion, 10)
	rep := rvAnalyze(t, rvSC(), []*lifecycle.Customer{c})
	a := rvStage(t, &rep.Funnel, model.Acquisition)
	if a.Entered != 1 || a.Reached != 1 {
		t.Errorf("acquisition Entered/Reached = %d/%d, want 1/1", a.Entered, a.Reached)
	}
	total := time.Duration(a.Stay.N) * a.Stay.Mean
	if total != 9*time.Hour {
		t.Errorf("acquisition stays: N=%d mean=%v, total %v; want the 9h spent there (no double counting)", a.Stay.N, a.Stay.Mean, total)
	}
	rvCheckDist(t, "acquisition.ToNext", a.ToNext, rvHours(9))
}

// TestContractBigDurations: means of durations whose sum overflows int64 are
// still the arithmetic mean (two 200-year waits: mean 200 years).
func TestContractBigDurations(t *testing.T) {
	start := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	d := end.Sub(start)
	mk := func(id string) *lifecycle.Customer {
		return &lifecycle.Customer{ID: id, Stage: model.Acquisition, Since: end, AsOf: end,
			Facts:   lifecycle.Facts{First: start, Last: end},
			History: []lifecycle.Transition{{To: model.Reach, At: start}, {From: model.Reach, To: model.Acquisition, At: end}}}
	}
	rep := rvAnalyze(t, rvSC(), []*lifecycle.Customer{mk("a"), mk("b"), mk("c")})
	for name, dist := range map[string]funnel.Dist{
		"reach.ToNext":          rvStage(t, &rep.Funnel, model.Reach).ToNext,
		"reach.Stay":            rvStage(t, &rep.Funnel, model.Reach).Stay,
		"acquisition.FromStart": rvStage(t, &rep.Funnel, model.Acquisition).FromStart,
	} {
		if dist.N != 3 || dist.Min != d || dist.Max != d || dist.Median != d || dist.Mean != d {
			t.Errorf("%s = %+v; want N 3 and every figure %v (the mean of equal values)", name, dist, d)
		}
	}
	// The table renders it and ParseDuration reads it back.
	for _, r := range rep.Funnel.Table().Rows {
		if r[0] == string(model.Reach) {
			if got, err := time.ParseDuration(r[len(r)-2]); err != nil || got != d.Round(time.Second) {
				t.Errorf("to_next_median cell %q: %v, %v", r[len(r)-2], got, err)
			}
		}
	}
}

// TestContractFarYearsNoPanic: transitions in year 1 and year 9999, and zero
// times, must not panic; every reported duration is non-negative.
func TestContractFarYearsNoPanic(t *testing.T) {
	y1 := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	y9999 := time.Date(9999, 12, 31, 23, 59, 59, 0, time.FixedZone("x", 14*3600))
	cs := []*lifecycle.Customer{
		{ID: "a", Stage: model.Loyalty, Since: y9999, AsOf: y9999, Facts: lifecycle.Facts{First: y1, Last: y9999},
			History: []lifecycle.Transition{{To: model.Reach, At: y1}, {From: model.Reach, To: model.Conversion, At: time.Time{}}, {From: model.Conversion, To: model.Loyalty, At: y9999}}},
		{ID: "b", Stage: model.Reach, History: []lifecycle.Transition{{To: model.Reach}}},
	}
	for _, opts := range [][]funnel.Option{nil, {funnel.AsOf(y9999)}, {funnel.AsOf(y1.Add(time.Second))}, {funnel.CohortBy(funnel.FirstSeen(funnel.Week))}, {funnel.CohortBy(funnel.FirstOrder(funnel.Month))}} {
		rep := rvAnalyze(t, rvSC(), cs, opts...)
		for _, s := range rep.Stages {
			for n, d := range map[string]funnel.Dist{"ToNext": s.ToNext, "FromStart": s.FromStart, "Stay": s.Stay, "Open": s.Open} {
				if d.Min < 0 || d.Mean < 0 {
					t.Errorf("%s.%s has a negative duration: %+v", s.Stage, n, d)
				}
			}
		}
		_ = rep.Table().String()
		_ = rep.TimeTable().String()
	}
}

// TestContractOutOfOrderHistoryNoPanic: histories are oldest first; one
// that is not (built by hand) is refused with ErrInvalidInput naming the
// customer, with or without AsOf, without a panic or a change to it.
func TestContractOutOfOrderHistoryNoPanic(t *testing.T) {
	c := rvCust("o", 10, model.Reach, 9, model.Acquisition, 1, model.Conversion, 5, model.Acquisition, 2)
	orig := c.Clone()
	for _, opts := range [][]funnel.Option{nil, {funnel.AsOf(rvH(3))}} {
		_, err := funnel.Analyze(context.Background(), rvSC(), funnel.Customers([]*lifecycle.Customer{c}), opts...)
		if !errors.Is(err, funnel.ErrInvalidInput) || !strings.Contains(err.Error(), `customer "o"`) {
			t.Errorf("Analyze of a history out of order = %v; want ErrInvalidInput naming the customer", err)
		}
	}
	if !reflect.DeepEqual(c, orig) {
		t.Errorf("Add modified the customer:\n got %+v\nwant %+v", c, orig)
	}
}

// TestContractNearestRankExhaustive checks the documented nearest-rank rule
// d[⌈p/100·N⌉] for N = 1..100 and many p, with durations 1h..Nh so that the
// k-th smallest is k hours.
func TestContractNearestRankExhaustive(t *testing.T) {
	ps := []float64{}
	for p := 1; p <= 100; p++ {
		ps = append(ps, float64(p))
	}
	ps = append(ps, 0.1, 12.5, 33.3, 99.9, 66.66666666666667, 0.000001)
	var bad []string
	for n := 1; n <= 100; n++ {
		cs := make([]*lifecycle.Customer, n)
		for i := range cs {
			cs[i] = rvCust(fmt.Sprint(i), float64(i+1), model.Reach, 0, model.Acquisition, i+1)
		}
		rep := rvAnalyze(t, rvSC(), cs, funnel.Percentiles(ps...))
		d := rvStage(t, &rep.Funnel, model.Reach).ToNext
		if len(d.Percentiles) != len(ps) {
			t.Fatalf("N=%d: %d percentiles, want %d", n, len(d.Percentiles), len(ps))
		}
		for i, p := range d.Percentiles {
			if p.P != ps[i] {
				t.Fatalf("percentile %d: P = %v, want %v (order as requested)", i, p.P, ps[i])
			}
			// exact rational ⌈p·N/100⌉ for integer p; float for others
			var k int64
			if ps[i] == math.Trunc(ps[i]) {
				pn := int64(ps[i]) * int64(n)
				k = (pn + 99) / 100
			} else {
				k = int64(math.Ceil(ps[i] * float64(n) / 100))
			}
			if k < 1 {
				k = 1
			}
			if p.Value != time.Duration(k)*time.Hour {
				bad = append(bad, fmt.Sprintf("N=%d p%v: %v, want %dh", n, ps[i], p.Value, k))
			}
		}
		if want := time.Duration((n+1)/2) * time.Hour; d.Median != want {
			bad = append(bad, fmt.Sprintf("N=%d median %v want %v", n, d.Median, want))
		}
	}
	if len(bad) > 0 {
		t.Errorf("%d nearest-rank mismatches, first: %v", len(bad), bad[:min(len(bad), 10)])
	}
}

// TestContractPercentileOptions: percentiles outside (0, 100] (and NaN, ±Inf)
// are ErrInvalidInput; duplicates and order are kept as given; none reports
// none.
func TestContractPercentileOptions(t *testing.T) {
	g := rvSC()
	for _, p := range []float64{0, -1, 100.0000001, math.NaN(), math.Inf(1), math.Inf(-1), -0.0} {
		_, err := funnel.New(g, funnel.Percentiles(50, p))
		if !errors.Is(err, funnel.ErrInvalidInput) {
			t.Errorf("Percentiles(50, %v): err = %v, want ErrInvalidInput", p, err)
		} else if !strings.Contains(err.Error(), fmt.Sprint(p)) && !math.IsNaN(p) {
			t.Errorf("Percentiles(%v): error %q does not name the value", p, err)
		}
	}
	rep := rvAnalyze(t, g, rvExample(), funnel.Percentiles(100, 90, 10, 90))
	d := rvStage(t, &rep.Funnel, model.Reach).ToNext // {1,2,4}h
	want := []funnel.Percentile{{100, 4 * time.Hour}, {90, 4 * time.Hour}, {10, time.Hour}, {90, 4 * time.Hour}}
	if !reflect.DeepEqual(d.Percentiles, want) {
		t.Errorf("Percentiles = %v, want %v", d.Percentiles, want)
	}
	hdr := rep.TimeTable().Header
	wantHdr := []string{"stage", "measure", "n", "min", "p100", "p90", "p10", "p90", "median", "max", "mean"}
	if !reflect.DeepEqual(hdr, wantHdr) {
		t.Logf("TimeTable header with duplicate percentiles = %v (want %v?)", hdr, wantHdr)
	}
	rep = rvAnalyze(t, g, rvExample(), funnel.Percentiles())
	d = rvStage(t, &rep.Funnel, model.Reach).ToNext
	if len(d.Percentiles) != 0 || d.Median != 2*time.Hour || d.N != 3 {
		t.Errorf("Percentiles(): %+v, want no percentiles but median 2h", d)
	}
	// Fractional percentile header: named like "p50"; p99.9 → "p99.9".
	rep = rvAnalyze(t, g, rvExample(), funnel.Percentiles(99.9, 12.5))
	hdr = rep.TimeTable().Header
	if !reflect.DeepEqual(hdr[4:6], []string{"p99.9", "p12.5"}) {
		t.Errorf("TimeTable header = %v, want p99.9, p12.5 after min", hdr)
	}
}

// TestContractMeanRounding: Mean is the arithmetic mean rounded to the
// nanosecond. 1ns,1ns,2ns → 4/3 → 1ns; 1ns,2ns,2ns → 5/3 → 2ns.
func TestContractMeanRounding(t *testing.T) {
	mk := func(id string, d time.Duration) *lifecycle.Customer {
		return &lifecycle.Customer{ID: id, Stage: model.Acquisition, Since: rvT0.Add(d), AsOf: rvT0.Add(d),
			Facts:   lifecycle.Facts{First: rvT0, Last: rvT0.Add(d)},
			History: []lifecycle.Transition{{To: model.Reach, At: rvT0}, {From: model.Reach, To: model.Acquisition, At: rvT0.Add(d)}}}
	}
	for _, c := range []struct {
		ds   []time.Duration
		mean time.Duration
	}{{[]time.Duration{1, 1, 2}, 1}, {[]time.Duration{1, 2, 2}, 2}, {[]time.Duration{0, 0, 0, 0}, 0}} {
		var cs []*lifecycle.Customer
		for i, d := range c.ds {
			cs = append(cs, mk(fmt.Sprint(i), d))
		}
		rep := rvAnalyze(t, rvSC(), cs)
		if got := rvStage(t, &rep.Funnel, model.Reach).ToNext.Mean; got != c.mean {
			t.Errorf("mean of %v = %v, want %v", c.ds, got, c.mean)
		}
	}
}

// TestContractAddErrors: nil customer, unknown stage (stored or in the
// history, even after the AsOf time); the customer is then not counted;
// the error names customer and stage.
func TestContractAddErrors(t *testing.T) {
	g := rvSC()
	if _, err := funnel.New(nil); !errors.Is(err, funnel.ErrInvalidInput) {
		t.Errorf("New(nil) = %v, want ErrInvalidInput", err)
	}
	if _, err := funnel.New(&stage.Graph{}); !errors.Is(err, funnel.ErrInvalidInput) {
		t.Errorf("New(empty graph) = %v, want ErrInvalidInput", err)
	}
	for _, opts := range [][]funnel.Option{nil, {funnel.AsOf(rvH(3))}} {
		a, err := funnel.New(g, opts...)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Add(nil); !errors.Is(err, funnel.ErrInvalidInput) {
			t.Errorf("Add(nil) = %v, want ErrInvalidInput", err)
		}
		if err := a.Add(rvCust("ok", 3, model.Reach, 0)); err != nil {
			t.Fatal(err)
		}
		bad1 := rvCust("cust-stored", 3, model.Reach, 0)
		bad1.Stage = "ghost-stored"
		bad2 := rvCust("cust-late", 3, model.Reach, 0, stage.ID("ghost-late"), 10)
		bad2.Stage = model.Reach
		bad3 := &lifecycle.Customer{ID: "cust-nohist", Stage: "ghost-nohist", Since: rvH(1), AsOf: rvH(2)}
		for _, c := range []*lifecycle.Customer{bad1, bad2, bad3} {
			err := a.Add(c)
			if !errors.Is(err, funnel.ErrUnknownStage) {
				t.Errorf("Add(%s) = %v, want ErrUnknownStage", c.ID, err)
				continue
			}
			ghost := strings.TrimPrefix(c.ID, "cust-")
			if !strings.Contains(err.Error(), c.ID) || !strings.Contains(err.Error(), "ghost-"+ghost) {
				t.Errorf("Add(%s): error %q does not name customer and stage", c.ID, err)
			}
		}
		rep := a.Report()
		if rep.Customers != 1 || rvStage(t, &rep.Funnel, model.Reach).Reached != 1 || rvStage(t, &rep.Funnel, model.Reach).Entered != 1 {
			t.Errorf("after refused customers: Customers = %d, reach %+v; want only the good one counted", rep.Customers, rvStage(t, &rep.Funnel, model.Reach))
		}
	}
}

// TestContractEmptyStageWithHistory: a stored record with a History but an
// empty Stage either is refused or keeps Customers = Σ Current.
func TestContractEmptyStageWithHistory(t *testing.T) {
	c := rvCust("e", 3, model.Reach, 0, model.Acquisition, 1)
	c.Stage = ""
	a, _ := funnel.New(rvSC())
	err := a.Add(c)
	rep := a.Report()
	sum := 0
	for _, s := range rep.Stages {
		sum += s.Current
	}
	if err == nil && sum != rep.Customers {
		t.Errorf("empty Stage accepted: Customers = %d but Σ Current = %d", rep.Customers, sum)
	}
	if err != nil && !errors.Is(err, funnel.ErrUnknownStage) && !errors.Is(err, funnel.ErrInvalidInput) {
		t.Errorf("err = %v wraps no sentinel", err)
	}
}

// TestContractPendingReferrer: not counted anywhere, whatever stage stored.
func TestContractPendingReferrer(t *testing.T) {
	p := &lifecycle.Customer{ID: "p", Stage: model.Acquisition, Since: rvH(1), AsOf: rvH(1),
		History: []lifecycle.Transition{{To: model.Acquisition, At: rvH(1)}},
		Facts:   lifecycle.Facts{Referrals: []lifecycle.Referral{{Customer: "q", At: rvH(1)}}}}
	if !p.PendingReferrer() {
		t.Fatal("fixture is not a pending referrer")
	}
	keys := 0
	rep := rvAnalyze(t, rvSC(), []*lifecycle.Customer{p, rvCust("x", 1, model.Reach, 0)},
		funnel.CohortBy(func(*lifecycle.Customer) string { keys++; return "k" }))
	if rep.Customers != 1 || rvStage(t, &rep.Funnel, model.Acquisition).Entered != 0 || len(rep.Cohorts) != 1 || rep.Cohorts[0].Customers != 1 {
		t.Errorf("pending referrer counted: %+v", rep)
	}
	for _, err := range funnel.InStage(model.Acquisition).Filter(funnel.Customers([]*lifecycle.Customer{p})) {
		t.Errorf("Filter yielded for a pending referrer (err %v)", err)
	}
}

// TestContractAnalyzerReportTwice: a report is not changed by later Adds, and
// a later report equals one over every customer added.
func TestContractAnalyzerReportTwice(t *testing.T) {
	cs := rvExample()
	a, _ := funnel.New(rvSC(), funnel.CohortBy(func(c *lifecycle.Customer) string { return c.ID[:1] }))
	_ = a.Add(cs[0])
	_ = a.Add(cs[1])
	r1 := a.Report()
	j1, _ := json.Marshal(r1)
	_ = a.Add(cs[2])
	_ = a.Add(cs[3])
	r2 := a.Report()
	j1b, _ := json.Marshal(r1)
	if !bytes.Equal(j1, j1b) {
		t.Errorf("first report changed after later Adds")
	}
	full := rvAnalyze(t, rvSC(), cs, funnel.CohortBy(func(c *lifecycle.Customer) string { return c.ID[:1] }))
	j2, _ := json.Marshal(r2)
	jf, _ := json.Marshal(full)
	if !bytes.Equal(j2, jf) {
		t.Errorf("second report differs from a fresh analysis of all:\n%s\n%s", j2, jf)
	}
	// Add does not keep c: mutating it afterwards changes nothing.
	a2, _ := funnel.New(rvSC())
	c := rvCust("m", 10, model.Reach, 0, model.Acquisition, 2)
	_ = a2.Add(c)
	c.History[1].At = rvH(1000)
	c.History[0].To = model.Loyalty
	c.Stage = model.Loyalty
	r := a2.Report()
	if rvStage(t, &r.Funnel, model.Acquisition).Current != 1 || rvStage(t, &r.Funnel, model.Reach).ToNext.Max != 2*time.Hour {
		t.Errorf("Add kept the customer: %+v", r.Stages[:2])
	}
}

// TestContractContextAndSourceErrors: Analyze passes on the sequence's error
// and ctx errors; a nil customer in the sequence is ErrInvalidInput.
func TestContractContextAndSourceErrors(t *testing.T) {
	boom := errors.New("boom")
	seq := func(yield func(*lifecycle.Customer, error) bool) {
		if !yield(rvCust("a", 1, model.Reach, 0), nil) {
			return
		}
		yield(nil, boom)
	}
	if _, err := funnel.Analyze(context.Background(), rvSC(), seq); !errors.Is(err, boom) {
		t.Errorf("err = %v, want boom", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := funnel.Analyze(ctx, rvSC(), funnel.Customers(rvExample())); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: err = %v, want context.Canceled", err)
	}
	nilSeq := func(yield func(*lifecycle.Customer, error) bool) { yield(nil, nil) }
	if _, err := funnel.Analyze(context.Background(), rvSC(), nilSeq); !errors.Is(err, funnel.ErrInvalidInput) {
		t.Errorf("nil customer in sequence: err = %v, want ErrInvalidInput", err)
	}
	if _, err := funnel.Analyze(context.Background(), nil, funnel.Customers(nil)); !errors.Is(err, funnel.ErrInvalidInput) {
		t.Errorf("nil graph: err = %v", err)
	}
}

// rvSubscription: path prospect → subscriber → advocate with a decline, an
// exit and a win-back placed between subscriber and advocate.
func rvSubscription(t *testing.T) *stage.Graph {
	t.Helper()
	g, err := stage.New([]stage.Stage{
		{ID: "prospect"}, {ID: "subscriber"},
		{ID: "at-risk", Kind: stage.Decline}, {ID: "churned", Kind: stage.Exit}, {ID: "win-back", Kind: stage.WinBack},
		{ID: "advocate"},
	}, []stage.Edge{
		{From: "prospect", To: "subscriber", Kind: stage.Advance},
		{From: "subscriber", To: "at-risk", Kind: stage.Fall},
		{From: "subscriber", To: "advocate", Kind: stage.Advance},
		{From: "at-risk", To: "subscriber", Kind: stage.Recover},
		{From: "at-risk", To: "churned", Kind: stage.Fall},
		{From: "churned", To: "win-back", Kind: stage.Recover},
		{From: "win-back", To: "subscriber", Kind: stage.Recover},
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestContractOffPath computes an off-path funnel by hand:
//
//	F: subscriber@0 at-risk@3 churned@6 win-back@9 subscriber@11
//	G: prospect@0 subscriber@1 at-risk@2
//	H: prospect@0 subscriber@1 at-risk@2 subscriber@4 at-risk@8
//	I: prospect@0 subscriber@1 advocate@5
//	J: at-risk@0 (enters off the path)
func TestContractOffPath(t *testing.T) {
	g := rvSubscription(t)
	P, S, R, C, W, A := stage.ID("prospect"), stage.ID("subscriber"), stage.ID("at-risk"), stage.ID("churned"), stage.ID("win-back"), stage.ID("advocate")
	cs := []*lifecycle.Customer{
		rvCust("F", 20, S, 0, R, 3, C, 6, W, 9, S, 11),
		rvCust("G", 20, P, 0, S, 1, R, 2),
		rvCust("H", 20, P, 0, S, 1, R, 2, S, 4, R, 8),
		rvCust("I", 20, P, 0, S, 1, A, 5),
		rvCust("J", 20, R, 0),
	}
	rep := rvAnalyze(t, g, cs)
	type row struct{ cur, ent, rea, stop int }
	want := map[stage.ID]row{
		P: {0, 3, 4, 0},
		S: {1, 4, 4, 3},
		R: {3, 4, 4, 3}, // F, G, H, J ever in it; G, H, J did not come back
		C: {0, 1, 1, 0},
		W: {0, 1, 1, 0},
		A: {1, 1, 1, 1},
	}
	kinds := map[stage.ID]stage.Kind{P: stage.Path, S: stage.Path, R: stage.Decline, C: stage.Exit, W: stage.WinBack, A: stage.Path}
	pathStopped := 0
	for _, s := range rep.Stages {
		w := want[s.Stage]
		if got := (row{s.Current, s.Entered, s.Reached, s.Stopped}); got != w {
			t.Errorf("%s: got %+v, want %+v", s.Stage, got, w)
		}
		if s.Kind != kinds[s.Stage] {
			t.Errorf("%s: Kind %v, want %v", s.Stage, s.Kind, kinds[s.Stage])
		}
		if !s.Kind.OffPath() {
			pathStopped += s.Stopped
		}
	}
	if rep.Customers != 5 || pathStopped != 4 {
		t.Errorf("Customers = %d, Σ path Stopped = %d; want 5 and 4 (J never on the path)", rep.Customers, pathStopped)
	}
	r := rvStage(t, &rep.Funnel, R)
	if math.Abs(r.Conversion-0.25) > 1e-12 || math.Abs(r.StopRate-0.75) > 1e-12 {
		t.Errorf("at-risk conversion/stop = %v/%v, want 0.25/0.75", r.Conversion, r.StopRate)
	}
	if s := rvStage(t, &rep.Funnel, S); math.Abs(s.Conversion-0.25) > 1e-12 || math.Abs(s.StopRate-0.75) > 1e-12 {
		t.Errorf("subscriber conversion/stop = %v/%v, want 0.25/0.75", s.Conversion, s.StopRate)
	}
	rvCheckDist(t, "at-risk.ToNext", r.ToNext, nil)
	rvCheckDist(t, "at-risk.FromStart", r.FromStart, rvHours(3, 2, 2, 0))
	rvCheckDist(t, "at-risk.Stay", r.Stay, rvHours(3, 2))
	rvCheckDist(t, "at-risk.Open", r.Open, rvHours(18, 12, 20))
	rvCheckDist(t, "prospect.ToNext", rvStage(t, &rep.Funnel, P).ToNext, rvHours(1, 1, 1))
	rvCheckDist(t, "subscriber.ToNext", rvStage(t, &rep.Funnel, S).ToNext, rvHours(4))
	rvCheckDist(t, "advocate.FromStart", rvStage(t, &rep.Funnel, A).FromStart, rvHours(5))
	rvCheckDist(t, "subscriber.Stay", rvStage(t, &rep.Funnel, S).Stay, rvHours(3, 1, 1, 4, 4))

	tab := rep.Funnel.Table()
	if len(tab.Header) < 2 || tab.Header[1] != "kind" {
		t.Fatalf("Table header %v: want kind after stage", tab.Header)
	}
	gotKinds := []string{}
	for _, row := range tab.Rows {
		gotKinds = append(gotKinds, row[1])
	}
	if !reflect.DeepEqual(gotKinds, []string{"path", "path", "decline", "exit", "win-back", "path"}) {
		t.Errorf("kind column = %v", gotKinds)
	}
	js, _ := json.Marshal(rep)
	var back struct {
		Stages []map[string]any `json:"stages"`
	}
	_ = json.Unmarshal(js, &back)
	if _, ok := back.Stages[0]["kind"]; ok {
		t.Errorf("JSON has kind for a path stage: %v", back.Stages[0])
	}
	if k, ok := back.Stages[2]["kind"]; !ok || k != "decline" {
		t.Errorf("JSON kind of at-risk = %v", k)
	}
	if strings.Contains(string(js), "as_of") {
		t.Errorf("JSON has as_of without AsOf: %s", js[:80])
	}
}

// TestContractCohortsPartition: cohorts are sorted by key, partition the total,
// and Report.Table labels them ("(all)" first, "(none)", quoted keys).
func TestContractCohortsPartition(t *testing.T) {
	cs := rvExample()
	key := map[string]string{"A": "b", "B": "(all)", "C": "", "D": "b"}
	rep := rvAnalyze(t, rvSC(), cs, funnel.CohortBy(func(c *lifecycle.Customer) string { return key[c.ID] }))
	var keys []string
	for _, c := range rep.Cohorts {
		keys = append(keys, c.Key)
	}
	if !reflect.DeepEqual(keys, []string{"", "(all)", "b"}) {
		t.Fatalf("cohort keys = %q, want sorted [\"\" (all) b]", keys)
	}
	for i, s := range rep.Stages {
		var cur, ent, rea, stop, n1, n2, n3, n4 int
		for _, c := range rep.Cohorts {
			cs := c.Stages[i]
			cur += cs.Current
			ent += cs.Entered
			rea += cs.Reached
			stop += cs.Stopped
			n1 += cs.ToNext.N
			n2 += cs.FromStart.N
			n3 += cs.Stay.N
			n4 += cs.Open.N
		}
		if cur != s.Current || ent != s.Entered || rea != s.Reached || stop != s.Stopped ||
			n1 != s.ToNext.N || n2 != s.FromStart.N || n3 != s.Stay.N || n4 != s.Open.N {
			t.Errorf("%s: cohorts do not partition the total", s.Stage)
		}
	}
	tab := rep.Table()
	if tab.Header[0] != "cohort" || tab.Header[1] != "stage" {
		t.Errorf("Report.Table header = %v", tab.Header)
	}
	var labels []string
	for _, r := range tab.Rows {
		if len(labels) == 0 || labels[len(labels)-1] != r[0] {
			labels = append(labels, r[0])
		}
	}
	if !reflect.DeepEqual(labels, []string{"(all)", "(none)", `"(all)"`, "b"}) {
		t.Errorf("cohort labels = %q", labels)
	}
	if len(tab.Rows) != 4*5 {
		t.Errorf("rows = %d, want 20", len(tab.Rows))
	}
	// Expected row for (all) acquisition: 2 4 4 1 0.7500 0.2500 1h0m0s 3h0m0s
	want := []string{"(all)", "acquisition", "2", "4", "4", "1", "0.7500", "0.2500", "1h0m0s", "3h0m0s"}
	if !reflect.DeepEqual(tab.Rows[1], want) {
		t.Errorf("row = %q, want %q", tab.Rows[1], want)
	}
	// CSV round-trips awkward keys.
	rep = rvAnalyze(t, rvSC(), cs, funnel.CohortBy(func(c *lifecycle.Customer) string { return "a,\"b\"\n" + c.ID }))
	var buf bytes.Buffer
	if err := rep.Table().WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse: %v", err)
	}
	all := append([][]string{rep.Table().Header}, rep.Table().Rows...)
	if !reflect.DeepEqual(recs, all) {
		t.Errorf("CSV round trip differs")
	}
}

// TestContractFirstSeenFirstOrder: cohort keys from periods in UTC.
func TestContractFirstSeenFirstOrder(t *testing.T) {
	plus2 := time.FixedZone("+02", 2*3600)
	// First event 2026-03-01 00:30 +02:00 = 2026-02-28 22:30 UTC.
	p := rvCust("p", 100, model.Reach, 0)
	p.Facts.First = time.Date(2026, 3, 1, 0, 30, 0, 0, plus2)
	// No facts time: first transition (rvT0 = 2026-03-02).
	q := rvCust("q", 100, model.Reach, 0)
	q.Facts = lifecycle.Facts{}
	if got := funnel.FirstSeen(funnel.Month)(p); got != "2026-02" {
		t.Errorf("FirstSeen(Month)(p) = %q, want 2026-02 (UTC)", got)
	}
	if got := funnel.FirstSeen(funnel.Day)(q); got != "2026-03-02" {
		t.Errorf("FirstSeen(Day)(q) = %q, want 2026-03-02 (first transition)", got)
	}
	if got := funnel.FirstSeen(funnel.Week)(&lifecycle.Customer{ID: "z"}); got != "" {
		t.Errorf("FirstSeen of nothing = %q, want \"\"", got)
	}
	// First completed order.
	o := rvCust("o", 100, model.Conversion, 0)
	o.Facts = lifecycle.Facts{}
	for _, at := range []time.Time{time.Date(2026, 4, 1, 1, 0, 0, 0, plus2), time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)} {
		o.Facts.Add(&lifecycle.Event{ID: at.String(), CustomerID: "o", Type: lifecycle.OrderCompleted, Time: at, Amount: 100, Currency: "EUR"})
	}
	if got := funnel.FirstOrder(funnel.Month)(o); got != "2026-03" {
		t.Errorf("FirstOrder(Month) = %q, want 2026-03 (2026-03-31 23:00 UTC)", got)
	}
	if got := funnel.FirstOrder(funnel.Month)(p); got != "" {
		t.Errorf("FirstOrder of a never-ordered customer = %q, want \"\"", got)
	}
}

// TestContractPeriods checks every documented key format and index rule.
func TestContractPeriods(t *testing.T) {
	minus5 := time.FixedZone("-05", -5*3600)
	cases := []struct {
		p    funnel.Period
		t    time.Time
		want string
	}{
		{funnel.Day, time.Date(2026, 3, 1, 23, 30, 0, 0, minus5), "2026-03-02"},
		{funnel.Period{}, time.Date(2026, 3, 1, 23, 30, 0, 0, minus5), "2026-03-02"},
		{funnel.Month, time.Date(2026, 3, 31, 20, 0, 0, 0, minus5), "2026-04"},
		{funnel.Week, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), "2026-W09"},
		{funnel.Week, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), "2026-W10"},
		{funnel.Week, time.Date(2021, 1, 3, 0, 0, 0, 0, time.UTC), "2020-W53"},
		{funnel.Week, time.Date(2024, 12, 30, 0, 0, 0, 0, time.UTC), "2025-W01"},
		{funnel.Week, time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), "2026-W53"},
		{funnel.Week, time.Date(2027, 1, 3, 23, 59, 59, 0, time.UTC), "2026-W53"},
		{funnel.Week, time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC), "2027-W01"},
	}
	for _, c := range cases {
		if got := c.p.Key(c.t); got != c.want {
			t.Errorf("%v.Key(%v) = %q, want %q", c.p, c.t, got, c.want)
		}
	}
	var zero funnel.Period
	if zero.String() != "day" || funnel.Week.String() != "week" || funnel.Month.String() != "month" {
		t.Errorf("String: %q %q %q", zero.String(), funnel.Week.String(), funnel.Month.String())
	}
	// Index differences are whole periods; Start is UTC and brackets t.
	if d := funnel.Month.Index(time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)) - funnel.Month.Index(time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)); d != 3 {
		t.Errorf("Month index diff = %d, want 3", d)
	}
	if d := funnel.Week.Index(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)) - funnel.Week.Index(time.Date(2026, 3, 1, 23, 59, 59, 0, time.UTC)); d != 1 {
		t.Errorf("Week index diff Sun→Mon = %d, want 1", d)
	}
	for _, p := range []funnel.Period{funnel.Day, funnel.Week, funnel.Month} {
		for _, tt := range []time.Time{
			time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC),
			time.Date(2026, 2, 28, 22, 0, 0, 0, minus5), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
			time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		} {
			i := p.Index(tt)
			s, e := p.Start(i), p.Start(i+1)
			if s.Location() != time.UTC || s.After(tt) || !e.After(tt) {
				t.Errorf("%v: Start(%d) = %v, Start(%d) = %v do not bracket %v", p, i, s, i+1, e, tt)
			}
			if p.Key(s) != p.Key(tt) {
				t.Errorf("%v: Key(Start(Index(t))) = %q, Key(t) = %q", p, p.Key(s), p.Key(tt))
			}
		}
	}
	// Keys sort in time order, years 1000–9999 (week keys across year ends).
	for _, p := range []funnel.Period{funnel.Day, funnel.Week, funnel.Month} {
		prev := ""
		for tt := time.Date(999, 12, 20, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 14); tt.Year() < 10000; tt = tt.AddDate(0, 0, 97) {
			k := p.Key(tt)
			if k < prev {
				t.Errorf("%v: key %q at %v sorts before %q", p, k, tt, prev)
				break
			}
			prev = k
		}
	}
}

// TestContractEvery: fixed-length periods.
func TestContractEvery(t *testing.T) {
	origin := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, d := range []time.Duration{0, -time.Second, math.MinInt64} {
		if _, err := funnel.Every(d, origin); !errors.Is(err, funnel.ErrInvalidInput) {
			t.Errorf("Every(%v) = %v, want ErrInvalidInput", d, err)
		}
	}
	p, err := funnel.Every(90*time.Minute, origin.In(time.FixedZone("x", 3600)))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Index(origin.Add(-1)); got != -1 {
		t.Errorf("Index(origin−1ns) = %d, want -1", got)
	}
	if got := p.Key(origin.Add(-1)); got != "2026-02-28T22:30:00Z" {
		t.Errorf("Key(origin−1ns) = %q", got)
	}
	if got := p.Key(origin.Add(3 * time.Hour)); got != "2026-03-01T03:00:00Z" {
		t.Errorf("Key(origin+3h) = %q", got)
	}
	if !strings.HasPrefix(p.String(), "every 1h30m0s from ") {
		t.Errorf("String = %q", p.String())
	}
	p, _ = funnel.Every(1500*time.Millisecond, origin)
	if got := p.Key(origin.Add(3 * time.Second)); got != "2026-03-01T00:00:03.000000000Z" {
		t.Errorf("Every(1.5s).Key = %q, want nine fractional digits", got)
	}
	p, _ = funnel.Every(time.Hour, origin.Add(500*time.Millisecond))
	if got := p.Key(origin.Add(time.Hour)); got != "2026-03-01T00:00:00.500000000Z" {
		t.Errorf("Every(1h from .5s).Key = %q", got)
	}
	// Huge ranges must not panic.
	p, _ = funnel.Every(1, origin)
	_ = p.Key(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC))
	_ = p.Index(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
	_ = p.Start(math.MaxInt64)
	_ = p.Start(math.MinInt64)
	p, _ = funnel.Every(math.MaxInt64, origin)
	for _, tt := range []time.Time{time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)} {
		i := p.Index(tt)
		if s := p.Start(i); s.After(tt) || !p.Start(i+1).After(tt) {
			t.Errorf("Every(max): Start(%d) = %v, Start(%d) = %v do not bracket %v", i, s, i+1, p.Start(i+1), tt)
		}
	}
}

// TestContractTableFormatting: rates four decimals, durations rounded to the
// second and readable by ParseDuration, String aligned without trailing
// spaces.
func TestContractTableFormatting(t *testing.T) {
	// ToNext(reach) = 1.4s and 1.6s → median 1.4s → "1s"; Stay(reach)
	// the same. to_next for acquisition 2.5s → rounds to 3s (time.Round
	// rounds half away from zero).
	mk := func(id string, d1, d2 time.Duration) *lifecycle.Customer {
		return &lifecycle.Customer{ID: id, Stage: model.Conversion, Since: rvT0.Add(d1 + d2), AsOf: rvT0.Add(d1 + d2 + time.Hour),
			Facts: lifecycle.Facts{First: rvT0, Last: rvT0.Add(d1 + d2)},
			History: []lifecycle.Transition{{To: model.Reach, At: rvT0}, {From: model.Reach, To: model.Acquisition, At: rvT0.Add(d1)},
				{From: model.Acquisition, To: model.Conversion, At: rvT0.Add(d1 + d2)}}}
	}
	rep := rvAnalyze(t, rvSC(), []*lifecycle.Customer{mk("a", 1400*time.Millisecond, 2500*time.Millisecond), mk("b", 1600*time.Millisecond, 2500*time.Millisecond), mk("c", 1600*time.Millisecond, 2500*time.Millisecond)})
	tab := rep.Funnel.Table()
	if tab.Rows[0][7] != "2s" || tab.Rows[1][7] != "3s" {
		t.Errorf("to_next_median cells = %q, %q; want 2s, 3s", tab.Rows[0][7], tab.Rows[1][7])
	}
	if tab.Rows[2][6] != "1.0000" || tab.Rows[3][5] != "0.0000" {
		t.Errorf("rate cells = %q", tab.Rows)
	}
	for _, r := range rep.TimeTable().Rows {
		for _, c := range r[3:] {
			if c == "" {
				continue
			}
			if d, err := time.ParseDuration(c); err != nil || d != d.Round(time.Second) {
				t.Errorf("TimeTable cell %q not a duration rounded to the second", c)
			}
		}
	}
	s := rep.Table().String()
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	hdrLen := len(lines[0])
	for _, l := range lines {
		if strings.TrimRight(l, " ") != l {
			t.Errorf("trailing spaces: %q", l)
		}
		if !strings.HasSuffix(l, " ") && len(l) != hdrLen && !strings.HasSuffix(l, "  ") {
			// right-aligned last column: every line with a value in it ends
			// at the same column as the header.
			fields := strings.Fields(l)
			if len(fields) == len(tab.Header)+1 && len(l) != hdrLen {
				t.Errorf("misaligned line %q (len %d, header %d)", l, len(l), hdrLen)
			}
		}
	}
	if !strings.HasPrefix(lines[1], "(all)  ") && !strings.HasPrefix(lines[1], "(all) ") {
		t.Errorf("first column not left-aligned: %q", lines[1])
	}
}

// TestContractSegments: malformed segments are errors wherever used; Only
// restricts every number; Match sees the stored customer under AsOf.
func TestContractSegments(t *testing.T) {
	g := rvSC()
	bad := map[string]funnel.Segment{
		"nil Match":       {Name: "x"},
		"All()":           funnel.All(),
		"Any()":           funnel.Any(),
		"Not(nil)":        funnel.Not(funnel.Segment{}),
		"All(ok, nil)":    funnel.All(funnel.InStage(model.Reach), funnel.Segment{Name: "n"}),
		"HasEvent(bad)":   funnel.HasEvent("Bad Type!", 1),
		"Spent(eur)":      funnel.SpentAtLeast("eur", 1),
		"Spent(EUR, 0)":   funnel.SpentAtLeast("EUR", 0),
		"ScoreBelow(11)":  funnel.ScoreBelow(11),
		"Where(bad rule)": funnel.Where(model.Spent("XXXX", 5)),
		"Any(Where(bad))": funnel.Any(funnel.InStage(model.Reach), funnel.Where(model.Spent("XXXX", 5))),
	}
	for name, s := range bad {
		if _, err := funnel.New(g, funnel.Only(s)); !errors.Is(err, funnel.ErrInvalidInput) {
			t.Errorf("New(Only(%s)) = %v, want ErrInvalidInput", name, err)
		}
		n := 0
		for _, err := range s.Filter(funnel.Customers(rvExample())) {
			n++
			if !errors.Is(err, funnel.ErrInvalidInput) {
				t.Errorf("%s.Filter yielded %v, want ErrInvalidInput", name, err)
			}
		}
		if n != 1 {
			t.Errorf("%s.Filter yielded %d items, want exactly one error", name, n)
		}
	}
	rep := rvAnalyze(t, g, rvExample(), funnel.Only(funnel.InStage(model.Conversion)))
	if rep.Customers != 2 || rvStage(t, &rep.Funnel, model.Acquisition).Entered != 2 {
		t.Errorf("Only(InStage(conversion)): Customers = %d, acq entered %d; want 2 (A, D), 2", rep.Customers, rvStage(t, &rep.Funnel, model.Acquisition).Entered)
	}
	// With AsOf(5h), Match still sees the stored stage: A and D (stored
	// conversion) match; at 5h both are in conversion.
	rep = rvAnalyze(t, g, rvExample(), funnel.Only(funnel.InStage(model.Acquisition)), funnel.AsOf(rvH(5)))
	// stored acquisition: B (conversion at 5h) and C (acquisition at 5h)
	if rep.Customers != 2 || rvStage(t, &rep.Funnel, model.Conversion).Current != 1 || rvStage(t, &rep.Funnel, model.Acquisition).Current != 1 {
		t.Errorf("Only+AsOf: %+v", rep.Stages)
	}
	// Filter passes a sequence error and stops.
	boom := errors.New("boom")
	seq := func(yield func(*lifecycle.Customer, error) bool) {
		if !yield(rvCust("a", 1, model.Reach, 0), nil) {
			return
		}
		if !yield(nil, boom) {
			return
		}
		yield(rvCust("b", 1, model.Reach, 0), nil)
	}
	var got []string
	for c, err := range funnel.InStage(model.Reach).Filter(seq) {
		if err != nil {
			got = append(got, err.Error())
			continue
		}
		got = append(got, c.ID)
	}
	if !reflect.DeepEqual(got, []string{"a", "boom"}) {
		t.Errorf("Filter = %v, want [a boom]", got)
	}
}

// rvOrders is the retention example (Month):
//
//	a: 2026-01-05 100, 2026-01-20 50, 2026-03-03 70
//	b: 2026-01-10 30
//	c: 2026-02-01 20, 2026-02-01 10 (same instant)
//	d: 2026-02-15 40, 2026-04-30 23:00 5
func rvOrders() []funnel.Order {
	d := func(m time.Month, day, h int) time.Time { return time.Date(2026, m, day, h, 0, 0, 0, time.UTC) }
	return []funnel.Order{
		{"d", d(4, 30, 23).In(time.FixedZone("+05", 5*3600)), 5, "EUR"},
		{"a", d(1, 20, 0), 50, "EUR"},
		{"c", d(2, 1, 0), 20, "EUR"},
		{"a", d(3, 3, 0), 70, "EUR"},
		{"b", d(1, 10, 0), 30, "EUR"},
		{"c", d(2, 1, 0), 10, "EUR"},
		{"a", d(1, 5, 0), 100, "EUR"},
		{"d", d(2, 15, 0), 40, "EUR"},
	}
}

func TestContractRetentionHand(t *testing.T) {
	orders := rvOrders()
	orig := append([]funnel.Order(nil), orders...)
	tab, err := funnel.Retention(orders, funnel.Month)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(orders, orig) {
		t.Errorf("Retention modified orders")
	}
	if !tab.Until.Equal(time.Date(2026, 4, 30, 23, 0, 0, 0, time.UTC)) || tab.Currency != "EUR" {
		t.Errorf("Until = %v, Currency = %q", tab.Until, tab.Currency)
	}
	want := []funnel.RetentionCohort{
		{Key: "2026-01", Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Customers: 2,
			Active: []int{2, 0, 1, 0}, Repeated: []int{1, 1, 1, 1}, Retained: []int{2, 1, 1, 0}, Revenue: []int64{180, 0, 70, 0}, TotalRevenue: 250},
		{Key: "2026-02", Start: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), Customers: 2,
			Active: []int{2, 0, 1}, Repeated: []int{1, 1, 2}, Retained: []int{2, 1, 1}, Revenue: []int64{70, 0, 5}, TotalRevenue: 75},
	}
	if len(tab.Cohorts) != 2 {
		t.Fatalf("cohorts = %+v", tab.Cohorts)
	}
	for i := range want {
		g := tab.Cohorts[i]
		if g.Key != want[i].Key || !g.Start.Equal(want[i].Start) || g.Customers != want[i].Customers ||
			!reflect.DeepEqual(g.Active, want[i].Active) || !reflect.DeepEqual(g.Repeated, want[i].Repeated) ||
			!reflect.DeepEqual(g.Retained, want[i].Retained) || !reflect.DeepEqual(g.Revenue, want[i].Revenue) || g.TotalRevenue != want[i].TotalRevenue {
			t.Errorf("cohort %d = %+v\nwant %+v", i, g, want[i])
		}
	}
	m := tab.Matrix(funnel.ActiveShare)
	if !reflect.DeepEqual(m.Header, []string{"cohort", "customers", "total_revenue", "k0", "k1", "k2", "k3"}) {
		t.Errorf("Matrix header = %v", m.Header)
	}
	if !reflect.DeepEqual(m.Rows, [][]string{{"2026-01", "2", "250", "1.0000", "0.0000", "0.5000", "0.0000"}, {"2026-02", "2", "75", "1.0000", "0.0000", "0.5000", ""}}) {
		t.Errorf("Matrix(ActiveShare) = %q", m.Rows)
	}
	if r := tab.Matrix(funnel.RevenueAmount).Rows[0][3:]; !reflect.DeepEqual(r, []string{"180", "0", "70", "0"}) {
		t.Errorf("Matrix(RevenueAmount) = %q", r)
	}
	if r := tab.Matrix(funnel.RepeatedShare).Rows[1][3:]; !reflect.DeepEqual(r, []string{"0.5000", "0.5000", "1.0000", ""}) {
		t.Errorf("Matrix(RepeatedShare) = %q", r)
	}
	lt := tab.Table()
	if !reflect.DeepEqual(lt.Header, []string{"cohort", "customers", "k", "active", "repeated", "retained", "revenue"}) || len(lt.Rows) != 7 {
		t.Errorf("Table = %v, %d rows", lt.Header, len(lt.Rows))
	} else if !reflect.DeepEqual(lt.Rows[6], []string{"2026-02", "2", "2", "1", "2", "1", "5"}) {
		t.Errorf("Table last row = %q", lt.Rows[6])
	}
	// Until(2026-02-20): later orders ignored.
	tab, err = funnel.Retention(orders, funnel.Month, funnel.Until(time.Date(2026, 2, 20, 0, 0, 0, 0, time.UTC)))
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Cohorts) != 2 || !reflect.DeepEqual(tab.Cohorts[0].Retained, []int{2, 0}) || !reflect.DeepEqual(tab.Cohorts[0].Revenue, []int64{180, 0}) ||
		tab.Cohorts[0].TotalRevenue != 180 || !reflect.DeepEqual(tab.Cohorts[1].Active, []int{2}) || tab.Cohorts[1].TotalRevenue != 70 {
		t.Errorf("Until: %+v", tab.Cohorts)
	}
	// Until before every order: nothing observed.
	tab, err = funnel.Retention(orders, funnel.Month, funnel.Until(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)))
	if err != nil || len(tab.Cohorts) != 0 {
		t.Errorf("Until before all orders: %v, %+v", err, tab)
	}
	tab, err = funnel.Retention(nil, funnel.Week)
	if err != nil || tab == nil || len(tab.Cohorts) != 0 {
		t.Errorf("empty list: %v, %+v", err, tab)
	}
}

func TestContractRetentionErrors(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ok := funnel.Order{"x", at, 1, "EUR"}
	cases := map[string]funnel.Order{
		"no customer":     {"", at, 1, "EUR"},
		"no time":         {"x", time.Time{}, 1, "EUR"},
		"negative amount": {"x", at, -5, "EUR"},
		"second currency": {"y", at, 3, "USD"},
		"no code + code":  {"y", at, 3, ""},
	}
	for name, o := range cases {
		_, err := funnel.Retention([]funnel.Order{ok, ok, o}, funnel.Month)
		if !errors.Is(err, funnel.ErrInvalidInput) {
			t.Errorf("%s: err = %v, want ErrInvalidInput", name, err)
			continue
		}
		if !strings.Contains(err.Error(), "order 2") {
			t.Errorf("%s: error %q does not name index 2", name, err)
		}
	}
	if _, err := funnel.Retention([]funnel.Order{ok, {"y", at, 0, ""}}, funnel.Month); err != nil {
		t.Errorf("Amount 0 without currency: %v", err)
	}
	tab, err := funnel.Retention([]funnel.Order{ok, {"y", at, 7, "USD"}}, funnel.Month, funnel.InCurrency("EUR"))
	if err != nil || tab.Currency != "EUR" || tab.Cohorts[0].Customers != 2 || tab.Cohorts[0].TotalRevenue != 1 {
		t.Errorf("InCurrency: %v %+v", err, tab)
	}
	// Saturating revenue.
	tab, err = funnel.Retention([]funnel.Order{{"x", at, math.MaxInt64, "EUR"}, {"y", at, math.MaxInt64, "EUR"}}, funnel.Month)
	if err != nil || tab.Cohorts[0].Revenue[0] != math.MaxInt64 || tab.Cohorts[0].TotalRevenue != math.MaxInt64 {
		t.Errorf("saturation: %v %+v", err, tab)
	}
	// MaxPeriods: a nanosecond period over a year, and over 300 years.
	ns, _ := funnel.Every(1, at)
	for _, end := range []time.Time{at.AddDate(1, 0, 0), at.AddDate(300, 0, 0), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)} {
		_, err := funnel.Retention([]funnel.Order{ok, {"x", end, 1, "EUR"}}, ns)
		if !errors.Is(err, funnel.ErrInvalidInput) {
			t.Errorf("row to %v with 1ns periods: err = %v, want ErrInvalidInput (MaxPeriods)", end, err)
		}
	}
	// Exactly MaxPeriods columns is allowed; one more is not.
	sec, _ := funnel.Every(time.Second, at)
	if _, err := funnel.Retention([]funnel.Order{ok, {"x", at.Add((funnel.MaxPeriods - 1) * time.Second), 1, "EUR"}}, sec); err != nil {
		t.Errorf("row of MaxPeriods: %v", err)
	}
	if _, err := funnel.Retention([]funnel.Order{ok, {"x", at.Add(funnel.MaxPeriods * time.Second), 1, "EUR"}}, sec); !errors.Is(err, funnel.ErrInvalidInput) {
		t.Errorf("row of MaxPeriods+1: %v", err)
	}
	// Until far before orders with a tiny period must not blow up either.
	if _, err := funnel.Retention([]funnel.Order{ok}, ns, funnel.Until(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC))); err != nil {
		t.Logf("Until year 1: %v", err)
	}
}

// TestContractStoredRetentionHand:
//
//	x: orders 2026-01-05 (100) and 2026-03-03 (70); history conversion@01-05,
//	   retention@03-03; AsOf 03-03.
//	y: order 2026-02-10 (40); conversion@02-10; AsOf 2026-04-02 (a sweep).
//
// Until = 2026-04-02 → Jan cohort k0..k3, Feb cohort k0..k2.
func TestContractStoredRetentionHand(t *testing.T) {
	d := func(m time.Month, day int) time.Time { return time.Date(2026, m, day, 0, 0, 0, 0, time.UTC) }
	x := &lifecycle.Customer{ID: "x", Stage: model.Retention, Since: d(3, 3), AsOf: d(3, 3),
		History: []lifecycle.Transition{{To: model.Conversion, At: d(1, 5)}, {From: model.Conversion, To: model.Retention, At: d(3, 3)}}}
	x.Facts.Add(&lifecycle.Event{ID: "1", CustomerID: "x", Type: lifecycle.OrderCompleted, Time: d(1, 5), Amount: 100, Currency: "EUR"})
	x.Facts.Add(&lifecycle.Event{ID: "2", CustomerID: "x", Type: lifecycle.OrderCompleted, Time: d(3, 3), Amount: 70, Currency: "EUR"})
	y := &lifecycle.Customer{ID: "y", Stage: model.Acquisition, Since: d(4, 2), AsOf: d(4, 2),
		History: []lifecycle.Transition{{To: model.Conversion, At: d(2, 10)}, {From: model.Conversion, To: model.Acquisition, At: d(4, 2)}}}
	y.Facts.Add(&lifecycle.Event{ID: "3", CustomerID: "y", Type: lifecycle.OrderCompleted, Time: d(2, 10), Amount: 40, Currency: "EUR"})
	never := rvCust("n", 1, model.Reach, 0)
	tab, err := funnel.StoredRetention(context.Background(), rvSC(), model.Retention, funnel.Customers([]*lifecycle.Customer{x, y, never}), funnel.Month)
	if err != nil {
		t.Fatal(err)
	}
	if !tab.Until.Equal(d(4, 2)) || tab.Currency != "EUR" || len(tab.Cohorts) != 2 {
		t.Fatalf("table = %+v", tab)
	}
	j, f := tab.Cohorts[0], tab.Cohorts[1]
	if j.Customers != 1 || !reflect.DeepEqual(j.Retained, []int{1, 1, 1, 0}) || !reflect.DeepEqual(j.Repeated, []int{0, 0, 1, 1}) || j.TotalRevenue != 170 || j.Active != nil || j.Revenue != nil {
		t.Errorf("Jan = %+v", j)
	}
	// y reached conversion, not retention; regressing to acquisition does
	// not make it "reach" retention.
	if f.Customers != 1 || !reflect.DeepEqual(f.Retained, []int{1, 0, 0}) || !reflect.DeepEqual(f.Repeated, []int{0, 0, 0}) || f.TotalRevenue != 40 {
		t.Errorf("Feb = %+v", f)
	}
	// Repeat stage conversion: reached by later path stage retention too.
	tab, _ = funnel.StoredRetention(context.Background(), rvSC(), model.Conversion, funnel.Customers([]*lifecycle.Customer{x, y}), funnel.Month)
	if !reflect.DeepEqual(tab.Cohorts[0].Repeated, []int{1, 1, 1, 1}) {
		t.Errorf("repeat=conversion: %+v", tab.Cohorts[0].Repeated)
	}
	// Until(2026-02-28): x's transition to retention after Until ignored,
	// but its March order still counts in Retained of the last column.
	tab, _ = funnel.StoredRetention(context.Background(), rvSC(), model.Retention, funnel.Customers([]*lifecycle.Customer{x, y}), funnel.Month, funnel.Until(d(2, 28)))
	if len(tab.Cohorts) != 2 || !reflect.DeepEqual(tab.Cohorts[0].Retained, []int{1, 1}) || !reflect.DeepEqual(tab.Cohorts[0].Repeated, []int{0, 0}) || tab.Cohorts[0].TotalRevenue != 170 {
		t.Errorf("Until: %+v", tab.Cohorts)
	}
	// Errors.
	for name, f := range map[string]func() error{
		"nil graph": func() error {
			_, err := funnel.StoredRetention(context.Background(), nil, model.Retention, funnel.Customers(nil), funnel.Month)
			return err
		},
		"unknown repeat": func() error {
			_, err := funnel.StoredRetention(context.Background(), rvSC(), "ghost", funnel.Customers(nil), funnel.Month)
			return err
		},
		"two currencies": func() error {
			z := x.Clone()
			z.ID = "z"
			z.Facts.Add(&lifecycle.Event{ID: "9", CustomerID: "z", Type: lifecycle.OrderCompleted, Time: d(1, 6), Amount: 5, Currency: "USD"})
			_, err := funnel.StoredRetention(context.Background(), rvSC(), model.Retention, funnel.Customers([]*lifecycle.Customer{x, z}), funnel.Month)
			return err
		},
	} {
		if err := f(); !errors.Is(err, funnel.ErrInvalidInput) {
			t.Errorf("%s: err = %v, want ErrInvalidInput", name, err)
		}
	}
}

// TestContractManyCustomers: 100,000 customers, counts exact.
func TestContractManyCustomers(t *testing.T) {
	const n = 100_000
	seq := iter.Seq2[*lifecycle.Customer, error](func(yield func(*lifecycle.Customer, error) bool) {
		for i := 0; i < n; i++ {
			var c *lifecycle.Customer
			switch i % 3 {
			case 0:
				c = rvCust("c", 1, model.Reach, 0)
			case 1:
				c = rvCust("c", 3, model.Reach, 0, model.Acquisition, 1)
			default:
				c = rvCust("c", 5, model.Reach, 0, model.Acquisition, 1, model.Conversion, 2)
			}
			if !yield(c, nil) {
				return
			}
		}
	})
	rep, err := funnel.Analyze(context.Background(), rvSC(), seq, funnel.CohortBy(funnel.FirstSeen(funnel.Month)))
	if err != nil {
		t.Fatal(err)
	}
	r := rvStage(t, &rep.Funnel, model.Reach)
	a := rvStage(t, &rep.Funnel, model.Acquisition)
	if rep.Customers != n || r.Reached != n || a.Reached != 66_666 || r.Stopped != 33_334 || r.ToNext.N != 66_666 || a.ToNext.N != 33_333 {
		t.Errorf("many: customers %d reach %+v acq reached %d", rep.Customers, r, a.Reached)
	}
	if len(rep.Cohorts) != 1 || rep.Cohorts[0].Key != "2026-03" || rep.Cohorts[0].Customers != n {
		t.Errorf("cohorts: %d", len(rep.Cohorts))
	}
}

func rvNoPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s panicked: %v", name, r)
		}
	}()
	f()
}

// TestContractHostileOptionsNoPanic: nil options, a nil cohort key, ragged
// user tables, unknown measures and zero tables must not panic.
func TestContractHostileOptionsNoPanic(t *testing.T) {
	g := rvSC()
	rvNoPanic(t, "New(g, nil option)", func() {
		a, err := funnel.New(g, nil)
		if err == nil {
			_ = a.Add(rvCust("a", 1, model.Reach, 0))
		}
	})
	rvNoPanic(t, "CohortBy(nil)", func() {
		a, err := funnel.New(g, funnel.CohortBy(nil))
		if err != nil {
			if !errors.Is(err, funnel.ErrInvalidInput) {
				t.Errorf("CohortBy(nil): %v", err)
			}
			return
		}
		_ = a.Add(rvCust("a", 1, model.Reach, 0))
		_ = a.Report()
	})
	rvNoPanic(t, "ragged Table", func() {
		tab := funnel.Table{Header: []string{"a"}, Rows: [][]string{{"x", "y", "z"}, {}}}
		_ = tab.String()
		_ = tab.WriteCSV(&strings.Builder{})
		_ = funnel.Table{}.String()
	})
	rvNoPanic(t, "Matrix(bad measure)", func() {
		tab, _ := funnel.Retention(rvOrders(), funnel.Month)
		for _, m := range []funnel.Measure{0, 99} {
			mt := tab.Matrix(m)
			for _, r := range mt.Rows {
				for _, c := range r[3:] {
					if c != "" {
						t.Errorf("Matrix(%d) cell %q; want \"\" for a measure the table lacks", m, c)
					}
				}
			}
			_ = m.String()
		}
	})
	rvNoPanic(t, "nil Report/Funnel tables", func() {
		var f funnel.Funnel
		_ = f.Table()
		_ = f.TimeTable()
		_, _ = f.Stage("x")
		var rt funnel.RetentionTable
		_ = rt.Table()
		_ = rt.Matrix(funnel.ActiveShare)
	})
}

// TestContractTypedNilStoreNoPanic: a nil *store.Memory (a nil pointer of a
// store type, which lifecycle.NewTracker counts as no store) must give an
// error, not a panic.
func TestContractTypedNilStoreNoPanic(t *testing.T) {
	g := rvSC()
	ctx := context.Background()
	rvNoPanic(t, "AnalyzeStore(typed nil *store.Memory)", func() {
		var m *store.Memory
		_, err := funnel.AnalyzeStore(ctx, g, m)
		if err == nil {
			t.Errorf("AnalyzeStore(typed nil): no error")
		}
	})
	rvNoPanic(t, "IDs(typed nil *store.Memory)", func() {
		var m *store.Memory
		for _, err := range funnel.InStage(model.Reach).IDs(ctx, m) {
			if !errors.Is(err, funnel.ErrInvalidInput) {
				t.Errorf("IDs(typed nil store): err = %v, want ErrInvalidInput", err)
			}
		}
	})
}

// TestContractAnalyzeStoreNilStoreError: every error wraps a sentinel of the
// package (or is the source's / ctx's); Segment.IDs calls a nil store
// ErrInvalidInput, AnalyzeStore should too.
func TestContractAnalyzeStoreNilStoreError(t *testing.T) {
	_, err := funnel.AnalyzeStore(context.Background(), rvSC(), nil)
	if !errors.Is(err, funnel.ErrInvalidInput) {
		t.Errorf("AnalyzeStore(nil store) = %v; want an error wrapping ErrInvalidInput", err)
	}
}

// TestContractHistoryFromUnknown: the History naming an unknown stage in From
// is an unknown stage too ("its stage or history names a stage the graph does
// not have").
func TestContractHistoryFromUnknown(t *testing.T) {
	c := rvCust("f", 3, model.Reach, 0, model.Acquisition, 1)
	c.History[1].From = "ghost"
	a, _ := funnel.New(rvSC())
	if err := a.Add(c); !errors.Is(err, funnel.ErrUnknownStage) {
		t.Errorf("History From ghost: err = %v, want ErrUnknownStage", err)
	}
	c2 := rvCust("g", 3, model.Reach, 0, model.Acquisition, 1)
	c2.History[1].To = ""
	c2.Stage = model.Acquisition
	a, _ = funnel.New(rvSC())
	err := a.Add(c2)
	if err == nil {
		t.Errorf("History To \"\" accepted")
	} else if !errors.Is(err, funnel.ErrUnknownStage) && !errors.Is(err, funnel.ErrInvalidInput) {
		t.Errorf("History To \"\": %v", err)
	}
}

// TestContractPercentilesAliasing: "kept as given" must not mean the caller's
// slice is kept: changing it after the option is made changes nothing.
func TestContractPercentilesAliasing(t *testing.T) {
	ps := []float64{50, 90}
	opt := funnel.Percentiles(ps...)
	ps[0] = 0 // invalid now
	if _, err := funnel.New(rvSC(), opt); err != nil {
		t.Errorf("New after caller changed its slice: %v", err)
	}
	ps = []float64{50, 90}
	a, err := funnel.New(rvSC(), funnel.Percentiles(ps...))
	if err != nil {
		t.Fatal(err)
	}
	ps[0], ps[1] = 0, 10 // after New
	for _, c := range rvExample() {
		_ = a.Add(c)
	}
	d := rvStage(t, &a.Report().Funnel, model.Reach).ToNext
	if len(d.Percentiles) != 2 || d.Percentiles[0].P != 50 || d.Percentiles[1].P != 90 {
		t.Errorf("percentiles = %v, want 50, 90 as given", d.Percentiles)
	}
	// DefaultPercentiles changed by a caller after New does not change an
	// Analyzer made before (not documented either way; logged only).
}

// TestContractEqualTimes: transitions at the same instant give zero durations
// (not left out): reach@0 acquisition@0 conversion@0.
func TestContractEqualTimes(t *testing.T) {
	c := rvCust("z", 0, model.Reach, 0, model.Acquisition, 0, model.Conversion, 0)
	rep := rvAnalyze(t, rvSC(), []*lifecycle.Customer{c})
	rvCheckDist(t, "reach.ToNext", rvStage(t, &rep.Funnel, model.Reach).ToNext, rvHours(0))
	rvCheckDist(t, "acquisition.ToNext", rvStage(t, &rep.Funnel, model.Acquisition).ToNext, rvHours(0))
	rvCheckDist(t, "reach.Stay", rvStage(t, &rep.Funnel, model.Reach).Stay, rvHours(0))
	rvCheckDist(t, "conversion.Open", rvStage(t, &rep.Funnel, model.Conversion).Open, rvHours(0))
	rvCheckDist(t, "conversion.FromStart", rvStage(t, &rep.Funnel, model.Conversion).FromStart, rvHours(0))
}

// TestContractOffPathEntryFromStart: a customer who enters off the path and
// recovers onto a path stage. FromStart of the first path stage is documented
// as empty "where it would always be zero"; ToNext of the stage entered by a
// recovery counts.
//
//	K: at-risk@0 subscriber@3 advocate@7
func TestContractOffPathEntryFromStart(t *testing.T) {
	g := rvSubscription(t)
	c := rvCust("K", 10, stage.ID("at-risk"), 0, stage.ID("subscriber"), 3, stage.ID("advocate"), 7)
	rep := rvAnalyze(t, g, []*lifecycle.Customer{c})
	p := rvStage(t, &rep.Funnel, "prospect")
	s := rvStage(t, &rep.Funnel, "subscriber")
	r := rvStage(t, &rep.Funnel, "at-risk")
	if p.Reached != 1 || p.Entered != 0 || s.Reached != 1 || r.Reached != 1 || r.Stopped != 0 {
		t.Errorf("prospect %+v subscriber %+v at-risk %+v", p, s, r)
	}
	rvCheckDist(t, "prospect.ToNext", p.ToNext, nil)
	rvCheckDist(t, "subscriber.ToNext", s.ToNext, rvHours(4))
	rvCheckDist(t, "subscriber.FromStart", s.FromStart, rvHours(3))
	rvCheckDist(t, "advocate.FromStart", rvStage(t, &rep.Funnel, "advocate").FromStart, rvHours(7))
	rvCheckDist(t, "at-risk.FromStart", r.FromStart, rvHours(0))
	if p.FromStart.N != 0 {
		t.Logf("prospect.FromStart = %+v", p.FromStart)
	}
}

// TestContractTableStringUnicode: "aligned plain text": a cohort key with
// multi-byte letters must not shift the columns.
func TestContractTableStringUnicode(t *testing.T) {
	keys := map[string]string{"A": "über", "B": "uber", "C": "日本", "D": "ab"}
	rep := rvAnalyze(t, rvSC(), rvExample(), funnel.CohortBy(func(c *lifecycle.Customer) string { return keys[c.ID] }))
	lines := strings.Split(strings.TrimRight(rep.Table().String(), "\n"), "\n")
	// the second column (stage) is right-aligned: it ends at the same rune
	// offset on every line, header included.
	col := -1
	for _, l := range lines {
		i := strings.Index(l, "  ")
		for i < len(l) && l[i] == ' ' {
			i++
		}
		j := i
		for j < len(l) && l[j] != ' ' {
			j++
		}
		w := utf8.RuneCountInString(l[:j])
		if col == -1 {
			col = w
		} else if w != col {
			t.Errorf("stage column ends at rune %d, want %d: %q", w, col, l)
		}
	}
}

// TestContractRetentionEdges: Until in another zone, customers whose first
// order is after Until, shares with four decimals, StoredRetention table
// lacks Active/Revenue in Matrix.
func TestContractRetentionEdges(t *testing.T) {
	d := func(m time.Month, day int) time.Time { return time.Date(2026, m, day, 0, 0, 0, 0, time.UTC) }
	orders := []funnel.Order{
		{CustomerID: "a", Time: d(1, 5)}, {CustomerID: "b", Time: d(1, 6)}, {CustomerID: "c", Time: d(1, 7)},
		{CustomerID: "a", Time: d(2, 27)}, {CustomerID: "late", Time: d(3, 1)},
	}
	// Until 2026-03-01T01:00+02:00 = 2026-02-28T23:00Z → last column Feb.
	until := time.Date(2026, 3, 1, 1, 0, 0, 0, time.FixedZone("+02", 7200))
	tab, err := funnel.Retention(orders, funnel.Month, funnel.Until(until))
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Cohorts) != 1 || tab.Cohorts[0].Customers != 3 || len(tab.Cohorts[0].Active) != 2 {
		t.Fatalf("cohorts = %+v", tab.Cohorts)
	}
	m := tab.Matrix(funnel.ActiveShare)
	if got := m.Rows[0][3:]; got[0] != "1.0000" || got[1] != "0.3333" {
		t.Errorf("shares = %q, want 1.0000 0.3333", got)
	}
	m = tab.Matrix(funnel.RetainedShare)
	if got := m.Rows[0][3:]; got[1] != "0.3333" {
		t.Errorf("retained share = %q", got)
	}
	if tab.Currency != "" || tab.Cohorts[0].TotalRevenue != 0 {
		t.Errorf("no money: currency %q total %d", tab.Currency, tab.Cohorts[0].TotalRevenue)
	}
	// Week cohorts across the ISO year end.
	w := []funnel.Order{{CustomerID: "a", Time: time.Date(2021, 1, 3, 12, 0, 0, 0, time.UTC)}, {CustomerID: "a", Time: time.Date(2021, 1, 4, 0, 0, 0, 0, time.UTC)}}
	tab, err = funnel.Retention(w, funnel.Week)
	if err != nil || len(tab.Cohorts) != 1 || tab.Cohorts[0].Key != "2020-W53" || len(tab.Cohorts[0].Active) != 2 || tab.Cohorts[0].Active[1] != 1 || tab.Cohorts[0].Repeated[0] != 0 || tab.Cohorts[0].Repeated[1] != 1 {
		t.Errorf("week: %v %+v", err, tab)
	}
}

// TestContractStoredRetentionPendingReferrerUntil: a pending referrer's AsOf
// does not count towards the default Until.
func TestContractStoredRetentionPendingReferrerUntil(t *testing.T) {
	d := func(m time.Month, day int) time.Time { return time.Date(2026, m, day, 0, 0, 0, 0, time.UTC) }
	x := &lifecycle.Customer{ID: "x", Stage: model.Conversion, Since: d(1, 5), AsOf: d(1, 5),
		History: []lifecycle.Transition{{To: model.Conversion, At: d(1, 5)}}}
	x.Facts.Add(&lifecycle.Event{ID: "1", CustomerID: "x", Type: lifecycle.OrderCompleted, Time: d(1, 5)})
	p := &lifecycle.Customer{ID: "p", AsOf: d(12, 1), Facts: lifecycle.Facts{Referrals: []lifecycle.Referral{{Customer: "q", At: d(12, 1)}}}}
	tab, err := funnel.StoredRetention(context.Background(), rvSC(), model.Retention, funnel.Customers([]*lifecycle.Customer{x, p}), funnel.Month)
	if err != nil {
		t.Fatal(err)
	}
	if !tab.Until.Equal(d(1, 5)) || len(tab.Cohorts) != 1 || len(tab.Cohorts[0].Retained) != 1 {
		t.Errorf("Until = %v, cohorts %+v; want Until 2026-01-05 and one column", tab.Until, tab.Cohorts)
	}
	for _, m := range []funnel.Measure{funnel.ActiveShare, funnel.RevenueAmount} {
		for _, c := range tab.Matrix(m).Rows[0][3:] {
			if c != "" {
				t.Errorf("StoredRetention Matrix(%v) cell %q, want \"\"", m, c)
			}
		}
	}
	for _, r := range tab.Table().Rows {
		if r[3] != "" || r[6] != "" {
			t.Errorf("StoredRetention Table row %q: active and revenue should be \"\"", r)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := funnel.StoredRetention(ctx, rvSC(), model.Retention, funnel.Customers([]*lifecycle.Customer{x}), funnel.Month); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: %v", err)
	}
}

// TestContractSegmentsSemantics checks the rule helpers on facts.
func TestContractSegmentsSemantics(t *testing.T) {
	mk := func(id string, evs ...lifecycle.Event) *lifecycle.Customer {
		c := &lifecycle.Customer{ID: id, Stage: model.Acquisition, History: []lifecycle.Transition{{To: model.Acquisition, At: rvT0}}, Since: rvT0}
		for i := range evs {
			evs[i].CustomerID = id
			if evs[i].ID == "" {
				evs[i].ID = fmt.Sprint(id, i)
			}
			c.Facts.Add(&evs[i])
			if evs[i].Time.After(c.AsOf) {
				c.AsOf = evs[i].Time
			}
		}
		return c
	}
	survey := func(score int, at time.Time) lifecycle.Event {
		return lifecycle.Event{Type: lifecycle.SurveyAnswered, Time: at, Attrs: map[string]string{lifecycle.ScoreAttr: fmt.Sprint(score)}}
	}
	ev := func(tp lifecycle.EventType, at time.Time, amt int64) lifecycle.Event {
		e := lifecycle.Event{Type: tp, Time: at, Amount: amt}
		if amt > 0 {
			e.Currency = "EUR"
		}
		return e
	}
	cases := []struct {
		name string
		seg  funnel.Segment
		c    *lifecycle.Customer
		want bool
	}{
		{"HasEvent min 0, none", funnel.HasEvent(lifecycle.OrderCompleted, 0), mk("a", ev(lifecycle.SignedUp, rvT0, 0)), false},
		{"HasEvent min -3, one", funnel.HasEvent(lifecycle.OrderCompleted, -3), mk("a", ev(lifecycle.OrderCompleted, rvT0, 0)), true},
		{"HasEvent 2 of 1", funnel.HasEvent(lifecycle.OrderCompleted, 2), mk("a", ev(lifecycle.OrderCompleted, rvT0, 0)), false},
		{"ScoreBelow(7), 6", funnel.ScoreBelow(7), mk("s", survey(6, rvT0)), true},
		{"ScoreBelow(7), 7", funnel.ScoreBelow(7), mk("s", survey(7, rvT0)), false},
		{"ScoreBelow(1), 0", funnel.ScoreBelow(1), mk("s", survey(0, rvT0)), true},
		{"ScoreBelow(10), never", funnel.ScoreBelow(10), mk("s", ev(lifecycle.SignedUp, rvT0, 0)), false},
		{"ScoreBelow(7), latest 9 after 3", funnel.ScoreBelow(7), mk("s", survey(3, rvT0), survey(9, rvH(1))), false},
		{"OpenTicket open", funnel.OpenTicket(), mk("t", ev(lifecycle.TicketOpened, rvH(2), 0), ev(lifecycle.TicketResolved, rvH(1), 0)), true},
		{"OpenTicket same instant", funnel.OpenTicket(), mk("t", ev(lifecycle.TicketOpened, rvH(1), 0), ev(lifecycle.TicketResolved, rvH(1), 0)), false},
		{"OpenTicket 2 opened 1 resolved", funnel.OpenTicket(), mk("t", ev(lifecycle.TicketOpened, rvH(1), 0), ev(lifecycle.TicketOpened, rvH(2), 0), ev(lifecycle.TicketResolved, rvH(3), 0)), false},
		{"OpenTicket no resolve", funnel.OpenTicket(), mk("t", ev(lifecycle.TicketOpened, rvH(1), 0)), true},
		{"Spent net", funnel.SpentAtLeast("EUR", 100), mk("m", ev(lifecycle.OrderCompleted, rvH(1), 150), ev(lifecycle.OrderRefunded, rvH(2), 60)), false},
		{"Spent exactly", funnel.SpentAtLeast("EUR", 90), mk("m", ev(lifecycle.OrderCompleted, rvH(1), 150), ev(lifecycle.OrderRefunded, rvH(2), 60)), true},
		{"InStage", funnel.InStage(model.Reach, model.Acquisition), mk("i", ev(lifecycle.SignedUp, rvT0, 0)), true},
		{"Not(InStage)", funnel.Not(funnel.InStage(model.Acquisition)), mk("i", ev(lifecycle.SignedUp, rvT0, 0)), false},
		{"All", funnel.All(funnel.InStage(model.Acquisition), funnel.HasEvent(lifecycle.SignedUp, 1)), mk("i", ev(lifecycle.SignedUp, rvT0, 0)), true},
		{"Any", funnel.Any(funnel.InStage(model.Loyalty), funnel.HasEvent(lifecycle.SignedUp, 2)), mk("i", ev(lifecycle.SignedUp, rvT0, 0)), false},
	}
	for _, c := range cases {
		if c.seg.Match == nil {
			t.Errorf("%s: nil Match", c.name)
			continue
		}
		if got := c.seg.Match(c.c); got != c.want {
			t.Errorf("%s: Match = %v, want %v", c.name, got, c.want)
		}
	}
	// Where at the classification time: last order at rvT0, AsOf 48h later
	// → Within(24h) false; AsOf zero → evaluated at the last event → true.
	w := funnel.Where(model.Within(24*time.Hour, lifecycle.OrderCompleted))
	c1 := mk("w", ev(lifecycle.OrderCompleted, rvT0, 0))
	c1.AsOf = rvH(48)
	c2 := mk("w", ev(lifecycle.OrderCompleted, rvT0, 0))
	c2.AsOf = time.Time{}
	if w.Match(c1) || !w.Match(c2) {
		t.Errorf("Where(Within 24h): AsOf+48h %v (want false), AsOf zero %v (want true)", w.Match(c1), w.Match(c2))
	}
	if w.Name != model.Within(24*time.Hour, lifecycle.OrderCompleted).String() {
		t.Errorf("Where Name = %q", w.Name)
	}
}

// TestContractPendingReferrerMatch: pending referrers are in no segment
// (docs/analytics.md): Filter, IDs and Only leave them out, whatever the
// segment's Match says of them (a Not of anything says true).
func TestContractPendingReferrerMatch(t *testing.T) {
	ctx := context.Background()
	p := &lifecycle.Customer{ID: "p", Facts: lifecycle.Facts{Referrals: []lifecycle.Referral{{Customer: "q", At: rvT0}}}}
	st := store.NewMemory()
	stored := p.Clone()
	stored.Version = 1
	if err := st.Put(ctx, stored, 0); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]funnel.Segment{
		"Not(InStage(reach))": funnel.Not(funnel.InStage(model.Reach)),
		"Where(Not(Count))":   funnel.Where(model.Not(model.Count(lifecycle.OrderCompleted, 1))),
		"Not(HasEvent)":       funnel.Not(funnel.HasEvent(lifecycle.OrderCompleted, 1)),
		"Where(Referrals(1))": funnel.Where(model.Referrals(1)),
		"InStage(\"\")":       funnel.InStage(""),
		"custom Match":        {Name: "all", Match: func(*lifecycle.Customer) bool { return true }},
	} {
		for _, err := range s.Filter(funnel.Customers([]*lifecycle.Customer{p})) {
			t.Errorf("%s.Filter yielded a pending referrer (err %v)", name, err)
		}
		for id, err := range s.IDs(ctx, st) {
			t.Errorf("%s.IDs yielded %q (err %v)", name, id, err)
		}
		rep, err := funnel.Analyze(ctx, rvSC(), funnel.Customers([]*lifecycle.Customer{p}), funnel.Only(s))
		if err != nil || rep.Customers != 0 {
			t.Errorf("%s: Only counted a pending referrer (%v)", name, err)
		}
	}
}

// TestContractAsOfZero: Report.AsOf zero means the stored state, so AsOf of
// the zero time is refused rather than reported as it.
func TestContractAsOfZero(t *testing.T) {
	_, err := funnel.Analyze(context.Background(), rvSC(), funnel.Customers(rvExample()), funnel.AsOf(time.Time{}))
	if !errors.Is(err, funnel.ErrInvalidInput) {
		t.Errorf("AsOf(time.Time{}): err %v, want ErrInvalidInput", err)
	}
}

// TestContractSingleStageGraph: one stage: conversion 0, stop rate 1.
func TestContractSingleStageGraph(t *testing.T) {
	g, err := stage.New([]stage.Stage{{ID: "only"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep := rvAnalyze(t, g, []*lifecycle.Customer{rvCust("a", 5, stage.ID("only"), 0)})
	s := rep.Stages[0]
	if s.Reached != 1 || s.Stopped != 1 || s.Conversion != 0 || s.StopRate != 1 || s.ToNext.N != 0 || s.FromStart.N != 0 || s.Open.N != 1 {
		t.Errorf("single stage = %+v", s)
	}
}

// TestContractNoEmptyCohorts: customers left out (not entered at AsOf, not
// matching Only, refused for an unknown stage) are "not counted anywhere":
// their key makes no cohort.
func TestContractNoEmptyCohorts(t *testing.T) {
	key := func(c *lifecycle.Customer) string { return c.ID }
	rep := rvAnalyze(t, rvSC(), rvExample(), funnel.CohortBy(key), funnel.AsOf(rvH(0.5)))
	for _, c := range rep.Cohorts {
		if c.Customers == 0 {
			t.Errorf("AsOf: empty cohort %q for a customer not yet entered", c.Key)
		}
	}
	rep = rvAnalyze(t, rvSC(), rvExample(), funnel.CohortBy(key), funnel.Only(funnel.InStage(model.Conversion)))
	for _, c := range rep.Cohorts {
		if c.Customers == 0 {
			t.Errorf("Only: empty cohort %q for a customer outside the segment", c.Key)
		}
	}
	a, _ := funnel.New(rvSC(), funnel.CohortBy(key))
	bad := rvCust("ghost", 1, model.Reach, 0)
	bad.Stage = "nope"
	_ = a.Add(bad)
	if cs := a.Report().Cohorts; len(cs) != 0 {
		t.Errorf("refused customer made cohort(s) %+v", cs)
	}
}

// TestContractTimeTableRows: rows per stage and measure in order to_next,
// from_start, stay, open; values of the hand example.
func TestContractTimeTableRows(t *testing.T) {
	rep := rvAnalyze(t, rvSC(), rvExample())
	tt := rep.TimeTable()
	wantHdr := []string{"stage", "measure", "n", "min", "p25", "p50", "p75", "p90", "median", "max", "mean"}
	if !reflect.DeepEqual(tt.Header, wantHdr) {
		t.Fatalf("header = %v", tt.Header)
	}
	var order []string
	for _, r := range tt.Rows[:8] {
		order = append(order, r[0]+"/"+r[1])
	}
	if !reflect.DeepEqual(order, []string{"reach/to_next", "reach/from_start", "reach/stay", "reach/open", "acquisition/to_next", "acquisition/from_start", "acquisition/stay", "acquisition/open"}) {
		t.Errorf("row order = %v", order)
	}
	want := []string{"reach", "to_next", "3", "1h0m0s", "1h0m0s", "2h0m0s", "4h0m0s", "4h0m0s", "2h0m0s", "4h0m0s", "2h20m0s"}
	if !reflect.DeepEqual(tt.Rows[0], want) {
		t.Errorf("reach/to_next = %q, want %q", tt.Rows[0], want)
	}
	t.Logf("empty row: %q", tt.Rows[1])
	for _, c := range tt.Rows[1][3:] {
		if c != "" {
			t.Errorf("empty dist row %q: cells should be \"\"", tt.Rows[1])
			break
		}
	}
}

// TestContractOffPathFirstInList: an exit placed first in the list; the first
// *path* stage is "a".
func TestContractOffPathFirstInList(t *testing.T) {
	g, err := stage.New([]stage.Stage{{ID: "lost", Kind: stage.Exit}, {ID: "a"}, {ID: "b"}},
		[]stage.Edge{{From: "lost", To: "a", Kind: stage.Recover}, {From: "a", To: "b", Kind: stage.Advance}, {From: "a", To: "lost", Kind: stage.Fall}})
	if err != nil {
		t.Skipf("graph refused: %v", err)
	}
	cs := []*lifecycle.Customer{
		rvCust("x", 10, stage.ID("a"), 1, stage.ID("b"), 4),
		rvCust("y", 10, stage.ID("a"), 0, stage.ID("lost"), 2),
	}
	rep := rvAnalyze(t, g, cs)
	a := rvStage(t, &rep.Funnel, "a")
	b := rvStage(t, &rep.Funnel, "b")
	l := rvStage(t, &rep.Funnel, "lost")
	if a.Reached != 2 || b.Reached != 1 || a.Stopped != 1 || a.Conversion != 0.5 || l.Reached != 1 || l.Stopped != 1 || l.Conversion != 0 {
		t.Errorf("a %+v b %+v lost %+v", a, b, l)
	}
	rvCheckDist(t, "a.FromStart", a.FromStart, nil)
	rvCheckDist(t, "a.ToNext", a.ToNext, rvHours(3))
	rvCheckDist(t, "b.FromStart", b.FromStart, rvHours(3))
	rvCheckDist(t, "lost.FromStart", l.FromStart, rvHours(2))
	tab := rep.Table()
	if !reflect.DeepEqual(tab.Header[:3], []string{"cohort", "stage", "kind"}) {
		t.Errorf("Report.Table header = %v", tab.Header)
	}
	if !strings.Contains(tab.String(), "exit") {
		t.Errorf("no kind in String")
	}
}

// TestContractRetentionUntilZero: Until of the zero time is the default end
// of observation.
func TestContractRetentionUntilZero(t *testing.T) {
	zero, err := funnel.Retention(rvOrders(), funnel.Month, funnel.Until(time.Time{}))
	if err != nil {
		t.Fatal(err)
	}
	def, err := funnel.Retention(rvOrders(), funnel.Month)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(zero, def) {
		t.Errorf("Until(zero) = %+v, the default %+v", zero, def)
	}
}

// TestContractStoredEqualsExactRetention: docs/analytics.md: for
// SterneCutler with repeat = retention, on an order stream without refunds,
// StoredRetention's Repeated equals the exact table's (and Retained, by the
// same meaning). Random streams, recorded in random order.
func TestContractStoredEqualsExactRetention(t *testing.T) {
	for _, inOrder := range []bool{true, false} {
		t.Run(fmt.Sprintf("inOrder=%v", inOrder), func(t *testing.T) { rvStoredVsExact(t, inOrder) })
	}
}

func rvStoredVsExact(t *testing.T, inOrder bool) {
	ctx := context.Background()
	rng := rand.New(rand.NewSource(7))
	base := time.Date(2025, 11, 20, 0, 0, 0, 0, time.UTC)
	for round := 0; round < 20; round++ {
		st := store.NewMemory()
		tr := lifecycle.NewTracker(model.SterneCutler(), st)
		var events []lifecycle.Event
		for c := 0; c < 25; c++ {
			n := 1 + rng.Intn(4)
			for i := 0; i < n; i++ {
				at := base.Add(time.Duration(rng.Int63n(int64(300 * 24 * time.Hour))))
				if rng.Intn(6) == 0 && i > 0 {
					at = events[len(events)-1].Time // same instant as the previous order
				}
				events = append(events, lifecycle.Event{ID: fmt.Sprintf("e%d-%d", c, i), CustomerID: fmt.Sprintf("c%d", c),
					Type: lifecycle.OrderCompleted, Time: at, Amount: int64(1 + rng.Intn(500)), Currency: "EUR"})
			}
		}
		perm := rng.Perm(len(events))
		if inOrder {
			sort.SliceStable(perm, func(i, j int) bool { return events[perm[i]].Time.Before(events[perm[j]].Time) })
		}
		for _, i := range perm {
			if _, err := tr.Record(ctx, events[i]); err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range []funnel.Period{funnel.Month, funnel.Week} {
			exact, err := funnel.Retention(funnel.OrdersFrom(events), p)
			if err != nil {
				t.Fatal(err)
			}
			stored, err := funnel.StoredRetention(ctx, model.SterneCutler().Stages(), model.Retention, st.Scan(ctx), p)
			if err != nil {
				t.Fatal(err)
			}
			if !exact.Until.Equal(stored.Until) || len(exact.Cohorts) != len(stored.Cohorts) {
				t.Fatalf("round %d %v: Until %v/%v, cohorts %d/%d", round, p, exact.Until, stored.Until, len(exact.Cohorts), len(stored.Cohorts))
			}
			for i := range exact.Cohorts {
				e, s := exact.Cohorts[i], stored.Cohorts[i]
				if !inOrder {
					// Recorded out of time order, a move carries the latest
					// time recorded by then: the stored repeat falls in the
					// exact one's period or a later one.
					later := len(e.Repeated) == len(s.Repeated)
					for k := range s.Repeated {
						later = later && s.Repeated[k] <= e.Repeated[k]
					}
					if e.Key != s.Key || e.Customers != s.Customers || !later || !reflect.DeepEqual(e.Retained, s.Retained) || e.TotalRevenue != s.TotalRevenue {
						t.Errorf("round %d %v cohort %s:\nexact  Repeated %v Retained %v\nstored Repeated %v Retained %v", round, p, e.Key, e.Repeated, e.Retained, s.Repeated, s.Retained)
						return
					}
					continue
				}
				if e.Key != s.Key || e.Customers != s.Customers || !reflect.DeepEqual(e.Repeated, s.Repeated) || !reflect.DeepEqual(e.Retained, s.Retained) || e.TotalRevenue != s.TotalRevenue {
					t.Errorf("round %d %v cohort %s:\nexact  Repeated %v Retained %v\nstored Repeated %v Retained %v", round, p, e.Key, e.Repeated, e.Retained, s.Repeated, s.Retained)
					return
				}
			}
		}
	}
}

// TestContractMeanExactLarge: "Mean is the arithmetic mean, rounded to the
// nanosecond" and Dist "summarises exactly": with durations near 2^62 ns
// (146 years) that differ by a few nanoseconds, the mean must be exact.
func TestContractMeanExactLarge(t *testing.T) {
	start := time.Date(1880, 1, 1, 0, 0, 0, 0, time.UTC)
	base := time.Duration(1 << 62)
	for _, c := range []struct {
		offs []time.Duration
		mean time.Duration
	}{
		{[]time.Duration{0, 1, 2}, base + 1},
		{[]time.Duration{0, 0, 1}, base},
		{[]time.Duration{0, 2, 2}, base + 1},
		{[]time.Duration{7, 7, 7, 7, 7}, base + 7},
		{[]time.Duration{0, 300, 301}, base + 200},
	} {
		var cs []*lifecycle.Customer
		for i, o := range c.offs {
			end := start.Add(base + o)
			cs = append(cs, &lifecycle.Customer{ID: fmt.Sprint(i), Stage: model.Acquisition, Since: end, AsOf: end,
				Facts:   lifecycle.Facts{First: start, Last: end},
				History: []lifecycle.Transition{{To: model.Reach, At: start}, {From: model.Reach, To: model.Acquisition, At: end}}})
		}
		rep := rvAnalyze(t, rvSC(), cs)
		d := rvStage(t, &rep.Funnel, model.Reach).ToNext
		if d.Mean != c.mean {
			t.Errorf("mean of base+%v = base%+d ns, want base%+d ns", c.offs, d.Mean-base, c.mean-base)
		}
		if d.Min != base+c.offs[0] || d.Max != base+c.offs[len(c.offs)-1] {
			t.Errorf("min/max wrong: %v %v", d.Min-base, d.Max-base)
		}
	}
}

// TestContractStoreEndToEnd: a Tracker-built store; AnalyzeStore, IDs and the
// hand-computable numbers.
//
//	u1: signed_up d0 (→ acquisition), order d1 (→ conversion), order d3 (→ retention)
//	u2: site_visited d0 (→ reach), signed_up d2 (→ acquisition)
//	u3: order d5 (→ conversion)
func TestContractStoreEndToEnd(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	tr := lifecycle.NewTracker(model.SterneCutler(), st)
	day := func(n int) time.Time { return time.Date(2026, 1, 30, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n) }
	evs := []lifecycle.Event{
		{ID: "1", CustomerID: "u1", Type: lifecycle.SignedUp, Time: day(0)},
		{ID: "2", CustomerID: "u1", Type: lifecycle.OrderCompleted, Time: day(1), Amount: 10, Currency: "EUR"},
		{ID: "3", CustomerID: "u1", Type: lifecycle.OrderCompleted, Time: day(3), Amount: 10, Currency: "EUR"},
		{ID: "4", CustomerID: "u2", Type: lifecycle.SiteVisited, Time: day(0)},
		{ID: "5", CustomerID: "u2", Type: lifecycle.SignedUp, Time: day(2)},
		{ID: "6", CustomerID: "u3", Type: lifecycle.OrderCompleted, Time: day(5), Amount: 10, Currency: "EUR"},
	}
	for _, e := range evs {
		if _, err := tr.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := funnel.AnalyzeStore(ctx, model.SterneCutler().Stages(), st, funnel.CohortBy(funnel.FirstSeen(funnel.Month)))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][4]int{}
	for _, s := range rep.Stages {
		got[string(s.Stage)] = [4]int{s.Current, s.Entered, s.Reached, s.Stopped}
	}
	want := map[string][4]int{
		"reach":       {0, 1, 3, 0},
		"acquisition": {1, 2, 3, 1},
		"conversion":  {1, 2, 2, 1},
		"retention":   {1, 1, 1, 1},
		"loyalty":     {0, 0, 0, 0},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	rvCheckDist(t, "reach.ToNext", rvStage(t, &rep.Funnel, model.Reach).ToNext, []time.Duration{48 * time.Hour})
	rvCheckDist(t, "acquisition.ToNext", rvStage(t, &rep.Funnel, model.Acquisition).ToNext, []time.Duration{24 * time.Hour})
	rvCheckDist(t, "conversion.ToNext", rvStage(t, &rep.Funnel, model.Conversion).ToNext, []time.Duration{48 * time.Hour})
	// Open measured to each customer's own AsOf: u1 0 (entered retention at
	// its last event), u2 0, u3 0.
	rvCheckDist(t, "retention.Open", rvStage(t, &rep.Funnel, model.Retention).Open, []time.Duration{0})
	var keys []string
	for _, c := range rep.Cohorts {
		keys = append(keys, fmt.Sprint(c.Key, ":", c.Customers))
	}
	if fmt.Sprint(keys) != "[2026-01:2 2026-02:1]" {
		t.Errorf("cohorts = %v", keys)
	}
	var ids []string
	for id, err := range funnel.HasEvent(lifecycle.OrderCompleted, 1).IDs(ctx, st) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	sort.Strings(ids)
	if fmt.Sprint(ids) != "[u1 u3]" {
		t.Errorf("IDs = %v", ids)
	}
	// AsOf day 2 (inclusive): u1 conversion, u2 acquisition (entered at d2),
	// u3 not yet.
	rep, err = funnel.AnalyzeStore(ctx, model.SterneCutler().Stages(), st, funnel.AsOf(day(2)))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Customers != 2 || rvStage(t, &rep.Funnel, model.Conversion).Current != 1 || rvStage(t, &rep.Funnel, model.Acquisition).Current != 1 {
		t.Errorf("AsOf d2: %+v", rep.Stages)
	}
	rvCheckDist(t, "conversion.Open AsOf", rvStage(t, &rep.Funnel, model.Conversion).Open, []time.Duration{24 * time.Hour})
}

// TestContractConcurrentWritesDuringAnalyzeStore: analysing while a Tracker
// writes must not panic and must keep Customers = Σ Current.
func TestContractConcurrentWritesDuringAnalyzeStore(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	tr := lifecycle.NewTracker(model.SterneCutler(), st)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 400; i++ {
				_, _ = tr.Record(ctx, lifecycle.Event{ID: fmt.Sprint(w, "-", i), CustomerID: fmt.Sprint("c", i%50), Type: lifecycle.OrderCompleted,
					Time: base.Add(time.Duration(i) * time.Hour), Amount: 1, Currency: "EUR"})
			}
		}(w)
	}
	for k := 0; k < 20; k++ {
		rep, err := funnel.AnalyzeStore(ctx, model.SterneCutler().Stages(), st, funnel.CohortBy(funnel.FirstOrder(funnel.Week)))
		if err != nil {
			t.Fatal(err)
		}
		sum := 0
		for _, s := range rep.Stages {
			sum += s.Current
		}
		if sum != rep.Customers || rep.Customers > 50 {
			t.Errorf("Customers %d, Σ Current %d", rep.Customers, sum)
		}
	}
	wg.Wait()
}

// TestContractDocSegmentExamples: the segments of docs/analytics.md are valid.
func TestContractDocSegmentExamples(t *testing.T) {
	for name, s := range map[string]funnel.Segment{
		"loyalBeauty": funnel.All(funnel.InStage(model.Loyalty), funnel.HasEvent("shop.beauty_purchased", 1)),
		"atRisk":      funnel.All(funnel.InStage(model.Acquisition), funnel.HasEvent(lifecycle.OrderCompleted, 1), funnel.OpenTicket()),
		"channel":     funnel.HasEvent("shop.channel_ads", 1),
	} {
		if _, err := funnel.New(model.SterneCutler().Stages(), funnel.Only(s)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestContractAnalyzeStopsAtError: "It stops at the first error the sequence
// yields": the sequence is not read further.
func TestContractAnalyzeStopsAtError(t *testing.T) {
	boom := errors.New("boom")
	more := 0
	seq := func(yield func(*lifecycle.Customer, error) bool) {
		if !yield(nil, boom) {
			return
		}
		more++
		yield(rvCust("late", 1, model.Reach, 0), nil)
	}
	if _, err := funnel.Analyze(context.Background(), rvSC(), seq); !errors.Is(err, boom) || more != 0 {
		t.Errorf("err %v, read on %d times", err, more)
	}
	ghost := rvCust("g", 1, model.Reach, 0)
	ghost.Stage = "ghost"
	more = 0
	seq2 := func(yield func(*lifecycle.Customer, error) bool) {
		if !yield(ghost, nil) {
			return
		}
		more++
	}
	if _, err := funnel.Analyze(context.Background(), rvSC(), seq2); !errors.Is(err, funnel.ErrUnknownStage) || more != 0 {
		t.Errorf("err %v, read on %d times", err, more)
	}
}
