package flywheel_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clmkit/clm/flywheel"
)

// reviewBound runs f with a timeout, failing the test if it does not return.
func reviewBound(t *testing.T, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	var pv any
	go func() {
		defer close(done)
		defer func() { pv = recover() }()
		f()
	}()
	select {
	case <-done:
		if pv != nil {
			t.Fatalf("panic: %v", pv)
		}
	case <-time.After(d):
		t.Fatalf("call did not return within %s", d)
	}
}

// reviewHand is an independent implementation of the documented expected-value
// recurrence (Params doc): per rotation, paid + Referrals×referring
// prospects pass the funnel; new advocates refer from Lag rotations later,
// and after each referring rotation a share AdvocateChurn stops.
func reviewHand(p flywheel.Params) [][flywheel.NumMetrics]float64 {
	out := make([][flywheel.NumMetrics]float64, p.Rotations)
	newAdv := make([]float64, p.Rotations)
	var pool, customers float64 // pool: advocates who have referred at least once and still advocate
	for t := 0; t < p.Rotations; t++ {
		starting := 0.0
		if t-p.Lag >= 0 {
			starting = newAdv[t-p.Lag]
		}
		referring := pool + starting
		paid := p.PaidProspects
		referred := p.Referrals * referring
		aP := paid * p.Conversion[0]
		aR := referred * p.ReferredConversion
		nP := aP * p.Conversion[1]
		nR := aR * p.Conversion[1]
		ret := (nP + nR) * p.Conversion[2]
		na := ret * p.Conversion[3]
		newAdv[t] = na
		pool = referring * (1 - p.AdvocateChurn)
		waiting := 0.0
		for s := max(0, t-p.Lag+1); s <= t; s++ {
			waiting += newAdv[s]
		}
		k := math.NaN()
		if customers > 0 {
			k = nR / customers
		}
		customers += nP + nR
		spend := paid * p.SpendPerProspect
		cac := math.NaN()
		if nP+nR > 0 {
			cac = spend / (nP + nR)
		}
		out[t] = [flywheel.NumMetrics]float64{
			flywheel.PaidProspects: paid, flywheel.ReferredProspects: referred, flywheel.Engaged: paid + referred,
			flywheel.Acquired: aP + aR, flywheel.NewCustomers: nP + nR, flywheel.Retained: ret,
			flywheel.NewAdvocates: na, flywheel.Advocates: pool + waiting, flywheel.ReferringAdvocates: referring,
			flywheel.NewReferrals: nR, flywheel.Customers: customers, flywheel.ViralK: k,
			flywheel.Spend: spend, flywheel.AcquisitionCost: cac,
		}
	}
	return out
}

func reviewClose(a, b, tol float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b))
}

func TestReviewExpectedMatchesHandRecurrence(t *testing.T) {
	cases := []flywheel.Params{
		flywheel.LiteratureExample(),
		{Rotations: 9, PaidProspects: 37.5, Conversion: [4]float64{0.3, 0.8, 0.55, 0.9}, ReferredConversion: 0.95, Referrals: 2.2, AdvocateChurn: 0.35, Lag: 3, SpendPerProspect: 7},
		{Rotations: 7, PaidProspects: 10, Conversion: [4]float64{1, 1, 1, 1}, ReferredConversion: 0.2, Referrals: 0.7, AdvocateChurn: 1, Lag: 2, SpendPerProspect: 0},
		{Rotations: 5, PaidProspects: 0, Conversion: [4]float64{1, 1, 1, 1}, ReferredConversion: 1, Referrals: 3, AdvocateChurn: 0, Lag: 1},
		{Rotations: 6, PaidProspects: 1, Conversion: [4]float64{0.5, 0.5, 0.5, 0.5}, ReferredConversion: 0, Referrals: 5, AdvocateChurn: 0.5, Lag: 10, SpendPerProspect: 1},
	}
	for ci, p := range cases {
		var res *flywheel.Result
		var err error
		reviewBound(t, 5*time.Second, func() { res, err = flywheel.Expected(p) })
		if err != nil {
			t.Fatalf("case %d: %v", ci, err)
		}
		want := reviewHand(p)
		for i, rot := range res.Rotations {
			if rot.N != i+1 {
				t.Errorf("case %d: rotation %d has N %d", ci, i, rot.N)
			}
			for m := range flywheel.NumMetrics {
				if got := rot.Mean(flywheel.Metric(m)); !reviewClose(got, want[i][m], 1e-12) {
					t.Errorf("case %d rotation %d %s: got %.15g, hand %.15g", ci, i+1, flywheel.Metric(m), got, want[i][m])
				}
			}
		}
	}
}

// Monte Carlo means converge to the exact expectation, here with lag,
// churn, a different referred conversion and a fractional constant inflow.
func TestReviewMonteCarloConvergesToExpected(t *testing.T) {
	p := flywheel.Params{Rotations: 8, PaidProspects: 12.4, Conversion: [4]float64{0.7, 0.6, 0.5, 0.9}, ReferredConversion: 0.3, Referrals: 1.8, AdvocateChurn: 0.25, Lag: 2, SpendPerProspect: 4}
	ev, err := flywheel.Expected(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, inflow := range []flywheel.Inflow{nil, flywheel.ConstantInflow(), flywheel.PoissonInflow()} {
		var mc *flywheel.Result
		reviewBound(t, 30*time.Second, func() {
			mc, err = flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(3000), flywheel.Seed(11), flywheel.PaidInflow(inflow), flywheel.Workers(2))
		})
		if err != nil {
			t.Fatal(err)
		}
		for i := range ev.Rotations {
			for m := range flywheel.NumMetrics {
				if flywheel.Metric(m) == flywheel.ViralK || flywheel.Metric(m) == flywheel.AcquisitionCost {
					continue
				}
				st := mc.Rotations[i].Stats[m]
				want := ev.Rotations[i].Stats[m].Mean
				if math.Abs(st.Mean-want) > 5*st.StdErr+1e-9 {
					t.Errorf("rotation %d %s: mc %.4f ± %.4f, expected %.4f", i+1, flywheel.Metric(m), st.Mean, st.StdErr, want)
				}
			}
		}
	}
}

func reviewBits(r *flywheel.Result) string {
	var b strings.Builder
	for _, rot := range r.Rotations {
		for _, st := range rot.Stats {
			fmt.Fprintf(&b, "%x %x %d", math.Float64bits(st.Mean), math.Float64bits(st.StdErr), st.N)
			for _, q := range st.Quantiles {
				fmt.Fprintf(&b, " %x", math.Float64bits(q))
			}
			b.WriteByte(';')
		}
	}
	return b.String()
}

func TestReviewMonteCarloWorkersIdentical(t *testing.T) {
	p := flywheel.Params{Rotations: 6, PaidProspects: 20.5, Conversion: [4]float64{0.7, 0.6, 0.5, 0.9}, ReferredConversion: 0.3, Referrals: 1.8, AdvocateChurn: 0.25, Lag: 2, SpendPerProspect: 4}
	geometric := func(r *rand.Rand, mean float64) int {
		n := 0
		for r.Float64() < mean/(1+mean) {
			n++
		}
		return n
	}
	for _, inflow := range []flywheel.Inflow{nil, flywheel.ConstantInflow(), geometric} {
		var ref string
		for _, w := range []int{1, 2, 3, 16, 0} {
			var mc *flywheel.Result
			var err error
			reviewBound(t, 20*time.Second, func() {
				mc, err = flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(777), flywheel.Seed(99), flywheel.PaidInflow(inflow),
					flywheel.Workers(w), flywheel.Quantiles(0.9, 0.01, 0.5), flywheel.Progress(func(int, int) {}))
			})
			if err != nil {
				t.Fatal(err)
			}
			b := reviewBits(mc)
			if ref == "" {
				ref = b
			} else if b != ref {
				t.Errorf("workers %d: results differ", w)
			}
		}
	}
}

// Quantiles are type-7 over the runs; mean and standard error as documented.
func TestReviewMonteCarloStatsByHand(t *testing.T) {
	p := flywheel.Params{Rotations: 1, PaidProspects: 50, Lag: 1, SpendPerProspect: 1}
	var mu sync.Mutex
	var draws []float64
	inflow := func(r *rand.Rand, mean float64) int {
		n := r.IntN(7) * r.IntN(9) // many ties
		mu.Lock()
		draws = append(draws, float64(n))
		mu.Unlock()
		return n
	}
	qs := []float64{0.013, 0.25, 0.5, 0.77, 0.999, 0.05}
	var mc *flywheel.Result
	var err error
	reviewBound(t, 10*time.Second, func() {
		mc, err = flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(1001), flywheel.Seed(5), flywheel.PaidInflow(inflow), flywheel.Quantiles(qs...), flywheel.Workers(1))
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(draws) != 1001 {
		t.Fatalf("%d draws", len(draws))
	}
	sorted := slices.Clone(draws)
	slices.Sort(sorted)
	var sum float64
	for _, x := range draws {
		sum += x
	}
	mean := sum / float64(len(draws))
	var ss float64
	for _, x := range draws {
		ss += (x - mean) * (x - mean)
	}
	se := math.Sqrt(ss/float64(len(draws)-1)) / math.Sqrt(float64(len(draws)))
	st := mc.Rotations[0].Stats[flywheel.PaidProspects]
	if !reviewClose(st.Mean, mean, 1e-12) || !reviewClose(st.StdErr, se, 1e-9) || st.N != 1001 {
		t.Errorf("stat %+v, want mean %g se %g", st, mean, se)
	}
	for i, q := range qs {
		h := float64(len(sorted)-1) * q
		lo := int(math.Floor(h))
		want := sorted[lo]
		if lo+1 < len(sorted) {
			want += (h - float64(lo)) * (sorted[lo+1] - sorted[lo])
		}
		if !reviewClose(st.Quantiles[i], want, 1e-12) {
			t.Errorf("quantile %g: %g, want %g", q, st.Quantiles[i], want)
		}
	}
}

func reviewWantInvalid(t *testing.T, what string, err error, mentions ...string) {
	t.Helper()
	if !errors.Is(err, flywheel.ErrInvalidParams) {
		t.Errorf("%s: error %v does not wrap ErrInvalidParams", what, err)
		return
	}
	for _, m := range mentions {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("%s: error %q does not mention %q", what, err, m)
		}
	}
}

func TestReviewHostileOptions(t *testing.T) {
	ctx := context.Background()
	p := flywheel.LiteratureExample()
	mcs := map[string]struct {
		opt      flywheel.MonteCarloOption
		mentions []string
	}{
		"runs0":    {flywheel.Runs(0), []string{"Runs", "0"}},
		"runs-5":   {flywheel.Runs(-5), []string{"Runs", "-5"}},
		"runsHuge": {flywheel.Runs(math.MaxInt), []string{"Runs"}},
		"workers":  {flywheel.Workers(-1), []string{"Workers", "-1"}},
		"q0":       {flywheel.Quantiles(0), []string{"Quantiles", "0"}},
		"q1":       {flywheel.Quantiles(0.5, 1), []string{"Quantiles[1]", "1"}},
		"qNaN":     {flywheel.Quantiles(math.NaN()), []string{"Quantiles", "NaN"}},
		"qInf":     {flywheel.Quantiles(math.Inf(-1)), []string{"Quantiles", "-Inf"}},
	}
	for name, c := range mcs {
		var err error
		reviewBound(t, 5*time.Second, func() { _, err = flywheel.MonteCarlo(ctx, p, c.opt) })
		reviewWantInvalid(t, name, err, c.mentions...)
	}
	ags := map[string]struct {
		opt      flywheel.AgentOption
		mentions []string
	}{
		"every0":     {flywheel.Every(0), []string{"Every"}},
		"everyNeg":   {flywheel.Every(-time.Hour), []string{"Every", "-1h"}},
		"every59s":   {flywheel.Every(59 * time.Second), []string{"Every", "59s"}},
		"maxEvents0": {flywheel.MaxEvents(0), []string{"MaxEvents", "0"}},
		"startZero":  {flywheel.StartAt(time.Time{}), []string{"0001"}},
		"startFar":   {flywheel.StartAt(time.Date(9999, 12, 1, 0, 0, 0, 0, time.UTC)), []string{"9999"}},
	}
	for name, c := range ags {
		var err error
		reviewBound(t, 5*time.Second, func() { _, err = flywheel.Agent(ctx, p, c.opt) })
		reviewWantInvalid(t, name, err, c.mentions...)
	}
	// A hostile inflow.
	for name, f := range map[string]flywheel.Inflow{
		"negative": func(*rand.Rand, float64) int { return -1 },
		"huge":     func(*rand.Rand, float64) int { return flywheel.MaxPopulation + 1 },
	} {
		var err error
		reviewBound(t, 5*time.Second, func() { _, err = flywheel.MonteCarlo(ctx, p, flywheel.Runs(10), flywheel.PaidInflow(f)) })
		reviewWantInvalid(t, "mc inflow "+name, err)
		reviewBound(t, 5*time.Second, func() { _, err = flywheel.Agent(ctx, p, flywheel.PaidInflow(f)) })
		reviewWantInvalid(t, "agent inflow "+name, err)
		reviewBound(t, 5*time.Second, func() {
			_, err = flywheel.Sweep(ctx, p, []flywheel.Outcome{flywheel.CustomersAfter(3)}, []flywheel.Axis{{Param: "paid", Values: []float64{1}}},
				flywheel.SweepMode(flywheel.ModeMonteCarlo), flywheel.Runs(10), flywheel.PaidInflow(f))
		})
		reviewWantInvalid(t, "sweep inflow "+name, err)
	}
}

func TestReviewHostileParams(t *testing.T) {
	ctx := context.Background()
	type c struct {
		set  func(*flywheel.Params)
		name string
		val  string
	}
	var cases []c
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), -1, 1.5} {
		vs := strconv.FormatFloat(v, 'g', -1, 64)
		cases = append(cases,
			c{func(p *flywheel.Params) { p.Conversion[2] = v }, "Conversion[NurtureToRetain]", vs},
			c{func(p *flywheel.Params) { p.ReferredConversion = v }, "ReferredConversion", vs},
			c{func(p *flywheel.Params) { p.AdvocateChurn = v }, "AdvocateChurn", vs},
		)
		if v != 1.5 {
			cases = append(cases,
				c{func(p *flywheel.Params) { p.PaidProspects = v }, "PaidProspects", vs},
				c{func(p *flywheel.Params) { p.Referrals = v }, "Referrals", vs},
				c{func(p *flywheel.Params) { p.SpendPerProspect = v }, "SpendPerProspect", vs},
			)
		}
	}
	cases = append(cases,
		c{func(p *flywheel.Params) { p.PaidProspects = 1e300 }, "PaidProspects", "1e+300"},
		c{func(p *flywheel.Params) { p.Rotations = -3 }, "Rotations", "-3"},
		c{func(p *flywheel.Params) { p.Rotations = flywheel.MaxRotations + 1 }, "Rotations", "10001"},
		c{func(p *flywheel.Params) { p.Lag = 0 }, "Lag", "0"},
		c{func(p *flywheel.Params) { p.Lag = math.MinInt }, "Lag", ""},
	)
	for _, cs := range cases {
		p := flywheel.LiteratureExample()
		cs.set(&p)
		var errs [4]error
		reviewBound(t, 5*time.Second, func() {
			_, errs[0] = flywheel.Expected(p)
			_, errs[1] = flywheel.MonteCarlo(ctx, p, flywheel.Runs(2))
			_, errs[2] = flywheel.Agent(ctx, p)
			ax := "spend"
			if cs.name == "SpendPerProspect" {
				ax = "lag"
			}
			v, _ := p.Get(ax)
			_, errs[3] = flywheel.Sweep(ctx, p, []flywheel.Outcome{flywheel.CustomersAfter(1)}, []flywheel.Axis{{Param: ax, Values: []float64{v}}})
		})
		for i, err := range errs {
			reviewWantInvalid(t, fmt.Sprintf("%s=%s mode %d", cs.name, cs.val, i), err, cs.name, cs.val)
		}
	}
}

// MaxPopulation bounds every simulated count; a simulation that passes it
// stops with ErrDiverged.
func TestReviewCountsPastMaxPopulation(t *testing.T) {
	p := flywheel.Params{Rotations: 3, PaidProspects: flywheel.MaxPopulation, Conversion: [4]float64{1e-12, 1, 1, 1},
		ReferredConversion: 0, Referrals: 1, Lag: 1}
	res, err := flywheel.Expected(p)
	if err == nil {
		for _, rot := range res.Rotations {
			for m := range flywheel.NumMetrics {
				mm := flywheel.Metric(m)
				if mm == flywheel.Spend || mm == flywheel.AcquisitionCost || mm == flywheel.ViralK {
					continue
				}
				if v := rot.Mean(mm); v > flywheel.MaxPopulation {
					t.Errorf("Expected: rotation %d %s = %.17g > 2^50 and no ErrDiverged", rot.N, mm, v)
				}
			}
		}
	} else if !errors.Is(err, flywheel.ErrDiverged) {
		t.Errorf("Expected: %v", err)
	}
}

// The default inflow and PoissonInflow() are the same draws; a draw above
// 2^50 stops the run with ErrDiverged (documented for the inflow).
func TestReviewDefaultInflowSameAsPoisson(t *testing.T) {
	p := flywheel.Params{Rotations: 1, PaidProspects: flywheel.MaxPopulation, Lag: 1}
	ctx := context.Background()
	var errDef, errPoi error
	var rDef *flywheel.Result
	reviewBound(t, 10*time.Second, func() {
		rDef, errDef = flywheel.MonteCarlo(ctx, p, flywheel.Runs(20), flywheel.Seed(1))
		_, errPoi = flywheel.MonteCarlo(ctx, p, flywheel.Runs(20), flywheel.Seed(1), flywheel.PaidInflow(flywheel.PoissonInflow()))
	})
	if (errDef == nil) != (errPoi == nil) {
		extra := ""
		if rDef != nil {
			extra = fmt.Sprintf("; default max paid prospects %.17g (2^50 = %d)", rDef.Rotations[0].Stats[flywheel.PaidProspects].Quantiles[2], flywheel.MaxPopulation)
		}
		t.Errorf("default inflow error %v, PoissonInflow() error %v%s", errDef, errPoi, extra)
	}
}

// Progress: done increases from call to call (also in a Monte Carlo sweep).
func TestReviewSweepProgressIncreases(t *testing.T) {
	var calls [][2]int
	var err error
	reviewBound(t, 10*time.Second, func() {
		_, err = flywheel.Sweep(context.Background(), flywheel.LiteratureExample(), []flywheel.Outcome{flywheel.CustomersAfter(3)},
			[]flywheel.Axis{{Param: "referrals", Values: []float64{0.5, 1, 1.5}}},
			flywheel.SweepMode(flywheel.ModeMonteCarlo), flywheel.Runs(200), flywheel.Workers(1),
			flywheel.Progress(func(done, total int) { calls = append(calls, [2]int{done, total}) }))
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(calls); i++ {
		if calls[i][0] <= calls[i-1][0] {
			t.Fatalf("progress call %d: done %d after %d (calls %v...)", i, calls[i][0], calls[i-1][0], calls[max(0, i-3):i+1])
		}
	}
}

func TestReviewResultCSVShape(t *testing.T) {
	p := flywheel.LiteratureExample()
	p.Rotations = 4
	ev, _ := flywheel.Expected(p)
	mc, err := flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(50), flywheel.Quantiles(0.025, 0.975, 0.5))
	if err != nil {
		t.Fatal(err)
	}
	ag, err := flywheel.Agent(context.Background(), p, flywheel.Seed(3))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*flywheel.Result{ev, mc, ag.Result} {
		var buf bytes.Buffer
		if err := r.WriteCSV(&buf); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", r.Mode, err)
		}
		per := 1
		if r.Mode == flywheel.ModeMonteCarlo {
			per = 2 + len(r.Quantiles)
		}
		if len(recs) != 1+p.Rotations || len(recs[0]) != 1+per*flywheel.NumMetrics {
			t.Fatalf("%s: %d rows, %d columns", r.Mode, len(recs), len(recs[0]))
		}
		if r.Mode == flywheel.ModeMonteCarlo {
			want := []string{"paid_prospects", "paid_prospects_se", "paid_prospects_p2.5", "paid_prospects_p97.5", "paid_prospects_p50"}
			if !slices.Equal(recs[0][1:6], want) {
				t.Errorf("header %v, want %v", recs[0][1:6], want)
			}
		}
		for i, rec := range recs[1:] {
			if rec[0] != strconv.Itoa(i+1) {
				t.Errorf("row %d rotation %q", i, rec[0])
			}
			for _, f := range rec[1:] {
				if _, err := strconv.ParseFloat(f, 64); err != nil {
					t.Errorf("%s row %d: %q not a number", r.Mode, i, f)
				}
			}
		}
	}
}

func reviewCheckSVG(t *testing.T, what string, b []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	root := ""
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Errorf("%s: invalid XML: %v", what, err)
			return
		}
		if se, ok := tok.(xml.StartElement); ok {
			if root == "" {
				root = se.Name.Local
			}
			for _, a := range se.Attr {
				switch a.Name.Local {
				case "x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "width", "height":
					if v, err := strconv.ParseFloat(a.Value, 64); err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
						t.Errorf("%s: %s=%q", what, a.Name.Local, a.Value)
					}
				case "points", "d":
					if strings.Contains(a.Value, "NaN") || strings.Contains(a.Value, "Inf") {
						t.Errorf("%s: %s=%q", what, a.Name.Local, a.Value)
					}
				}
			}
		}
	}
	if root != "svg" {
		t.Errorf("%s: root %q", what, root)
	}
}

func TestReviewSVGs(t *testing.T) {
	ctx := context.Background()
	p := flywheel.LiteratureExample()
	mc, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(40), flywheel.Quantiles(0.9, 0.1))
	if err != nil {
		t.Fatal(err)
	}
	ev, _ := flywheel.Expected(p)
	zero := flywheel.Params{Rotations: 1, Lag: 1}
	ez, _ := flywheel.Expected(zero)
	for name, r := range map[string]*flywheel.Result{"mc": mc, "ev": ev, "zero": ez} {
		for _, ms := range [][]flywheel.Metric{nil, flywheel.AllMetrics(), {flywheel.ViralK}, {flywheel.AcquisitionCost}} {
			var buf bytes.Buffer
			if err := r.WriteSVG(&buf, ms...); err != nil {
				t.Errorf("%s %v: %v", name, ms, err)
				continue
			}
			reviewCheckSVG(t, fmt.Sprintf("%s %v", name, ms), buf.Bytes())
		}
	}
	tab, err := flywheel.Sweep(ctx, p, []flywheel.Outcome{flywheel.CrossoverRotation(), flywheel.CustomersAfter(5)},
		[]flywheel.Axis{{Param: "referrals", Values: []float64{0, 1, 3}}, {Param: "churn", Values: []float64{0, 1}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []string{"crossover_rotation", "customers_after_5"} {
		var a, b bytes.Buffer
		if err := tab.WriteHeatmapSVG(&a, o); err != nil {
			t.Error(err)
		}
		reviewCheckSVG(t, "heat "+o, a.Bytes())
		if err := tab.WriteLinesSVG(&b, o); err != nil {
			t.Error(err)
		}
		reviewCheckSVG(t, "lines "+o, b.Bytes())
	}
}

func TestReviewBassRecovers(t *testing.T) {
	cases := []flywheel.Bass{
		{P: 0.03, Q: 0.38, M: 1000},
		{P: 0.0005, Q: 0.6, M: 5e6},
		{P: 0.2, Q: 0.05, M: 42},
		{P: 0.01, Q: 1.5, M: 1e-6},
		{P: 0.002, Q: 0.1, M: 300},
	}
	for _, b := range cases {
		n := 40
		var got flywheel.Bass
		var err error
		reviewBound(t, 10*time.Second, func() { got, err = flywheel.FitBass(b.Series(n)) })
		if err != nil {
			t.Errorf("%+v FitBass: %v", b, err)
		} else if !reviewClose(got.P, b.P, 1e-4) || !reviewClose(got.Q, b.Q, 1e-4) || math.Abs(got.M-b.M) > 1e-4*b.M {
			t.Errorf("FitBass %+v: got %+v", b, got)
		}
		var fit flywheel.BassFit
		reviewBound(t, 10*time.Second, func() { fit, err = flywheel.FitBassSales(b.PeriodSales(n)) })
		if err != nil {
			t.Errorf("%+v FitBassSales: %v", b, err)
		} else if !reviewClose(fit.P, b.P, 1e-4) || !reviewClose(fit.Q, b.Q, 1e-4) || math.Abs(fit.M-b.M) > 1e-4*b.M {
			t.Errorf("FitBassSales %+v: got %+v", b, fit.Bass)
		}
		reviewBound(t, 10*time.Second, func() { fit, err = flywheel.FitBassCumulative(b.Series(n)) })
		if err != nil {
			t.Errorf("%+v FitBassCumulative: %v", b, err)
		} else if !reviewClose(fit.P, b.P, 1e-4) || !reviewClose(fit.Q, b.Q, 1e-4) || math.Abs(fit.M-b.M) > 1e-4*b.M {
			t.Errorf("FitBassCumulative %+v: got %+v", b, fit.Bass)
		}
		if b.P+b.Q < 1 {
			reviewBound(t, 10*time.Second, func() { fit, err = flywheel.FitBassOLS(b.DiscreteSales(n)) })
			if err != nil {
				t.Errorf("%+v FitBassOLS: %v", b, err)
			} else if !reviewClose(fit.P, b.P, 1e-6) || !reviewClose(fit.Q, b.Q, 1e-6) || math.Abs(fit.M-b.M) > 1e-6*b.M {
				t.Errorf("FitBassOLS %+v: got %+v", b, fit.Bass)
			}
		}
	}
}

func TestReviewBassHostile(t *testing.T) {
	bad := map[string][]float64{
		"nil": nil, "short": {1, 2}, "nan": {1, math.NaN(), 3, 4}, "inf": {1, 2, math.Inf(1), 4},
		"neg": {1, -2, 3, 4}, "zero": {0, 0, 0, 0},
	}
	for name, ys := range bad {
		reviewBound(t, 10*time.Second, func() {
			_, err := flywheel.FitBass(ys)
			reviewWantInvalid(t, "FitBass "+name, err)
			_, err = flywheel.FitBassSales(ys)
			reviewWantInvalid(t, "FitBassSales "+name, err)
			_, err = flywheel.FitBassOLS(ys)
			reviewWantInvalid(t, "FitBassOLS "+name, err)
			_, err = flywheel.FitBassCumulative(ys)
			reviewWantInvalid(t, "FitBassCumulative "+name, err)
		})
	}
	// Odd but valid series: must not panic or hang; an error wraps a sentinel.
	odd := map[string][]float64{
		"const": {5, 5, 5, 5, 5}, "decreasing": {10, 8, 6, 4, 2}, "huge": {1e308, math.MaxFloat64, math.MaxFloat64, math.MaxFloat64},
		"tiny": {5e-324, 1e-323, 2e-323, 2e-323}, "spike": {0, 0, 0, 1e9, 0},
	}
	for name, ys := range odd {
		reviewBound(t, 10*time.Second, func() {
			for fn, f := range map[string]func([]float64) (flywheel.BassFit, error){
				"sales": flywheel.FitBassSales, "ols": flywheel.FitBassOLS, "cum": flywheel.FitBassCumulative,
			} {
				fit, err := f(ys)
				if err != nil {
					if !errors.Is(err, flywheel.ErrNoFit) && !errors.Is(err, flywheel.ErrInvalidParams) {
						t.Errorf("%s %s: %v wraps no sentinel", fn, name, err)
					}
					continue
				}
				if e := fit.Bass.Validate(); e != nil {
					t.Errorf("%s %s: fit %+v is not a valid Bass: %v", fn, name, fit.Bass, e)
				}
			}
		})
	}
}

func TestReviewAgentReproducible(t *testing.T) {
	p := flywheel.LiteratureExample()
	p.Rotations = 5
	p.Lag = 2
	p.AdvocateChurn = 0.3
	var a, b *flywheel.AgentRun
	var err1, err2 error
	reviewBound(t, 20*time.Second, func() {
		a, err1 = flywheel.Agent(context.Background(), p, flywheel.Seed(8))
		b, err2 = flywheel.Agent(context.Background(), p, flywheel.Seed(8))
	})
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if reviewBits(a.Result) != reviewBits(b.Result) || a.Events != b.Events {
		t.Error("same seed, different agent results")
	}
	// Agent results: Engaged = Paid + Referred, Customers cumulative.
	var cum float64
	for _, rot := range a.Result.Rotations {
		cum += rot.Mean(flywheel.NewCustomers)
		if rot.Mean(flywheel.Customers) != cum {
			t.Errorf("rotation %d customers %g, cumulative new %g", rot.N, rot.Mean(flywheel.Customers), cum)
		}
		if rot.Mean(flywheel.Engaged) != rot.Mean(flywheel.PaidProspects)+rot.Mean(flywheel.ReferredProspects) {
			t.Errorf("rotation %d engaged", rot.N)
		}
	}
}

// Agent: in rotation t each advocate that has waited Lag rotations refers:
// a referral_made event on the advocate (in rotation t) and, a moment
// later, the prospect's visit. An advocate refers only after becoming one.
func TestReviewAgentReferralTiming(t *testing.T) {
	for _, every := range []time.Duration{time.Minute, flywheel.DefaultEvery} {
		p := flywheel.Params{Rotations: 6, PaidProspects: 30, Conversion: [4]float64{1, 1, 1, 1}, ReferredConversion: 1, Referrals: 1, Lag: 1}
		var run *flywheel.AgentRun
		var err error
		reviewBound(t, 20*time.Second, func() { run, err = flywheel.Agent(context.Background(), p, flywheel.Seed(2), flywheel.Every(every)) })
		if err != nil {
			t.Fatal(err)
		}
		start := flywheel.DefaultStart
		rot := func(at time.Time) int { return int(at.Sub(start) / every) }
		bad, early := 0, 0
		var example string
		for c, err := range lifecycleBrowse(run) {
			if err != nil {
				t.Fatal(err)
			}
			var review, ref *time.Time
			for i := range c.Facts.Tallies {
				tl := &c.Facts.Tallies[i]
				switch tl.Type {
				case "review_posted":
					review = &tl.First
				case "referral_made":
					ref = &tl.First
				}
			}
			if ref == nil {
				continue
			}
			if review == nil || !ref.After(*review) {
				bad++
				if example == "" {
					example = fmt.Sprintf("%s: first referral_made %v, review_posted %v", c.ID, ref, review)
				}
			} else if rot(*ref) < rot(*review)+p.Lag {
				early++
				if example == "" {
					example = fmt.Sprintf("%s: first referral_made %v (rotation %d), review_posted %v (rotation %d)", c.ID, ref, rot(*ref), review, rot(*review))
				}
			}
		}
		if bad+early > 0 {
			t.Errorf("every %s: %d advocates referred before their review, %d in a rotation before review rotation + Lag; e.g. %s", every, bad, early, example)
		}
	}
}

func TestReviewLiteratureTable(t *testing.T) {
	ev, err := flywheel.Expected(flywheel.LiteratureExample())
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		n                                              int
		paid, ref, eng, newc, adv, cust, k, cac, round float64
	}
	for _, r := range []row{
		{1, 100, 0, 100, 33.8, 10.1, 33.8, math.NaN(), 59.26, 0},
		{5, 100, 47.1, 147.1, 49.6, 62.0, 206.6, 0.101, 40.29, 0},
		{12, 100, 188.9, 288.9, 97.5, 218.1, 727.2, 0.101, 20.51, 0},
	} {
		rot, _ := ev.Rotation(r.n)
		check := func(name string, m flywheel.Metric, want float64, digits int) {
			got := rot.Mean(m)
			s := strconv.FormatFloat(got, 'f', digits, 64)
			w := strconv.FormatFloat(want, 'f', digits, 64)
			if math.IsNaN(want) {
				w = "NaN"
			}
			if s != w {
				t.Errorf("rotation %d %s: %s (%.6g), doc table %s", r.n, name, s, got, w)
			}
		}
		check("paid", flywheel.PaidProspects, r.paid, 1)
		check("referred", flywheel.ReferredProspects, r.ref, 1)
		check("engaged", flywheel.Engaged, r.eng, 1)
		check("new cust", flywheel.NewCustomers, r.newc, 1)
		check("advocates", flywheel.Advocates, r.adv, 1)
		check("customers", flywheel.Customers, r.cust, 1)
		check("K", flywheel.ViralK, r.k, 3)
		check("CAC", flywheel.AcquisitionCost, r.cac, 2)
	}
	// Agent with a one-hour rotation too: huge Every with many rotations leaves year 9999.
	p := flywheel.LiteratureExample()
	p.Rotations = 40
	var err2 error
	reviewBound(t, 5*time.Second, func() {
		_, err2 = flywheel.Agent(context.Background(), p, flywheel.Every(time.Duration(math.MaxInt64)))
	})
	reviewWantInvalid(t, "every max with 40 rotations", err2, "9999")
}

func TestReviewMeasureHostile(t *testing.T) {
	ctx := context.Background()
	run, err := flywheel.Agent(ctx, flywheel.LiteratureExample(), flywheel.Seed(1))
	if err != nil {
		t.Fatal(err)
	}
	st := run.Tracker.Store()
	start := flywheel.DefaultStart
	day := 24 * time.Hour
	cases := map[string]struct {
		f        func() error
		mentions []string
	}{
		"nil store": {func() error { _, e := flywheel.Measure(ctx, nil, start, day, 3); return e }, []string{"store"}},
		"every 0":   {func() error { _, e := flywheel.Measure(ctx, st, start, 0, 3); return e }, []string{"every", "0s"}},
		"every neg": {func() error { _, e := flywheel.Measure(ctx, st, start, -day, 3); return e }, []string{"every", "-24h"}},
		"rot 0":     {func() error { _, e := flywheel.Measure(ctx, st, start, day, 0); return e }, []string{"rotations", "0"}},
		"rot big":   {func() error { _, e := flywheel.Measure(ctx, st, start, day, flywheel.MaxMeasureRotations+1); return e }, []string{"rotations", "100001"}},
		"graph nil": {func() error { _, e := flywheel.Measure(ctx, st, start, day, 3, flywheel.WithGraph(nil)); return e }, []string{"graph"}},
		"spend NaN": {func() error {
			_, e := flywheel.Measure(ctx, st, start, day, 3, flywheel.WithSpend(1, math.NaN()))
			return e
		}, []string{"spend[1]", "NaN"}},
		"spend neg": {func() error { _, e := flywheel.Measure(ctx, st, start, day, 3, flywheel.WithSpend(-2)); return e }, []string{"spend[0]", "-2"}},
		"spend +Inf": {func() error {
			_, e := flywheel.Measure(ctx, st, start, day, 3, flywheel.WithSpend(math.Inf(1)))
			return e
		}, []string{"spend[0]", "Inf"}},
	}
	for name, c := range cases {
		var err error
		reviewBound(t, 10*time.Second, func() { err = c.f() })
		reviewWantInvalid(t, name, err, c.mentions...)
	}
	// Huge rotations must not hang or panic.
	reviewBound(t, 60*time.Second, func() {
		m, err := flywheel.Measure(ctx, st, time.Time{}, time.Duration(math.MaxInt64), 1000)
		if err != nil {
			t.Error(err)
		} else if m.Customers != run.Measurement.Customers {
			t.Errorf("customers %d vs %d", m.Customers, run.Measurement.Customers)
		}
	})
}

func TestReviewStatShapes(t *testing.T) {
	ctx := context.Background()
	p := flywheel.LiteratureExample()
	p.Rotations = 3
	ev, _ := flywheel.Expected(p)
	ag, err := flywheel.Agent(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*flywheel.Result{ev, ag.Result} {
		if r.Runs != 1 || r.Quantiles != nil {
			t.Errorf("%s: runs %d quantiles %v", r.Mode, r.Runs, r.Quantiles)
		}
		for _, rot := range r.Rotations {
			for m, st := range rot.Stats {
				if st.StdErr != 0 || st.Quantiles != nil || st.N != 1 {
					t.Errorf("%s rotation %d %s: %+v", r.Mode, rot.N, flywheel.Metric(m), st)
				}
			}
		}
	}
	if ev.Seed != 0 {
		t.Errorf("expected seed %d", ev.Seed)
	}
	mc, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(1), flywheel.Seed(4), flywheel.Quantiles())
	if err != nil {
		t.Fatal(err)
	}
	if mc.Seed != 4 || mc.Runs != 1 {
		t.Errorf("mc seed %d runs %d", mc.Seed, mc.Runs)
	}
	var buf bytes.Buffer
	if err := mc.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(recs[0]) != 1+2*flywheel.NumMetrics {
		t.Errorf("csv with no quantiles: %v %d cols", err, len(recs[0]))
	}
	if err := mc.WriteSVG(io.Discard); err != nil {
		t.Error(err)
	}
	for _, n := range []int{0, -1, 4, math.MaxInt, math.MinInt} {
		if _, err := ev.Rotation(n); !errors.Is(err, flywheel.ErrInvalidParams) {
			t.Errorf("Rotation(%d): %v", n, err)
		}
	}
	for _, m := range []flywheel.Metric{-1, flywheel.Metric(flywheel.NumMetrics), 1 << 40} {
		for _, v := range ev.Series(m) {
			if !math.IsNaN(v) {
				t.Errorf("Series(%d) = %g", m, v)
			}
		}
		if err := ev.WriteSVG(io.Discard, m); !errors.Is(err, flywheel.ErrInvalidParams) {
			t.Errorf("WriteSVG(%d): %v", m, err)
		}
	}
}

func TestReviewSweepTables(t *testing.T) {
	ctx := context.Background()
	p := flywheel.LiteratureExample()
	p.Rotations = 6
	outs := []flywheel.Outcome{flywheel.CustomersAfter(6), flywheel.CrossoverRotation(), flywheel.MetricAt(flywheel.ViralK, 1)}
	axes := []flywheel.Axis{{Param: "referrals", Values: []float64{0.5, 4}}, {Param: "lag", Values: []float64{1, 2, 3}}}
	var ref string
	for _, w := range []int{1, 2, 5} {
		var tab *flywheel.Table
		var err error
		reviewBound(t, 20*time.Second, func() {
			tab, err = flywheel.Sweep(ctx, p, outs, axes, flywheel.SweepMode(flywheel.ModeMonteCarlo), flywheel.Runs(150), flywheel.Seed(3), flywheel.Workers(w))
		})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := tab.WriteCSV(&buf); err != nil {
			t.Fatal(err)
		}
		if ref == "" {
			ref = buf.String()
			recs, err := csv.NewReader(strings.NewReader(ref)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			wantHeader := []string{"referrals", "lag", "customers_after_6", "customers_after_6_se", "customers_after_6_n",
				"crossover_rotation", "crossover_rotation_se", "crossover_rotation_n", "k_at_1", "k_at_1_se", "k_at_1_n"}
			if !slices.Equal(recs[0], wantHeader) || len(recs) != 7 {
				t.Errorf("header %v, %d rows", recs[0], len(recs))
			}
			for _, r := range recs[1:] {
				if len(r) != len(wantHeader) {
					t.Errorf("row %v", r)
				}
			}
			// k_at_1 is NaN in every run: N 0, value NaN.
			g, _ := tab.Grid("k_at_1")
			for j := range g.Values {
				for i := range g.Values[j] {
					if !math.IsNaN(g.Values[j][i]) || g.N[j][i] != 0 {
						t.Errorf("k_at_1 [%d][%d] = %g n %d", j, i, g.Values[j][i], g.N[j][i])
					}
				}
			}
			if err := tab.WriteLinesSVG(io.Discard, "k_at_1"); !errors.Is(err, flywheel.ErrInvalidParams) {
				t.Errorf("lines of an all-NaN outcome: %v", err)
			}
			if err := tab.WriteHeatmapSVG(io.Discard, "k_at_1"); !errors.Is(err, flywheel.ErrInvalidParams) {
				t.Errorf("heatmap of an all-NaN outcome: %v", err)
			}
		} else if buf.String() != ref {
			t.Errorf("workers %d: different table", w)
		}
	}
	// Hostile axes.
	bad := map[string][]flywheel.Axis{
		"none":      nil,
		"three":     {axes[0], axes[1], axes[0]},
		"empty":     {{Param: "referrals"}},
		"unknown":   {{Param: "bogus", Values: []float64{1}}},
		"nan churn": {{Param: "churn", Values: []float64{0.2, math.NaN()}}},
		"inf lag":   {{Param: "lag", Values: []float64{math.Inf(1)}}},
		"frac rot":  {{Param: "rotations", Values: []float64{2.5}}},
		"neg paid":  {{Param: "paid", Values: []float64{-1}}},
	}
	for name, ax := range bad {
		var err error
		reviewBound(t, 5*time.Second, func() { _, err = flywheel.Sweep(ctx, p, outs, ax) })
		reviewWantInvalid(t, "sweep "+name, err)
	}
	var err error
	reviewBound(t, 5*time.Second, func() {
		_, err = flywheel.Sweep(ctx, p, outs, []flywheel.Axis{{Param: "churn", Values: []float64{0.2, math.NaN()}}})
	})
	reviewWantInvalid(t, "sweep nan point", err, "churn=NaN", "AdvocateChurn")
	// Expected mode with an MC-only option.
	_, err = flywheel.Sweep(ctx, p, outs, axes[:1], flywheel.Seed(0))
	reviewWantInvalid(t, "expected sweep with Seed", err, "Seed")
	_, err = flywheel.Sweep(ctx, p, outs, axes[:1], flywheel.Workers(1), nil)
	reviewWantInvalid(t, "expected sweep with Workers", err, "Workers")
	_, err = flywheel.Sweep(ctx, p, outs, axes[:1], nil)
	if err != nil {
		t.Errorf("nil option: %v", err)
	}
	_, err = flywheel.Sweep(ctx, p, []flywheel.Outcome{{Name: "x"}}, axes[:1])
	reviewWantInvalid(t, "outcome without function", err)
	_, err = flywheel.Sweep(ctx, p, []flywheel.Outcome{outs[0], outs[0]}, axes[:1])
	reviewWantInvalid(t, "duplicate outcome", err)
	big := make([]float64, 1025)
	_, err = flywheel.Sweep(ctx, p, outs, []flywheel.Axis{{Param: "paid", Values: big}, {Param: "spend", Values: big}})
	reviewWantInvalid(t, "grid too big", err)
}

// WithStore: "Customers already in it stay and are measured too." A second
// run into the store of a first (the next rotations) must add its own
// prospects, not merge them into the first run's customers.
func TestReviewAgentWithStoreKeepsExistingCustomers(t *testing.T) {
	ctx := context.Background()
	p := flywheel.LiteratureExample()
	p.Rotations = 3
	var first, fresh, second *flywheel.AgentRun
	var err1, err2, err3 error
	next := flywheel.DefaultStart.Add(3 * flywheel.DefaultEvery)
	tallies := func(run *flywheel.AgentRun) map[string]int64 {
		out := map[string]int64{}
		for c, err := range lifecycleBrowse(run) {
			if err != nil {
				t.Fatal(err)
			}
			for _, tl := range c.Facts.Tallies {
				out[c.ID] += tl.Count
			}
		}
		return out
	}
	var before map[string]int64
	reviewBound(t, 20*time.Second, func() {
		first, err1 = flywheel.Agent(ctx, p, flywheel.Seed(1))
		before = tallies(first)
		fresh, err2 = flywheel.Agent(ctx, p, flywheel.Seed(2), flywheel.StartAt(next))
		second, err3 = flywheel.Agent(ctx, p, flywheel.Seed(2), flywheel.StartAt(next), flywheel.WithStore(first.Tracker.Store()))
	})
	if err1 != nil || err2 != nil || err3 != nil {
		t.Fatal(err1, err2, err3)
	}
	changed := 0
	after := tallies(second)
	for id, n := range before {
		if after[id] != n {
			changed++
		}
	}
	if changed > 0 {
		t.Errorf("%d of the %d customers already in the store got the second run's events (e.g. c1: %d events before, %d after)", changed, len(before), before["c1"], after["c1"])
	}
	if got, want := second.Measurement.Customers, first.Measurement.Customers+fresh.Measurement.Customers; got != want {
		t.Errorf("customers in the shared store: %d, want %d (first run) + %d (second run's own)", got, first.Measurement.Customers, fresh.Measurement.Customers)
	}
	for i := range second.Result.Rotations {
		g, w := second.Result.Rotations[i].Mean(flywheel.PaidProspects), fresh.Result.Rotations[i].Mean(flywheel.PaidProspects)
		if g != w {
			t.Errorf("rotation %d: paid prospects measured %g, the same run in a fresh store %g", i+1, g, w)
		}
	}
}

func reviewInv3(a [9]float64) [9]float64 {
	det := a[0]*(a[4]*a[8]-a[5]*a[7]) - a[1]*(a[3]*a[8]-a[5]*a[6]) + a[2]*(a[3]*a[7]-a[4]*a[6])
	var r [9]float64
	r[0] = (a[4]*a[8] - a[5]*a[7]) / det
	r[4] = (a[0]*a[8] - a[2]*a[6]) / det
	r[8] = (a[0]*a[4] - a[1]*a[3]) / det
	return r
}

func TestReviewBassDiagnosticsByHand(t *testing.T) {
	truth := flywheel.Bass{P: 0.02, Q: 0.4, M: 1000}
	sales := truth.PeriodSales(25)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range sales {
		sales[i] = math.Max(0, sales[i]+r.NormFloat64()*2)
	}
	cum := make([]float64, len(sales))
	s := 0.0
	for i, v := range sales {
		s += v
		cum[i] = s
	}
	for name, c := range map[string]struct {
		fit  func([]float64) (flywheel.BassFit, error)
		ys   []float64
		pred func(flywheel.Bass, int) []float64
	}{
		"sales": {flywheel.FitBassSales, sales, flywheel.Bass.PeriodSales},
		"cum":   {flywheel.FitBassCumulative, cum, flywheel.Bass.Series},
	} {
		var fit flywheel.BassFit
		var err error
		reviewBound(t, 10*time.Second, func() { fit, err = c.fit(c.ys) })
		if err != nil {
			t.Fatal(err)
		}
		n := len(c.ys)
		yhat := c.pred(fit.Bass, n)
		var sse, mean, sst float64
		for i, y := range c.ys {
			sse += (y - yhat[i]) * (y - yhat[i])
			mean += y / float64(n)
		}
		for _, y := range c.ys {
			sst += (y - mean) * (y - mean)
		}
		rse := math.Sqrt(sse / float64(n-3))
		if fit.N != n || !reviewClose(fit.SSE, sse, 1e-9) || !reviewClose(fit.RSE, rse, 1e-9) || !reviewClose(fit.R2, 1-sse/sst, 1e-9) {
			t.Errorf("%s: fit %v; hand sse %g rse %g r2 %g", name, fit, sse, rse, 1-sse/sst)
		}
		th := [3]float64{fit.P, fit.Q, fit.M}
		var jac [3][]float64
		for k := range 3 {
			h := 1e-5 * th[k]
			up, dn := th, th
			up[k] += h
			dn[k] -= h
			yu := c.pred(flywheel.Bass{P: up[0], Q: up[1], M: up[2]}, n)
			yd := c.pred(flywheel.Bass{P: dn[0], Q: dn[1], M: dn[2]}, n)
			jac[k] = make([]float64, n)
			for i := range n {
				jac[k][i] = (yu[i] - yd[i]) / (2 * h)
			}
		}
		var jtj [9]float64
		for a := range 3 {
			for b := range 3 {
				for i := range n {
					jtj[a*3+b] += jac[a][i] * jac[b][i]
				}
			}
		}
		inv := reviewInv3(jtj)
		want := [3]float64{rse * math.Sqrt(inv[0]), rse * math.Sqrt(inv[4]), rse * math.Sqrt(inv[8])}
		got := [3]float64{fit.StdErrP, fit.StdErrQ, fit.StdErrM}
		for k := range 3 {
			if !reviewClose(got[k], want[k], 1e-3) {
				t.Errorf("%s: std err %d = %g, hand %g", name, k, got[k], want[k])
			}
		}
	}
}

func reviewSplitMix(i uint64) uint64 {
	z := i + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Seed: Monte Carlo run i draws from rand.New(rand.NewPCG(seed, mix(i)));
// Agent draws from the stream of run 0.
func TestReviewSeedStreams(t *testing.T) {
	const seed = 12345
	var mu sync.Mutex
	var got []uint64
	inflow := func(r *rand.Rand, mean float64) int {
		mu.Lock()
		got = append(got, r.Uint64())
		mu.Unlock()
		return 1
	}
	p := flywheel.Params{Rotations: 1, PaidProspects: 1, Lag: 1}
	_, err := flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(5), flywheel.Seed(seed), flywheel.Workers(1), flywheel.PaidInflow(inflow))
	if err != nil {
		t.Fatal(err)
	}
	for i, g := range got {
		want := rand.New(rand.NewPCG(seed, reviewSplitMix(uint64(i)))).Uint64()
		if g != want {
			t.Errorf("run %d first draw %x, want %x", i, g, want)
		}
	}
	got = nil
	if _, err := flywheel.Agent(context.Background(), p, flywheel.Seed(seed), flywheel.PaidInflow(inflow)); err != nil {
		t.Fatal(err)
	}
	if want := rand.New(rand.NewPCG(seed, reviewSplitMix(0))).Uint64(); len(got) != 1 || got[0] != want {
		t.Errorf("agent first draw %x, want %x", got, want)
	}
}

// ErrDiverged: the error of the lowest diverging run, whatever the workers.
func TestReviewDivergedLowestRun(t *testing.T) {
	inflow := func(r *rand.Rand, mean float64) int {
		if r.Float64() < 0.01 {
			return flywheel.MaxPopulation
		}
		return 1
	}
	p := flywheel.Params{Rotations: 3, PaidProspects: 1, Conversion: [4]float64{1, 1, 1, 1}, ReferredConversion: 1, Referrals: 1, Lag: 1}
	var ref string
	for _, w := range []int{1, 2, 3, 7} {
		var err error
		reviewBound(t, 20*time.Second, func() {
			_, err = flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(3000), flywheel.Seed(9), flywheel.Workers(w), flywheel.PaidInflow(inflow))
		})
		if !errors.Is(err, flywheel.ErrDiverged) {
			t.Fatalf("workers %d: %v", w, err)
		}
		if ref == "" {
			ref = err.Error()
		} else if err.Error() != ref {
			t.Errorf("workers %d: %q, workers 1: %q", w, err, ref)
		}
	}
}
