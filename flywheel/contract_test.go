package flywheel_test

// Tests written from the exported API docs, docs/flywheel.md
// and README.md only.

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clmkit/clm/flywheel"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

// ---------------------------------------------------------------- helpers

// zrRef is the documented recurrence of expected values, written from the
// Params doc comment: advocates first refer Lag rotations after becoming one,
// then every rotation until they stop (probability AdvocateChurn after each
// referring rotation).
func zrRef(p flywheel.Params) [][flywheel.NumMetrics]float64 {
	c := p.Conversion
	out := make([][flywheel.NumMetrics]float64, p.Rotations)
	newAdv := make([]float64, p.Rotations+1) // index = rotation (1-based)
	referringPrev := 0.0
	customers := 0.0
	for t := 1; t <= p.Rotations; t++ {
		referring := (1 - p.AdvocateChurn) * referringPrev
		if t-p.Lag >= 1 {
			referring += newAdv[t-p.Lag]
		}
		paid := p.PaidProspects
		ref := p.Referrals * referring
		acq := paid*c[0] + ref*p.ReferredConversion
		nc := acq * c[1]
		ret := nc * c[2]
		na := ret * c[3]
		newAdv[t] = na
		waiting := 0.0
		for s := max(1, t-p.Lag+1); s <= t; s++ {
			waiting += newAdv[s]
		}
		adv := (1-p.AdvocateChurn)*referring + waiting
		nref := ref * p.ReferredConversion * c[1]
		k := math.NaN()
		if customers > 0 {
			k = nref / customers
		}
		customers += nc
		spend := paid * p.SpendPerProspect
		cac := math.NaN()
		if nc > 0 {
			cac = spend / nc
		}
		var r [flywheel.NumMetrics]float64
		r[flywheel.PaidProspects] = paid
		r[flywheel.ReferredProspects] = ref
		r[flywheel.Engaged] = paid + ref
		r[flywheel.Acquired] = acq
		r[flywheel.NewCustomers] = nc
		r[flywheel.Retained] = ret
		r[flywheel.NewAdvocates] = na
		r[flywheel.Advocates] = adv
		r[flywheel.ReferringAdvocates] = referring
		r[flywheel.NewReferrals] = nref
		r[flywheel.Customers] = customers
		r[flywheel.ViralK] = k
		r[flywheel.Spend] = spend
		r[flywheel.AcquisitionCost] = cac
		out[t-1] = r
		referringPrev = referring
	}
	return out
}

func zrClose(a, b, rel float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= rel*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func zrCSV(t *testing.T, r *flywheel.Result) string {
	t.Helper()
	var b bytes.Buffer
	if err := r.WriteCSV(&b); err != nil {
		t.Fatalf("WriteCSV: %v", err)
	}
	return b.String()
}

// zrNoPanic runs f and fails the test if it panics or takes longer than d.
func zrNoPanic(t *testing.T, name string, d time.Duration, f func()) {
	t.Helper()
	done := make(chan any, 1)
	go func() {
		defer func() { done <- recover() }()
		f()
	}()
	select {
	case r := <-done:
		if r != nil {
			t.Errorf("%s: panic: %v", name, r)
		}
	case <-time.After(d):
		t.Errorf("%s: did not return within %v", name, d)
	}
}

func zrSmall() flywheel.Params {
	p := flywheel.LiteratureExample()
	p.Rotations = 6
	return p
}

// ---------------------------------------------------------------- params

func TestContractLiteratureExampleFields(t *testing.T) {
	p := flywheel.LiteratureExample()
	want := flywheel.Params{Rotations: 12, PaidProspects: 100,
		Conversion: [4]float64{0.75, 0.45, 0.5, 0.6}, ReferredConversion: 0.75,
		Referrals: 1, AdvocateChurn: 0, Lag: 1, SpendPerProspect: 20}
	if p != want {
		t.Fatalf("LiteratureExample() = %+v, want %+v (docs/flywheel.md:270)", p, want)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if f := p.AdvocateShare(false); !zrClose(f, 0.10125, 1e-12) {
		t.Errorf("AdvocateShare = %v, want 0.10125", f)
	}
	if k := p.ViralCoefficient(); !zrClose(k, 0.10125, 1e-12) {
		t.Errorf("ViralCoefficient = %v", k)
	}
	if g := p.GenerationK(); !math.IsInf(g, 1) {
		t.Errorf("GenerationK with churn 0 = %v, want +Inf", g)
	}
	p.AdvocateChurn = 0.25
	p.ReferredConversion = 0.5
	want2 := 1 * 0.5 * 0.45 * 0.5 * 0.6 / 0.25
	if g := p.GenerationK(); !zrClose(g, want2, 1e-12) {
		t.Errorf("GenerationK = %v, want %v", g, want2)
	}
	if s := p.AdvocateShare(true); !zrClose(s, 0.5*0.45*0.5*0.6, 1e-12) {
		t.Errorf("AdvocateShare(true) = %v", s)
	}
}

func TestContractValidateEveryField(t *testing.T) {
	type mod struct {
		name  string // a substring the message must contain (field or Set name)
		alt   string
		value string
		f     func(p *flywheel.Params)
	}
	nan, inf := math.NaN(), math.Inf(1)
	cases := []mod{
		{"rotations", "Rotations", "0", func(p *flywheel.Params) { p.Rotations = 0 }},
		{"rotations", "Rotations", "-3", func(p *flywheel.Params) { p.Rotations = -3 }},
		{"rotations", "Rotations", "10001", func(p *flywheel.Params) { p.Rotations = flywheel.MaxRotations + 1 }},
		{"lag", "Lag", "0", func(p *flywheel.Params) { p.Lag = 0 }},
		{"lag", "Lag", "1001", func(p *flywheel.Params) { p.Lag = flywheel.MaxLag + 1 }},
		{"lag", "Lag", "-1", func(p *flywheel.Params) { p.Lag = -1 }},
		{"paid", "PaidProspects", "-1", func(p *flywheel.Params) { p.PaidProspects = -1 }},
		{"paid", "PaidProspects", "NaN", func(p *flywheel.Params) { p.PaidProspects = nan }},
		{"paid", "PaidProspects", "Inf", func(p *flywheel.Params) { p.PaidProspects = inf }},
		{"paid", "PaidProspects", "", func(p *flywheel.Params) { p.PaidProspects = 1<<50 + 1<<10 }},
		{"engage_acquire", "Conversion", "1.5", func(p *flywheel.Params) { p.Conversion[0] = 1.5 }},
		{"acquire_nurture", "Conversion", "-0.1", func(p *flywheel.Params) { p.Conversion[1] = -0.1 }},
		{"nurture_retain", "Conversion", "NaN", func(p *flywheel.Params) { p.Conversion[2] = nan }},
		{"retain_advocate", "Conversion", "Inf", func(p *flywheel.Params) { p.Conversion[3] = math.Inf(-1) }},
		{"referred_conversion", "ReferredConversion", "2", func(p *flywheel.Params) { p.ReferredConversion = 2 }},
		{"referred_conversion", "ReferredConversion", "NaN", func(p *flywheel.Params) { p.ReferredConversion = nan }},
		{"referrals", "Referrals", "-0.5", func(p *flywheel.Params) { p.Referrals = -0.5 }},
		{"referrals", "Referrals", "Inf", func(p *flywheel.Params) { p.Referrals = inf }},
		{"referrals", "Referrals", "", func(p *flywheel.Params) { p.Referrals = 1 << 51 }},
		{"churn", "AdvocateChurn", "1.0001", func(p *flywheel.Params) { p.AdvocateChurn = 1.0001 }},
		{"churn", "AdvocateChurn", "NaN", func(p *flywheel.Params) { p.AdvocateChurn = nan }},
		{"spend", "SpendPerProspect", "-2", func(p *flywheel.Params) { p.SpendPerProspect = -2 }},
		{"spend", "SpendPerProspect", "NaN", func(p *flywheel.Params) { p.SpendPerProspect = nan }},
		{"spend", "SpendPerProspect", "", func(p *flywheel.Params) { p.SpendPerProspect = 1e300 }},
	}
	for _, c := range cases {
		p := zrSmall()
		c.f(&p)
		err := p.Validate()
		if !errors.Is(err, flywheel.ErrInvalidParams) {
			t.Errorf("%s=%s: Validate = %v, want ErrInvalidParams", c.name, c.value, err)
			continue
		}
		msg := err.Error()
		if !strings.Contains(strings.ToLower(msg), strings.ToLower(c.name)) &&
			!strings.Contains(msg, c.alt) {
			t.Errorf("%s: message %q names neither %q nor %q", c.value, msg, c.name, c.alt)
		}
		if c.value != "" && !strings.Contains(msg, c.value) {
			t.Errorf("%s: message %q does not give the value %q", c.name, msg, c.value)
		}
		// every simulation mode refuses it too, without panicking
		if _, err := flywheel.Expected(p); !errors.Is(err, flywheel.ErrInvalidParams) {
			t.Errorf("%s=%s: Expected = %v", c.name, c.value, err)
		}
		if _, err := flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(3)); !errors.Is(err, flywheel.ErrInvalidParams) {
			t.Errorf("%s=%s: MonteCarlo = %v", c.name, c.value, err)
		}
		if _, err := flywheel.Agent(context.Background(), p); !errors.Is(err, flywheel.ErrInvalidParams) {
			t.Errorf("%s=%s: Agent = %v", c.name, c.value, err)
		}
	}
	// The documented maxima are accepted.
	p := zrSmall()
	p.PaidProspects, p.Referrals, p.SpendPerProspect = 1<<50, 1<<50, 1<<50
	p.Rotations, p.Lag = flywheel.MaxRotations, flywheel.MaxLag
	if err := p.Validate(); err != nil {
		t.Errorf("documented maxima refused: %v", err)
	}
	// Validate reports every parameter out of range.
	var zero flywheel.Params
	zero.AdvocateChurn = 7
	err := zero.Validate()
	for _, s := range []string{"otation", "ag", "hurn"} {
		if err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("zero Params with churn 7: Validate = %v, want every bad field (%q)", err, s)
		}
	}
}

func TestContractSetGet(t *testing.T) {
	names := flywheel.ParamNames()
	want := []string{flywheel.ParamRotations, flywheel.ParamPaidProspects, flywheel.ParamEngageToAcquire,
		flywheel.ParamAcquireToNurture, flywheel.ParamNurtureToRetain, flywheel.ParamRetainToAdvocate,
		flywheel.ParamReferredConversion, flywheel.ParamReferrals, flywheel.ParamAdvocateChurn,
		flywheel.ParamLag, flywheel.ParamSpend}
	sort.Strings(want)
	got := append([]string(nil), names...)
	sort.Strings(got)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ParamNames = %v, want the documented %v", names, want)
	}
	var p flywheel.Params
	for i, n := range names {
		v := float64(i + 2)
		if err := p.Set(n, v); err != nil {
			t.Errorf("Set(%q, %v): %v", n, v, err)
		}
		if g, err := p.Get(n); err != nil || g != v {
			t.Errorf("Get(%q) = %v, %v; want %v", n, g, err, v)
		}
	}
	if p.Rotations != 2 || p.PaidProspects != 3 || p.Conversion[0] != 4 || p.SpendPerProspect != 12 || p.Lag != 11 {
		t.Errorf("Set wrote the wrong fields: %+v", p)
	}
	// Set does not check ranges of float params.
	if err := p.Set("churn", math.NaN()); err != nil {
		t.Errorf("Set(churn, NaN) = %v; Set documents no range check", err)
	}
	for _, c := range []struct {
		name string
		v    float64
		show string
	}{
		{"nope", 1, "nope"},
		{"rotations", 1.5, "1.5"},
		{"lag", 1e9 + 1, "1000000001"},
		{"rotations", -1e9 - 1, "-1000000001"},
		{"rotations", math.NaN(), "NaN"},
		{"lag", math.Inf(1), "Inf"},
		{"rotations", 1e300, "1e+300"},
	} {
		err := p.Set(c.name, c.v)
		if !errors.Is(err, flywheel.ErrInvalidParams) {
			t.Errorf("Set(%q, %v) = %v, want ErrInvalidParams", c.name, c.v, err)
			continue
		}
		if !strings.Contains(err.Error(), c.name) || !strings.Contains(err.Error(), c.show) {
			t.Errorf("Set(%q, %v): message %q should name the parameter and the value", c.name, c.v, err)
		}
	}
	for _, v := range []float64{1e9, -1e9} {
		if err := p.Set("rotations", v); err != nil {
			t.Errorf("Set(rotations, %v) = %v; whole numbers up to 1e9 are accepted", v, err)
		}
	}
	if _, err := p.Get("nope"); !errors.Is(err, flywheel.ErrInvalidParams) {
		t.Errorf("Get(unknown) = %v, want ErrInvalidParams", err)
	}
}

// ---------------------------------------------------------------- expected

func TestContractExpectedHandComputed(t *testing.T) {
	res, err := flywheel.Expected(flywheel.LiteratureExample())
	if err != nil {
		t.Fatal(err)
	}
	if res.Mode != flywheel.ModeExpected || res.Runs != 1 || res.Seed != 0 || res.Quantiles != nil || len(res.Rotations) != 12 {
		t.Errorf("Result header: mode %v runs %d seed %d quantiles %v rotations %d", res.Mode, res.Runs, res.Seed, res.Quantiles, len(res.Rotations))
	}
	r1, _ := res.Rotation(1)
	r2, _ := res.Rotation(2)
	r5, _ := res.Rotation(5)
	hand := []struct {
		r    *flywheel.Rotation
		m    flywheel.Metric
		want float64
	}{
		{r1, flywheel.PaidProspects, 100},
		{r1, flywheel.ReferredProspects, 0},
		{r1, flywheel.Engaged, 100},
		{r1, flywheel.Acquired, 75},
		{r1, flywheel.NewCustomers, 33.75},
		{r1, flywheel.Retained, 16.875},
		{r1, flywheel.NewAdvocates, 10.125},
		{r1, flywheel.Advocates, 10.125},
		{r1, flywheel.ReferringAdvocates, 0},
		{r1, flywheel.NewReferrals, 0},
		{r1, flywheel.Customers, 33.75},
		{r1, flywheel.ViralK, math.NaN()},
		{r1, flywheel.Spend, 2000},
		{r1, flywheel.AcquisitionCost, 2000 / 33.75},
		{r2, flywheel.ReferringAdvocates, 10.125},
		{r2, flywheel.ReferredProspects, 10.125},
		{r2, flywheel.Engaged, 110.125},
		{r2, flywheel.Acquired, 82.59375},
		{r2, flywheel.NewCustomers, 37.1671875},
		{r2, flywheel.Retained, 18.58359375},
		{r2, flywheel.NewAdvocates, 11.150156250},
		{r2, flywheel.Advocates, 21.27515625},
		{r2, flywheel.NewReferrals, 3.4171875},
		{r2, flywheel.Customers, 70.9171875},
		{r2, flywheel.ViralK, 0.10125},
		{r2, flywheel.AcquisitionCost, 2000 / 37.1671875},
		// README/docs: A(4) = 47.08, E(5) = 147.08, CAC(5) 40.29
		{r5, flywheel.ReferredProspects, 100 * (math.Pow(1.10125, 4) - 1)},
		{r5, flywheel.Engaged, 100 + 100*(math.Pow(1.10125, 4)-1)},
		{r5, flywheel.Advocates, 100 * (math.Pow(1.10125, 5) - 1)},
	}
	for i, h := range hand {
		if got := h.r.Mean(h.m); !zrClose(got, h.want, 1e-9) {
			t.Errorf("case %d: rotation %d %v = %v, want %v", i, h.r.N, h.m, got, h.want)
		}
	}
	if e5 := r5.Mean(flywheel.Engaged); math.Abs(e5-147.08) > 0.005 {
		t.Errorf("E(5) = %v, docs say 147.08", e5)
	}
	if c := r5.Mean(flywheel.AcquisitionCost); math.Abs(c-40.29) > 0.005 {
		t.Errorf("CAC(5) = %v, README says 40.29", c)
	}
	for _, rot := range res.Rotations {
		for m := range flywheel.NumMetrics {
			s := rot.Stats[m]
			if s.StdErr != 0 || s.Quantiles != nil {
				t.Errorf("expected mode rotation %d %v: StdErr %v Quantiles %v, want 0 and nil", rot.N, flywheel.Metric(m), s.StdErr, s.Quantiles)
			}
		}
	}
}

func TestContractExpectedMatchesReference(t *testing.T) {
	base := flywheel.LiteratureExample()
	sets := []flywheel.Params{base}
	p := base
	p.AdvocateChurn, p.Lag, p.ReferredConversion, p.Referrals = 0.3, 3, 0.4, 2.5
	sets = append(sets, p)
	p = base
	p.AdvocateChurn, p.Lag, p.Referrals = 1, 1, 3
	sets = append(sets, p)
	p = base
	p.Conversion = [4]float64{1, 1, 1, 1}
	p.ReferredConversion, p.Referrals, p.AdvocateChurn, p.Lag = 1, 0.5, 0.5, 2
	p.Rotations = 20
	sets = append(sets, p)
	p = base
	p.PaidProspects, p.SpendPerProspect = 0, 0
	sets = append(sets, p)
	for si, p := range sets {
		res, err := flywheel.Expected(p)
		if err != nil {
			t.Fatalf("set %d: %v", si, err)
		}
		ref := zrRef(p)
		for ti, rot := range res.Rotations {
			if rot.N != ti+1 {
				t.Errorf("set %d: Rotations[%d].N = %d", si, ti, rot.N)
			}
			for m := range flywheel.NumMetrics {
				if got, want := rot.Mean(flywheel.Metric(m)), ref[ti][m]; !zrClose(got, want, 1e-9) {
					t.Errorf("set %d rotation %d %v = %v, documented recurrence gives %v", si, ti+1, flywheel.Metric(m), got, want)
				}
			}
		}
	}
}

func TestContractClosedForms(t *testing.T) {
	// docs/flywheel.md:142-147
	p := flywheel.LiteratureExample()
	p.Referrals = 1.7
	p.PaidProspects = 40
	p.Rotations = 15
	f := p.AdvocateShare(false)
	kappa := p.Referrals * f
	if !zrClose(p.ViralCoefficient(), kappa, 1e-12) {
		t.Fatalf("ViralCoefficient %v != %v", p.ViralCoefficient(), kappa)
	}
	res, err := flywheel.Expected(p)
	if err != nil {
		t.Fatal(err)
	}
	A := func(t int) float64 { return p.PaidProspects * f * (math.Pow(1+kappa, float64(t)) - 1) / kappa }
	for _, rot := range res.Rotations {
		if got := rot.Mean(flywheel.Advocates); !zrClose(got, A(rot.N), 1e-9) {
			t.Errorf("churn 0: A(%d) = %v, closed form %v", rot.N, got, A(rot.N))
		}
		if got, want := rot.Mean(flywheel.Engaged), p.PaidProspects+p.Referrals*A(rot.N-1); !zrClose(got, want, 1e-9) {
			t.Errorf("churn 0: E(%d) = %v, closed form %v", rot.N, got, want)
		}
	}
	p.AdvocateChurn = 1
	p.Referrals = 3
	kappa = p.Referrals * f
	res, err = flywheel.Expected(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, rot := range res.Rotations {
		want := p.PaidProspects * (1 - math.Pow(kappa, float64(rot.N))) / (1 - kappa)
		if got := rot.Mean(flywheel.Engaged); !zrClose(got, want, 1e-9) {
			t.Errorf("churn 1: E(%d) = %v, viral series %v", rot.N, got, want)
		}
	}
}

func TestContractExpectedEdges(t *testing.T) {
	// Rates 0: nothing past engage, no advocates, CAC NaN.
	p := zrSmall()
	p.Conversion = [4]float64{0, 1, 1, 1}
	p.ReferredConversion = 0
	res, err := flywheel.Expected(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, rot := range res.Rotations {
		if rot.Mean(flywheel.Engaged) != 100 || rot.Mean(flywheel.Acquired) != 0 || rot.Mean(flywheel.Customers) != 0 {
			t.Errorf("conversion 0: rotation %d engaged %v acquired %v customers %v", rot.N, rot.Mean(flywheel.Engaged), rot.Mean(flywheel.Acquired), rot.Mean(flywheel.Customers))
		}
		if !math.IsNaN(rot.Mean(flywheel.AcquisitionCost)) || !math.IsNaN(rot.Mean(flywheel.ViralK)) {
			t.Errorf("conversion 0: CAC %v K %v, want NaN", rot.Mean(flywheel.AcquisitionCost), rot.Mean(flywheel.ViralK))
		}
	}
	// Rates 1, no referrals: every funnel count equals the paid prospects.
	p = zrSmall()
	p.Conversion = [4]float64{1, 1, 1, 1}
	p.Referrals = 0
	res, err = flywheel.Expected(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, rot := range res.Rotations {
		for _, m := range []flywheel.Metric{flywheel.Engaged, flywheel.Acquired, flywheel.NewCustomers, flywheel.Retained, flywheel.NewAdvocates} {
			if rot.Mean(m) != 100 {
				t.Errorf("conversion 1: rotation %d %v = %v, want 100", rot.N, m, rot.Mean(m))
			}
		}
		if rot.Mean(flywheel.Advocates) != float64(100*rot.N) {
			t.Errorf("conversion 1, churn 0: advocates %v, want %d", rot.Mean(flywheel.Advocates), 100*rot.N)
		}
	}
	// Lag longer than the run: nobody ever refers.
	p = zrSmall()
	p.Lag = flywheel.MaxLag
	res, err = flywheel.Expected(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, rot := range res.Rotations {
		if rot.Mean(flywheel.ReferredProspects) != 0 || rot.Mean(flywheel.ReferringAdvocates) != 0 {
			t.Errorf("lag 1000: rotation %d refers", rot.N)
		}
	}
	// Paid 0: nothing at all; CAC and K undefined.
	p = zrSmall()
	p.PaidProspects = 0
	res, err = flywheel.Expected(p)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := res.WriteSVG(&b); err != nil {
		t.Errorf("WriteSVG of an all-zero result: %v", err)
	}
	zrCheckSVG(t, "all-zero", b.Bytes())
	b.Reset()
	if err := res.WriteSVG(&b, flywheel.ViralK, flywheel.AcquisitionCost); err == nil {
		zrCheckSVG(t, "all-NaN", b.Bytes())
	}
}

func TestContractExpectedDiverges(t *testing.T) {
	for _, c := range []struct {
		name string
		f    func(p *flywheel.Params)
	}{
		{"max paid, all convert", func(p *flywheel.Params) {
			p.PaidProspects = 1 << 50
			p.Conversion = [4]float64{1, 1, 1, 1}
		}},
		{"max referrals", func(p *flywheel.Params) { p.Referrals = 1 << 50 }},
		{"explosive, max rotations", func(p *flywheel.Params) {
			p.Referrals = 50
			p.Rotations = flywheel.MaxRotations
		}},
	} {
		p := flywheel.LiteratureExample()
		c.f(&p)
		zrNoPanic(t, c.name, 20*time.Second, func() {
			res, err := flywheel.Expected(p)
			if !errors.Is(err, flywheel.ErrDiverged) {
				t.Errorf("%s: Expected = %v, %v; want ErrDiverged", c.name, res != nil, err)
			}
		})
		zrNoPanic(t, c.name+" MC", 30*time.Second, func() {
			ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
			defer cancel()
			res, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(4), flywheel.Seed(1))
			if !errors.Is(err, flywheel.ErrDiverged) {
				t.Errorf("%s: MonteCarlo = %v, %v; want ErrDiverged", c.name, res != nil, err)
			}
		})
	}
	// A stable long run with many rotations is fine and finite.
	p := flywheel.LiteratureExample()
	p.AdvocateChurn = 0.9
	p.Rotations = flywheel.MaxRotations
	res, err := flywheel.Expected(p)
	if err != nil {
		t.Fatal(err)
	}
	last := res.Rotations[len(res.Rotations)-1]
	for m := range flywheel.NumMetrics {
		if v := last.Stats[m].Mean; math.IsInf(v, 0) || math.IsNaN(v) {
			t.Errorf("rotation 10000 %v = %v", flywheel.Metric(m), v)
		}
	}
}

// ---------------------------------------------------------------- Monte Carlo

func TestContractMonteCarloMatchesExpected(t *testing.T) {
	p := flywheel.LiteratureExample()
	p.AdvocateChurn, p.Lag, p.ReferredConversion, p.Referrals = 0.3, 2, 0.5, 1.8
	p.Rotations = 10
	ev, err := flywheel.Expected(p)
	if err != nil {
		t.Fatal(err)
	}
	mc, err := flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(3000), flywheel.Seed(11))
	if err != nil {
		t.Fatal(err)
	}
	if mc.Mode != flywheel.ModeMonteCarlo || mc.Runs != 3000 || mc.Seed != 11 || fmt.Sprint(mc.Quantiles) != fmt.Sprint(flywheel.DefaultQuantiles()) {
		t.Errorf("MC header: %v %d %d %v", mc.Mode, mc.Runs, mc.Seed, mc.Quantiles)
	}
	for i, rot := range mc.Rotations {
		for m := range flywheel.NumMetrics {
			if flywheel.Metric(m) == flywheel.ViralK || flywheel.Metric(m) == flywheel.AcquisitionCost {
				continue // ratios of expectations are not expectations of ratios
			}
			s := rot.Stats[m]
			want := ev.Rotations[i].Stats[m].Mean
			if s.N != 3000 {
				t.Errorf("rotation %d %v: N %d", rot.N, flywheel.Metric(m), s.N)
			}
			if math.Abs(s.Mean-want) > 5*s.StdErr+1e-9 {
				t.Errorf("rotation %d %v: MC mean %v ± %v, expected %v", rot.N, flywheel.Metric(m), s.Mean, s.StdErr, want)
			}
			if len(s.Quantiles) != 3 || !(s.Quantiles[0] <= s.Quantiles[1] && s.Quantiles[1] <= s.Quantiles[2]) {
				t.Errorf("rotation %d %v: quantiles %v", rot.N, flywheel.Metric(m), s.Quantiles)
			}
		}
	}
	// Rotation 1 has no customers before it: K undefined in every run.
	if s := mc.Rotations[0].Stats[flywheel.ViralK]; s.N != 0 || !math.IsNaN(s.Mean) {
		t.Errorf("rotation 1 K: N %d mean %v, want 0 and NaN", s.N, s.Mean)
	}
}

func TestContractMonteCarloPerRunConservation(t *testing.T) {
	// Each run is exposed to a Sweep outcome as a Result with Runs 1: check the
	// documented identities run by run.
	p := flywheel.LiteratureExample()
	p.AdvocateChurn, p.Lag, p.ReferredConversion, p.Referrals = 0.4, 2, 0.6, 2
	var mu sync.Mutex
	var bad []string
	runs := 0
	check := flywheel.Outcome{Name: "check", Of: func(r *flywheel.Result) float64 {
		mu.Lock()
		defer mu.Unlock()
		runs++
		if r.Runs != 1 {
			bad = append(bad, fmt.Sprintf("Runs %d", r.Runs))
		}
		cum := 0.0
		prevCum := 0.0
		prevAdv := 0.0
		for _, rot := range r.Rotations {
			g := func(m flywheel.Metric) float64 { return rot.Stats[m].Mean }
			for m := range flywheel.NumMetrics {
				v := rot.Stats[m].Mean
				if flywheel.Metric(m) == flywheel.ViralK || flywheel.Metric(m) == flywheel.AcquisitionCost {
					continue
				}
				if v < 0 || v != math.Trunc(v) {
					bad = append(bad, fmt.Sprintf("rotation %d %v = %v not a count", rot.N, flywheel.Metric(m), v))
				}
			}
			if g(flywheel.Engaged) != g(flywheel.PaidProspects)+g(flywheel.ReferredProspects) {
				bad = append(bad, fmt.Sprintf("rotation %d engaged != paid+referred", rot.N))
			}
			if !(g(flywheel.Acquired) <= g(flywheel.Engaged) && g(flywheel.NewCustomers) <= g(flywheel.Acquired) &&
				g(flywheel.Retained) <= g(flywheel.NewCustomers) && g(flywheel.NewAdvocates) <= g(flywheel.Retained)) {
				bad = append(bad, fmt.Sprintf("rotation %d funnel not monotone", rot.N))
			}
			if g(flywheel.NewReferrals) > g(flywheel.NewCustomers) || g(flywheel.NewReferrals) > g(flywheel.ReferredProspects) {
				bad = append(bad, fmt.Sprintf("rotation %d new referrals %v", rot.N, g(flywheel.NewReferrals)))
			}
			cum += g(flywheel.NewCustomers)
			if g(flywheel.Customers) != cum {
				bad = append(bad, fmt.Sprintf("rotation %d customers %v != Σ new %v", rot.N, g(flywheel.Customers), cum))
			}
			if g(flywheel.Spend) != g(flywheel.PaidProspects)*p.SpendPerProspect {
				bad = append(bad, fmt.Sprintf("rotation %d spend", rot.N))
			}
			if nc := g(flywheel.NewCustomers); nc > 0 && g(flywheel.AcquisitionCost) != g(flywheel.Spend)/nc {
				bad = append(bad, fmt.Sprintf("rotation %d cac", rot.N))
			} else if nc == 0 && !math.IsNaN(g(flywheel.AcquisitionCost)) {
				bad = append(bad, fmt.Sprintf("rotation %d cac with 0 customers = %v", rot.N, g(flywheel.AcquisitionCost)))
			}
			if prevCum > 0 && g(flywheel.ViralK) != g(flywheel.NewReferrals)/prevCum {
				bad = append(bad, fmt.Sprintf("rotation %d K %v != %v/%v", rot.N, g(flywheel.ViralK), g(flywheel.NewReferrals), prevCum))
			} else if prevCum == 0 && !math.IsNaN(g(flywheel.ViralK)) {
				bad = append(bad, fmt.Sprintf("rotation %d K with no customers = %v", rot.N, g(flywheel.ViralK)))
			}
			// advocates: no one is created or lost beyond new advocates and churn
			if g(flywheel.Advocates) > prevAdv+g(flywheel.NewAdvocates) || g(flywheel.Advocates) < prevAdv+g(flywheel.NewAdvocates)-g(flywheel.ReferringAdvocates) {
				bad = append(bad, fmt.Sprintf("rotation %d advocates %v from %v + %v new, %v referring", rot.N, g(flywheel.Advocates), prevAdv, g(flywheel.NewAdvocates), g(flywheel.ReferringAdvocates)))
			}
			if g(flywheel.ReferringAdvocates) > prevAdv {
				bad = append(bad, fmt.Sprintf("rotation %d referring %v > advocates before %v", rot.N, g(flywheel.ReferringAdvocates), prevAdv))
			}
			prevCum = cum
			prevAdv = g(flywheel.Advocates)
		}
		return 0
	}}
	_, err := flywheel.Sweep(context.Background(), p, []flywheel.Outcome{check},
		[]flywheel.Axis{{Param: flywheel.ParamLag, Values: []float64{1, 2}}},
		flywheel.SweepMode(flywheel.ModeMonteCarlo), flywheel.Runs(200), flywheel.Seed(5))
	if err != nil {
		t.Fatal(err)
	}
	if runs != 400 {
		t.Errorf("outcome called %d times, want 400 (once per run per grid point)", runs)
	}
	if len(bad) > 0 {
		t.Errorf("%d violations, first: %v", len(bad), bad[:min(5, len(bad))])
	}
}

func TestContractMonteCarloDeterminism(t *testing.T) {
	p := flywheel.LiteratureExample()
	p.AdvocateChurn = 0.2
	ctx := context.Background()
	base, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(301), flywheel.Seed(99), flywheel.Workers(1))
	if err != nil {
		t.Fatal(err)
	}
	want := zrCSV(t, base)
	for _, w := range []int{0, 2, 3, 7, 64} {
		r, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(301), flywheel.Seed(99), flywheel.Workers(w))
		if err != nil {
			t.Fatal(err)
		}
		if zrCSV(t, r) != want {
			t.Errorf("Workers(%d) changes the result", w)
		}
	}
	// concurrent use
	var wg sync.WaitGroup
	outs := make([]string, 4)
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(301), flywheel.Seed(99), flywheel.Workers(2))
			if err != nil {
				t.Error(err)
				return
			}
			var b bytes.Buffer
			_ = r.WriteCSV(&b)
			outs[i] = b.String()
		}()
	}
	wg.Wait()
	for i, o := range outs {
		if o != want {
			t.Errorf("concurrent call %d differs", i)
		}
	}
	other, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(301), flywheel.Seed(100))
	if err != nil {
		t.Fatal(err)
	}
	if zrCSV(t, other) == want {
		t.Errorf("seed 100 gives the same result as seed 99")
	}
	// nil options are skipped; PaidInflow(nil) is the default
	r, err := flywheel.MonteCarlo(ctx, p, nil, flywheel.Runs(301), flywheel.Seed(99), flywheel.PaidInflow(nil))
	if err != nil {
		t.Fatal(err)
	}
	if zrCSV(t, r) != want {
		t.Errorf("nil option / PaidInflow(nil) changes the result")
	}
	r, err = flywheel.MonteCarlo(ctx, p, flywheel.Runs(301), flywheel.Seed(99), flywheel.PaidInflow(flywheel.PoissonInflow()))
	if err != nil {
		t.Fatal(err)
	}
	if zrCSV(t, r) != want {
		t.Errorf("PoissonInflow() is not the default draw for draw")
	}
}

func zrSplitMix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func TestContractInflowStreamAndStats(t *testing.T) {
	// The inflow is called once per rotation with the run's stream and mean =
	// PaidProspects; the Stat of rotation 1's paid prospects is the mean,
	// sample-sd/√N standard error and type-7 quantiles of the draws.
	p := zrSmall()
	p.Rotations = 1
	p.PaidProspects = 37.5
	const runs = 257
	const seed = 1234
	var mu sync.Mutex
	var draws []float64
	var firsts []uint64
	calls := 0
	inflow := func(r *rand.Rand, mean float64) int {
		if mean != 37.5 {
			t.Errorf("inflow mean %v, want PaidProspects", mean)
		}
		u := r.Uint64()
		n := int(u % 80)
		mu.Lock()
		calls++
		draws = append(draws, float64(n))
		firsts = append(firsts, u)
		mu.Unlock()
		return n
	}
	mc, err := flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(runs), flywheel.Seed(seed),
		flywheel.PaidInflow(inflow), flywheel.Workers(3), flywheel.Quantiles(0.1, 0.5, 0.9, 0.025))
	if err != nil {
		t.Fatal(err)
	}
	if calls != runs {
		t.Errorf("inflow called %d times for %d runs × 1 rotation", calls, runs)
	}
	s := mc.Rotations[0].Stats[flywheel.PaidProspects]
	mean := 0.0
	for _, d := range draws {
		mean += d
	}
	mean /= float64(len(draws))
	ss := 0.0
	for _, d := range draws {
		ss += (d - mean) * (d - mean)
	}
	se := math.Sqrt(ss/float64(len(draws)-1)) / math.Sqrt(float64(len(draws)))
	if !zrClose(s.Mean, mean, 1e-12) || !zrClose(s.StdErr, se, 1e-9) || s.N != runs {
		t.Errorf("paid stat %v ± %v (N %d), draws give %v ± %v", s.Mean, s.StdErr, s.N, mean, se)
	}
	sort.Float64s(draws)
	q7 := func(q float64) float64 {
		h := (float64(len(draws)) - 1) * q
		lo := math.Floor(h)
		hi := math.Ceil(h)
		return draws[int(lo)] + (h-lo)*(draws[int(hi)]-draws[int(lo)])
	}
	if fmt.Sprint(mc.Quantiles) != fmt.Sprint([]float64{0.1, 0.5, 0.9, 0.025}) {
		t.Errorf("Quantiles %v not kept in the order given", mc.Quantiles)
	}
	for i, q := range mc.Quantiles {
		if !zrClose(s.Quantiles[i], q7(q), 1e-12) {
			t.Errorf("quantile %v = %v, type-7 of the draws is %v", q, s.Quantiles[i], q7(q))
		}
	}
	// Run i draws from rand.New(rand.NewPCG(seed, mix(i))): the first numbers
	// of every run's stream must come from one of the documented streams.
	known := map[uint64]bool{}
	for i := range uint64(runs) {
		r := rand.New(rand.NewPCG(seed, zrSplitMix(i+0x9e3779b97f4a7c15)))
		for range 8 {
			known[r.Uint64()] = true
		}
	}
	miss := 0
	for _, u := range firsts {
		if !known[u] {
			miss++
		}
	}
	if miss > 0 {
		t.Errorf("%d of %d runs draw from a stream other than rand.NewPCG(seed, splitmix64(i)) (docs/flywheel.md:104)", miss, runs)
	}
}

// TestContractSeedDocFinaliser follows the Seed doc comment literally: "run i draws
// from rand.New(rand.NewPCG(seed, mix(i))), where mix(i) is SplitMix64's
// output for the state i (i plus the golden gamma 0x9e3779b97f4a7c15, then
// its finaliser)". With Runs(1) and one rotation, the inflow is the first
// draw.
func TestContractSeedDocFinaliser(t *testing.T) {
	p := zrSmall()
	p.Rotations = 1
	var got uint64
	inflow := func(r *rand.Rand, mean float64) int { got = r.Uint64(); return 1 }
	if _, err := flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(1), flywheel.Seed(77), flywheel.PaidInflow(inflow)); err != nil {
		t.Fatal(err)
	}
	want := rand.New(rand.NewPCG(77, zrSplitMix(0+0x9e3779b97f4a7c15))).Uint64()
	if got != want {
		t.Errorf("run 0's first number %x; rand.New(rand.NewPCG(77, mix(0))) gives %x", got, want)
	}
	// Agent documents the same stream: rand.New(rand.NewPCG(seed, mix(0))).
	var agot uint64
	ainflow := func(r *rand.Rand, mean float64) int { agot = r.Uint64(); return 0 }
	if _, err := flywheel.Agent(context.Background(), p, flywheel.Seed(77), flywheel.PaidInflow(ainflow)); err != nil {
		t.Fatal(err)
	}
	if agot != got {
		t.Errorf("Agent's stream %x differs from Monte Carlo run 0's %x", agot, got)
	}
}

func TestContractInflowOutOfRange(t *testing.T) {
	p := zrSmall()
	for _, v := range []int{-1, flywheel.MaxPopulation + 1, math.MaxInt} {
		f := func(r *rand.Rand, mean float64) int { return v }
		_, err := flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(5), flywheel.PaidInflow(f))
		if !errors.Is(err, flywheel.ErrInvalidParams) {
			t.Errorf("MonteCarlo inflow %d: %v, want ErrInvalidParams", v, err)
		}
		zrNoPanic(t, "agent inflow", 20*time.Second, func() {
			_, err := flywheel.Agent(context.Background(), p, flywheel.PaidInflow(f), flywheel.MaxEvents(10000))
			if !errors.Is(err, flywheel.ErrInvalidParams) {
				t.Errorf("Agent inflow %d: %v, want ErrInvalidParams", v, err)
			}
		})
	}
}

func TestContractConstantInflow(t *testing.T) {
	f := flywheel.ConstantInflow()
	zrNoPanic(t, "ConstantInflow(nil rand, whole mean)", time.Second, func() {
		if n := f(nil, 7); n != 7 {
			t.Errorf("ConstantInflow(7) = %d", n)
		}
	})
	r := rand.New(rand.NewPCG(1, 2))
	sum := 0
	const n = 200000
	for range n {
		d := f(r, 2.25)
		if d != 2 && d != 3 {
			t.Fatalf("ConstantInflow(2.25) = %d", d)
		}
		sum += d
	}
	if m := float64(sum) / n; math.Abs(m-2.25) > 5*math.Sqrt(0.25*0.75/n) {
		t.Errorf("ConstantInflow(2.25) mean %v", m)
	}
	// The whole documented MC setup: constant inflow, certain steps, no
	// referrals → zero variance everywhere.
	p := zrSmall()
	p.Conversion = [4]float64{1, 1, 1, 1}
	p.Referrals = 0
	mc, err := flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(50), flywheel.PaidInflow(f))
	if err != nil {
		t.Fatal(err)
	}
	for _, rot := range mc.Rotations {
		for _, m := range []flywheel.Metric{flywheel.PaidProspects, flywheel.Engaged, flywheel.NewAdvocates, flywheel.Customers} {
			if s := rot.Stats[m]; s.StdErr != 0 || s.Quantiles[0] != s.Quantiles[2] {
				t.Errorf("constant inflow rotation %d %v: se %v q %v", rot.N, m, s.StdErr, s.Quantiles)
			}
		}
	}
}

func TestContractInflowHostileMeans(t *testing.T) {
	// Exported functions called directly by a user: no panic, no hang.
	r := rand.New(rand.NewPCG(3, 4))
	for _, mean := range []float64{math.Inf(1), math.Inf(-1), -5, 1e30, 1 << 50} {
		zrNoPanic(t, fmt.Sprintf("PoissonInflow(%v)", mean), 5*time.Second, func() { _ = flywheel.PoissonInflow()(r, mean) })
		zrNoPanic(t, fmt.Sprintf("ConstantInflow(%v)", mean), 5*time.Second, func() { _ = flywheel.ConstantInflow()(r, mean) })
	}
	// A large valid mean draws quickly and reasonably.
	zrNoPanic(t, "PoissonInflow(2^50)", 5*time.Second, func() {
		n := flywheel.PoissonInflow()(r, 1<<50)
		if math.Abs(float64(n)-(1<<50)) > 10*math.Sqrt(1<<50) {
			t.Errorf("Poisson(2^50) drew %d", n)
		}
	})
}

// TestContractPoissonInflowNaN: PoissonInflow is an exported Inflow a caller may
// wrap (e.g. a mean scaled by a factor); a NaN mean loops for ever.
// (On failure the draw keeps spinning in the background until the test
// binary exits.)
func TestContractPoissonInflowNaN(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	zrNoPanic(t, "PoissonInflow()(r, NaN)", 3*time.Second, func() { _ = flywheel.PoissonInflow()(r, math.NaN()) })
	// The same through the simulator: a user inflow wrapping PoissonInflow.
	wrapped := func(r *rand.Rand, mean float64) int { return flywheel.PoissonInflow()(r, mean*math.Inf(1)*0) }
	zrNoPanic(t, "MonteCarlo with a wrapped PoissonInflow(NaN)", 3*time.Second, func() {
		_, _ = flywheel.MonteCarlo(context.Background(), zrSmall(), flywheel.Runs(1), flywheel.PaidInflow(wrapped))
	})
}

func TestContractMonteCarloOptions(t *testing.T) {
	ctx := context.Background()
	p := zrSmall()
	bad := []struct {
		name string
		opt  flywheel.MonteCarloOption
	}{
		{"Runs(0)", flywheel.Runs(0)},
		{"Runs(-1)", flywheel.Runs(-1)},
		{"Quantiles(0)", flywheel.Quantiles(0)},
		{"Quantiles(1)", flywheel.Quantiles(0.5, 1)},
		{"Quantiles(NaN)", flywheel.Quantiles(math.NaN())},
		{"Quantiles(-0.1)", flywheel.Quantiles(-0.1)},
		{"Quantiles(Inf)", flywheel.Quantiles(math.Inf(1))},
	}
	for _, b := range bad {
		zrNoPanic(t, b.name, 10*time.Second, func() {
			_, err := flywheel.MonteCarlo(ctx, p, b.opt)
			if !errors.Is(err, flywheel.ErrInvalidParams) {
				t.Errorf("%s: %v, want ErrInvalidParams", b.name, err)
			}
		})
	}
	// MaxCells: runs × rotations × NumMetrics ≤ 2^28, refused before allocating.
	p.Rotations = flywheel.MaxRotations
	over := flywheel.MaxCells/(flywheel.MaxRotations*flywheel.NumMetrics) + 1
	zrNoPanic(t, "Runs over MaxCells", 10*time.Second, func() {
		_, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(over))
		if !errors.Is(err, flywheel.ErrInvalidParams) {
			t.Errorf("Runs(%d) × 10000 rotations: %v, want ErrInvalidParams", over, err)
		}
	})
	// An overflowing product must not slip past the limit.
	p.Rotations = 16
	for _, runs := range []int{1 << 60, math.MaxInt, 1 << 62} {
		zrNoPanic(t, fmt.Sprintf("Runs(%d)", runs), 10*time.Second, func() {
			ctx, cancel := context.WithTimeout(ctx, 8*time.Second)
			defer cancel()
			_, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(runs))
			if !errors.Is(err, flywheel.ErrInvalidParams) {
				t.Errorf("Runs(%d): %v, want ErrInvalidParams", runs, err)
			}
		})
	}
	// Empty quantiles: no bands, but a valid result and chart.
	p = zrSmall()
	r, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(20), flywheel.Quantiles())
	if err != nil {
		t.Fatalf("Quantiles(): %v", err)
	}
	var b bytes.Buffer
	if err := r.WriteSVG(&b); err != nil {
		t.Fatal(err)
	}
	zrCheckSVG(t, "no quantiles", b.Bytes())
	// A negative worker count is an error or the default, never a panic.
	zrNoPanic(t, "Workers(-5)", 10*time.Second, func() {
		_, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(20), flywheel.Workers(-5))
		if err != nil && !errors.Is(err, flywheel.ErrInvalidParams) {
			t.Errorf("Workers(-5): %v", err)
		}
	})
}

func TestContractWorkersBounded(t *testing.T) {
	// Workers(n) with n far above the number of runs should not start n goroutines.
	p := zrSmall()
	var peak atomic.Int64
	prog := func(done, total int) {
		if g := int64(runtime.NumGoroutine()); g > peak.Load() {
			peak.Store(g)
		}
	}
	before := runtime.NumGoroutine()
	_, err := flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(2), flywheel.Workers(50_000), flywheel.Progress(prog))
	if err != nil {
		t.Fatal(err)
	}
	if peak.Load()-int64(before) > 100 {
		t.Errorf("Workers(50000) with 2 runs: %d goroutines running during the run", peak.Load()-int64(before))
	}
}

func TestContractProgressAndCancel(t *testing.T) {
	p := zrSmall()
	var inCall atomic.Int32
	var mu sync.Mutex
	last, calls, total := 0, 0, 0
	prog := func(done, tot int) {
		if inCall.Add(1) != 1 {
			t.Error("Progress called concurrently")
		}
		time.Sleep(50 * time.Microsecond)
		mu.Lock()
		if done <= last {
			t.Errorf("done %d after %d", done, last)
		}
		last, total = done, tot
		calls++
		mu.Unlock()
		inCall.Add(-1)
	}
	_, err := flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(1000), flywheel.Workers(2), flywheel.Progress(prog))
	if err != nil {
		t.Fatal(err)
	}
	if last != 1000 || total != 1000 {
		t.Errorf("last progress %d/%d, want 1000/1000", last, total)
	}
	if calls < 50 || calls > 205 {
		t.Errorf("%d progress calls for 1000 runs; documented about every 1%% and once at the end", calls)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = flywheel.MonteCarlo(ctx, p, flywheel.Runs(1000))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: %v", err)
	}
	_, err = flywheel.Agent(ctx, p)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Agent cancelled ctx: %v", err)
	}
}

func TestContractDivergedErrorIndependentOfWorkers(t *testing.T) {
	// Some runs explode (inflow at the limit, conversions 1): the error is the
	// lowest such run's, whatever the number of workers.
	p := zrSmall()
	p.Conversion = [4]float64{1, 1, 1, 1}
	p.ReferredConversion = 1
	inflow := func(r *rand.Rand, mean float64) int {
		if r.Float64() < 0.05 {
			return flywheel.MaxPopulation
		}
		return 10
	}
	var msgs []string
	for _, w := range []int{1, 2, 5} {
		_, err := flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(400), flywheel.Seed(3),
			flywheel.Workers(w), flywheel.PaidInflow(inflow))
		if !errors.Is(err, flywheel.ErrDiverged) {
			t.Fatalf("Workers(%d): %v, want ErrDiverged", w, err)
		}
		msgs = append(msgs, err.Error())
	}
	if msgs[0] != msgs[1] || msgs[0] != msgs[2] {
		t.Errorf("diverged error depends on workers: %q", msgs)
	}
}

// ---------------------------------------------------------------- Result accessors and output

func TestContractResultAccessors(t *testing.T) {
	res, err := flywheel.Expected(zrSmall())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, -1, 7, math.MinInt, math.MaxInt} {
		if _, err := res.Rotation(n); !errors.Is(err, flywheel.ErrInvalidParams) {
			t.Errorf("Rotation(%d) = %v", n, err)
		} else if !strings.Contains(err.Error(), strconv.Itoa(n)) {
			t.Errorf("Rotation(%d): message %q lacks the value", n, err)
		}
	}
	r5, err := res.Rotation(5)
	if err != nil || r5 != &res.Rotations[4] && r5.N != 5 {
		t.Errorf("Rotation(5) = %v, %v", r5, err)
	}
	var empty flywheel.Result
	if _, err := empty.Rotation(1); !errors.Is(err, flywheel.ErrInvalidParams) {
		t.Errorf("empty Result Rotation(1) = %v", err)
	}
	for _, m := range []flywheel.Metric{-1, flywheel.Metric(flywheel.NumMetrics), 1 << 40} {
		s := res.Series(m)
		if len(s) != 6 {
			t.Errorf("Series(%d) has %d values", m, len(s))
		}
		for _, v := range s {
			if !math.IsNaN(v) {
				t.Errorf("Series(%d) = %v, want NaN throughout", m, s)
				break
			}
		}
		if v := r5.Mean(m); !math.IsNaN(v) {
			t.Errorf("Mean(%d) = %v, want NaN", m, v)
		}
		zrNoPanic(t, "Metric.String", time.Second, func() { _ = m.String() })
	}
	names := []string{"paid_prospects", "referred_prospects", "engaged", "acquired", "new_customers", "retained",
		"new_advocates", "advocates", "referring_advocates", "new_referrals", "customers", "k", "spend", "cac"}
	all := flywheel.AllMetrics()
	if len(all) != flywheel.NumMetrics || len(names) != flywheel.NumMetrics {
		t.Fatalf("AllMetrics %d, NumMetrics %d", len(all), flywheel.NumMetrics)
	}
	for i, m := range all {
		if m.String() != names[i] {
			t.Errorf("metric %d String %q, docs/flywheel.md:131-138 say %q", i, m.String(), names[i])
		}
	}
	s := res.Series(flywheel.Engaged)
	for i, v := range s {
		if v != res.Rotations[i].Mean(flywheel.Engaged) {
			t.Errorf("Series(Engaged)[%d] = %v", i, v)
		}
	}
	dm := flywheel.DefaultChartMetrics()
	if fmt.Sprint(dm) != fmt.Sprint([]flywheel.Metric{flywheel.PaidProspects, flywheel.ReferredProspects, flywheel.NewCustomers, flywheel.Advocates}) {
		t.Errorf("DefaultChartMetrics = %v", dm)
	}
}

func TestContractResultCSVRoundTrip(t *testing.T) {
	ctx := context.Background()
	p := zrSmall()
	p.AdvocateChurn = 0.3
	ev, err := flywheel.Expected(p)
	if err != nil {
		t.Fatal(err)
	}
	mc, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(40), flywheel.Seed(2))
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range []*flywheel.Result{ev, mc} {
		rows, err := csv.NewReader(strings.NewReader(zrCSV(t, res))).ReadAll()
		if err != nil {
			t.Fatalf("%v: CSV does not parse: %v", res.Mode, err)
		}
		if len(rows) != 1+len(res.Rotations) {
			t.Fatalf("%v: %d CSV rows", res.Mode, len(rows))
		}
		want := []string{"rotation"}
		for _, m := range flywheel.AllMetrics() {
			want = append(want, m.String())
			if res.Mode == flywheel.ModeMonteCarlo {
				want = append(want, m.String()+"_se", m.String()+"_p05", m.String()+"_p50", m.String()+"_p95")
			}
		}
		if fmt.Sprint(rows[0]) != fmt.Sprint(want) {
			t.Errorf("%v header %v\nwant %v", res.Mode, rows[0], want)
		}
		for i, row := range rows[1:] {
			if row[0] != strconv.Itoa(i+1) {
				t.Errorf("rotation column %q", row[0])
			}
			col := 1
			for _, m := range flywheel.AllMetrics() {
				s := res.Rotations[i].Stats[m]
				vals := []float64{s.Mean}
				if res.Mode == flywheel.ModeMonteCarlo {
					vals = append(vals, s.StdErr)
					vals = append(vals, s.Quantiles...)
				}
				for _, v := range vals {
					got, err := strconv.ParseFloat(row[col], 64)
					if err != nil || !(got == v || math.IsNaN(got) && math.IsNaN(v)) {
						t.Errorf("%v rotation %d col %s = %q, value %v", res.Mode, i+1, rows[0][col], row[col], v)
					}
					if math.IsNaN(v) && row[col] != "NaN" {
						t.Errorf("undefined value written as %q", row[col])
					}
					col++
				}
			}
		}
	}
	// write errors are reported
	if err := ev.WriteCSV(zrFailWriter{}); err == nil {
		t.Error("WriteCSV to a failing writer returned nil")
	}
	if err := ev.WriteSVG(zrFailWriter{}); err == nil {
		t.Error("WriteSVG to a failing writer returned nil")
	}
	// duplicate quantile levels must not give a CSV with duplicate columns
	mq, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(10), flywheel.Quantiles(0.05, 0.051, 0.5))
	if err == nil {
		rows, _ := csv.NewReader(strings.NewReader(zrCSV(t, mq))).ReadAll()
		seen := map[string]bool{}
		for _, h := range rows[0] {
			if seen[h] {
				t.Errorf("Quantiles(0.05, 0.051, 0.5): duplicate CSV column %q", h)
			}
			seen[h] = true
		}
	} else if !errors.Is(err, flywheel.ErrInvalidParams) {
		t.Errorf("Quantiles(0.05, 0.051, 0.5): %v", err)
	}
}

type zrFailWriter struct{}

func (zrFailWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

type zrNode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Content string     `xml:",chardata"`
	Nodes   []zrNode   `xml:",any"`
}

func (n *zrNode) walk(f func(*zrNode)) {
	f(n)
	for i := range n.Nodes {
		n.Nodes[i].walk(f)
	}
}

func (n *zrNode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (n *zrNode) texts() []string {
	var out []string
	n.walk(func(c *zrNode) {
		if s := strings.TrimSpace(c.Content); s != "" {
			out = append(out, s)
		}
	})
	return out
}

// zrCheckSVG parses an SVG and checks it is well formed with finite numbers.
func zrCheckSVG(t *testing.T, name string, data []byte) *zrNode {
	t.Helper()
	var root zrNode
	if err := xml.Unmarshal(data, &root); err != nil {
		t.Errorf("%s: SVG does not parse: %v", name, err)
		return &root
	}
	if root.XMLName.Local != "svg" {
		t.Errorf("%s: root element %q", name, root.XMLName.Local)
	}
	low := strings.ToLower(string(data))
	for _, bad := range []string{"nan", "inf", "e+"} {
		// look only inside attribute values of geometry
		root.walk(func(n *zrNode) {
			for _, a := range n.Attrs {
				switch a.Name.Local {
				case "x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r", "width", "height", "points", "d", "transform":
					if strings.Contains(strings.ToLower(a.Value), bad) {
						t.Errorf("%s: <%s %s=%q>", name, n.XMLName.Local, a.Name.Local, a.Value)
					}
				}
			}
		})
	}
	_ = low
	return &root
}

func TestContractResultSVG(t *testing.T) {
	p := flywheel.LiteratureExample()
	mc, err := flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(100), flywheel.Seed(4))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := mc.WriteSVG(&b); err != nil {
		t.Fatal(err)
	}
	root := zrCheckSVG(t, "mc default", b.Bytes())
	if root.attr("width") != "800" || root.attr("height") != "480" {
		t.Errorf("size %q×%q, want 800×480", root.attr("width"), root.attr("height"))
	}
	txt := strings.Join(root.texts(), "|")
	for _, m := range flywheel.DefaultChartMetrics() {
		if !strings.Contains(txt, m.String()) && !strings.Contains(txt, strings.ReplaceAll(m.String(), "_", " ")) {
			t.Errorf("legend lacks %v: %s", m, txt)
		}
	}
	// default metrics mix flows and a stock (advocates): the kind, "count"
	if !strings.Contains(txt, "|count|") || strings.Contains(txt, "count per rotation") {
		t.Errorf("y label of the default metrics: %s", txt)
	}
	b.Reset()
	if err := mc.WriteSVG(&b, flywheel.PaidProspects, flywheel.NewCustomers); err != nil {
		t.Fatal(err)
	}
	if txt := strings.Join(zrCheckSVG(t, "flows", b.Bytes()).texts(), "|"); !strings.Contains(txt, "count per rotation") {
		t.Errorf("y label of flows: %s", txt)
	}
	b.Reset()
	if err := mc.WriteSVG(&b, flywheel.AcquisitionCost); err != nil {
		t.Fatal(err)
	}
	root = zrCheckSVG(t, "cac", b.Bytes())
	if txt := strings.Join(root.texts(), "|"); !strings.Contains(txt, "money per new customer") {
		t.Errorf("y label of CAC: %s", txt)
	}
	// a single rotation (degenerate x range), huge values
	p1 := p
	p1.Rotations = 1
	p1.PaidProspects = 1 << 49
	e1, err := flywheel.Expected(p1)
	if err != nil {
		t.Fatal(err)
	}
	b.Reset()
	if err := e1.WriteSVG(&b, flywheel.AllMetrics()...); err != nil {
		t.Fatal(err)
	}
	zrCheckSVG(t, "one rotation, all metrics", b.Bytes())
	// invalid metric: an error, not a panic
	zrNoPanic(t, "WriteSVG(Metric(99))", 5*time.Second, func() {
		b.Reset()
		_ = mc.WriteSVG(&b, flywheel.Metric(99), flywheel.Metric(-1))
	})
	zrNoPanic(t, "WriteSVG of an empty Result", 5*time.Second, func() {
		var r flywheel.Result
		_ = r.WriteSVG(io.Discard)
		_ = r.WriteCSV(io.Discard)
	})
}

// ---------------------------------------------------------------- sweeps

func TestContractSweepValues(t *testing.T) {
	ctx := context.Background()
	base := flywheel.LiteratureExample()
	tab, err := flywheel.Sweep(ctx, base,
		[]flywheel.Outcome{flywheel.CustomersAfter(12), flywheel.MetricAt(flywheel.Advocates, 12), flywheel.CrossoverRotation(),
			flywheel.CustomersAfter(13), flywheel.MetricAt(flywheel.Metric(99), 3)},
		[]flywheel.Axis{{Param: flywheel.ParamReferrals, Values: []float64{0.5, 1, 2}}, {Param: flywheel.ParamAdvocateChurn, Values: []float64{0, 0.5}}})
	if err != nil {
		t.Fatal(err)
	}
	if tab.Mode != flywheel.ModeExpected || tab.Runs != 1 {
		t.Errorf("table mode %v runs %d", tab.Mode, tab.Runs)
	}
	names := []string{"customers_after_12", "advocates_at_12"}
	for i, n := range names {
		if tab.Grids[i].Outcome != n {
			t.Errorf("outcome %d named %q, want %q", i, tab.Grids[i].Outcome, n)
		}
	}
	for j, y := range tab.Y.Values {
		for i, x := range tab.X.Values {
			p := base
			p.Referrals, p.AdvocateChurn = x, y
			res, err := flywheel.Expected(p)
			if err != nil {
				t.Fatal(err)
			}
			r12 := res.Rotations[11]
			if g := tab.Grids[0].Values[j][i]; g != r12.Mean(flywheel.Customers) {
				t.Errorf("[%d][%d] customers_after_12 %v, Expected %v", j, i, g, r12.Mean(flywheel.Customers))
			}
			if g := tab.Grids[1].Values[j][i]; g != r12.Mean(flywheel.Advocates) {
				t.Errorf("[%d][%d] advocates_at_12 %v, Expected %v", j, i, g, r12.Mean(flywheel.Advocates))
			}
			cross := math.NaN()
			for _, rot := range res.Rotations {
				if rot.Mean(flywheel.ReferredProspects) > rot.Mean(flywheel.PaidProspects) {
					cross = float64(rot.N)
					break
				}
			}
			if g := tab.Grids[2].Values[j][i]; !(g == cross || math.IsNaN(g) && math.IsNaN(cross)) {
				t.Errorf("[%d][%d] crossover %v, want %v", j, i, g, cross)
			}
			if g := tab.Grids[3].Values[j][i]; !math.IsNaN(g) || tab.Grids[3].N[j][i] != 0 {
				t.Errorf("customers_after_13 of 12 rotations = %v (N %d), want NaN, 0", g, tab.Grids[3].N[j][i])
			}
			if g := tab.Grids[4].Values[j][i]; !math.IsNaN(g) {
				t.Errorf("MetricAt(99) = %v, want NaN", g)
			}
			if tab.Grids[0].StdErr[j][i] != 0 || tab.Grids[0].N[j][i] != 1 {
				t.Errorf("expected-mode StdErr %v N %d", tab.Grids[0].StdErr[j][i], tab.Grids[0].N[j][i])
			}
		}
	}
	// literature example crossover: A(t-1) > 100 first at t = 9
	if g := tab.Grids[2].Values[0][1]; g != 9 {
		t.Errorf("literature crossover %v, want 9 (hand: 100·(1.10125^8−1) = 116 > 100, ^7 gives 96)", g)
	}
	g, err := tab.Grid("customers_after_12")
	if err != nil || g != &tab.Grids[0] && g.Outcome != "customers_after_12" {
		t.Errorf("Grid(name) = %v, %v", g, err)
	}
	if _, err := tab.Grid("nope"); !errors.Is(err, flywheel.ErrInvalidParams) {
		t.Errorf("Grid(unknown) = %v", err)
	}
	// CSV long form
	var b bytes.Buffer
	if err := tab.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+6 || len(rows[0]) != 2+5 || rows[0][0] != "referrals" || rows[0][1] != "churn" || rows[0][2] != "customers_after_12" {
		t.Errorf("sweep CSV: %d rows, header %v", len(rows), rows[0])
	}
	// SVGs
	b.Reset()
	if err := tab.WriteHeatmapSVG(&b, "customers_after_12"); err != nil {
		t.Fatal(err)
	}
	zrCheckSVG(t, "heatmap", b.Bytes())
	b.Reset()
	if err := tab.WriteHeatmapSVG(&b, "crossover_rotation"); err != nil && tab.Grids[2].Outcome == "crossover_rotation" {
		t.Errorf("heatmap with some NaN: %v", err)
	}
	b.Reset()
	if err := tab.WriteLinesSVG(&b, "advocates_at_12"); err != nil {
		t.Fatal(err)
	}
	root := zrCheckSVG(t, "lines", b.Bytes())
	txt := strings.Join(root.texts(), "|")
	if !strings.Contains(txt, "churn = 0.5") || !strings.Contains(txt, "churn = 0") {
		t.Errorf("lines legend lacks \"churn = 0.5\": %s", txt)
	}
	for _, bad := range []string{"nope", "customers_after_13"} {
		if err := tab.WriteHeatmapSVG(io.Discard, bad); !errors.Is(err, flywheel.ErrInvalidParams) {
			t.Errorf("heatmap %q: %v", bad, err)
		}
		if err := tab.WriteLinesSVG(io.Discard, bad); !errors.Is(err, flywheel.ErrInvalidParams) {
			t.Errorf("lines %q: %v", bad, err)
		}
	}
	one, err := flywheel.Sweep(ctx, base, []flywheel.Outcome{flywheel.CustomersAfter(3)},
		[]flywheel.Axis{{Param: flywheel.ParamLag, Values: []float64{1, 2, 3}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := one.WriteHeatmapSVG(io.Discard, "customers_after_3"); !errors.Is(err, flywheel.ErrInvalidParams) {
		t.Errorf("heatmap of a one-parameter sweep: %v", err)
	}
	if len(one.Grids[0].Values) != 1 || len(one.Grids[0].Values[0]) != 3 {
		t.Errorf("one-parameter sweep grid shape %d", len(one.Grids[0].Values))
	}
	b.Reset()
	if err := one.WriteLinesSVG(&b, "customers_after_3"); err != nil {
		t.Fatal(err)
	}
	zrCheckSVG(t, "one-param lines", b.Bytes())
}

func TestContractSweepBadInput(t *testing.T) {
	ctx := context.Background()
	base := zrSmall()
	good := []flywheel.Outcome{flywheel.CustomersAfter(3)}
	ax := []flywheel.Axis{{Param: flywheel.ParamReferrals, Values: []float64{1, 2}}}
	cases := []struct {
		name     string
		outcomes []flywheel.Outcome
		axes     []flywheel.Axis
		opts     []flywheel.SweepOption
		mention  string
	}{
		{"no axes", good, nil, nil, ""},
		{"three axes", good, []flywheel.Axis{ax[0], {Param: "lag", Values: []float64{1}}, {Param: "churn", Values: []float64{0}}}, nil, ""},
		{"unknown param", good, []flywheel.Axis{{Param: "bogus", Values: []float64{1}}}, nil, "bogus"},
		{"empty values", good, []flywheel.Axis{{Param: "lag", Values: nil}}, nil, "lag"},
		{"no outcomes", nil, ax, nil, ""},
		{"nil Of", []flywheel.Outcome{{Name: "x"}}, ax, nil, "x"},
		{"empty name", []flywheel.Outcome{{Name: "", Of: good[0].Of}}, ax, nil, ""},
		{"duplicate names", []flywheel.Outcome{good[0], good[0]}, ax, nil, "customers_after_3"},
		{"invalid point", good, []flywheel.Axis{{Param: "churn", Values: []float64{0.5, 2}}}, nil, "2"},
		{"NaN point", good, []flywheel.Axis{{Param: "churn", Values: []float64{math.NaN()}}}, nil, "NaN"},
		{"fractional lag", good, []flywheel.Axis{{Param: "lag", Values: []float64{1.5}}}, nil, "1.5"},
		{"Runs in expected", good, ax, []flywheel.SweepOption{flywheel.Runs(10)}, "Runs"},
		{"Seed in expected", good, ax, []flywheel.SweepOption{flywheel.Seed(1)}, "Seed"},
		{"Workers in expected", good, ax, []flywheel.SweepOption{flywheel.Workers(2)}, "Workers"},
		{"PaidInflow in expected", good, ax, []flywheel.SweepOption{flywheel.PaidInflow(flywheel.ConstantInflow())}, "PaidInflow"},
		{"Progress in expected", good, ax, []flywheel.SweepOption{flywheel.Progress(func(int, int) {})}, "Progress"},
		{"bad mode", good, ax, []flywheel.SweepOption{flywheel.SweepMode(flywheel.ModeAgent)}, ""},
		{"bad mode string", good, ax, []flywheel.SweepOption{flywheel.SweepMode("x")}, ""},
		{"MC runs 0", good, ax, []flywheel.SweepOption{flywheel.SweepMode(flywheel.ModeMonteCarlo), flywheel.Runs(0)}, ""},
		{"too many cells", good, []flywheel.Axis{{Param: "referrals", Values: make([]float64, 1025)}, {Param: "churn", Values: make([]float64, 1025)}}, nil, ""},
		{"too many cells 1D", good, []flywheel.Axis{{Param: "referrals", Values: make([]float64, flywheel.MaxSweepCells+1)}}, nil, ""},
	}
	for _, c := range cases {
		zrNoPanic(t, c.name, 20*time.Second, func() {
			ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			defer cancel()
			_, err := flywheel.Sweep(ctx, base, c.outcomes, c.axes, c.opts...)
			if !errors.Is(err, flywheel.ErrInvalidParams) {
				t.Errorf("%s: %v, want ErrInvalidParams", c.name, err)
			} else if c.mention != "" && !strings.Contains(err.Error(), c.mention) {
				t.Errorf("%s: message %q should name %q", c.name, err, c.mention)
			}
		})
	}
	// nil SweepOption is skipped
	if _, err := flywheel.Sweep(ctx, base, good, ax, nil); err != nil {
		t.Errorf("nil option: %v", err)
	}
	// invalid base refused
	bad := base
	bad.Rotations = 0
	if _, err := flywheel.Sweep(ctx, bad, good, ax); !errors.Is(err, flywheel.ErrInvalidParams) {
		t.Errorf("invalid base: %v", err)
	}
	// a diverging point stops with ErrDiverged naming the point
	div := base
	div.Rotations = 200
	_, err := flywheel.Sweep(ctx, div, good, []flywheel.Axis{{Param: "referrals", Values: []float64{1, 1e6}}})
	if !errors.Is(err, flywheel.ErrDiverged) || !strings.Contains(err.Error(), "1e+06") && !strings.Contains(err.Error(), "1000000") {
		t.Errorf("diverging point: %v", err)
	}
}

func TestContractSweepMonteCarloMatchesMonteCarlo(t *testing.T) {
	ctx := context.Background()
	p := flywheel.LiteratureExample()
	p.AdvocateChurn = 0.25
	const runs = 300
	mc, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(runs), flywheel.Seed(8))
	if err != nil {
		t.Fatal(err)
	}
	tab, err := flywheel.Sweep(ctx, p, []flywheel.Outcome{flywheel.CustomersAfter(12), flywheel.MetricAt(flywheel.Engaged, 5)},
		[]flywheel.Axis{{Param: "churn", Values: []float64{0.25}}},
		flywheel.SweepMode(flywheel.ModeMonteCarlo), flywheel.Runs(runs), flywheel.Seed(8), flywheel.Workers(2))
	if err != nil {
		t.Fatal(err)
	}
	if tab.Mode != flywheel.ModeMonteCarlo || tab.Runs != runs {
		t.Errorf("table %v %d", tab.Mode, tab.Runs)
	}
	s := mc.Rotations[11].Stats[flywheel.Customers]
	g := tab.Grids[0]
	if !zrClose(g.Values[0][0], s.Mean, 1e-12) || !zrClose(g.StdErr[0][0], s.StdErr, 1e-9) || g.N[0][0] != runs {
		t.Errorf("sweep %v ± %v (N %d), MonteCarlo Stat %v ± %v", g.Values[0][0], g.StdErr[0][0], g.N[0][0], s.Mean, s.StdErr)
	}
	s = mc.Rotations[4].Stats[flywheel.Engaged]
	if g := tab.Grids[1]; !zrClose(g.Values[0][0], s.Mean, 1e-12) {
		t.Errorf("engaged_at_5 %v, MonteCarlo %v", g.Values[0][0], s.Mean)
	}
	// same seed, same table, whatever the workers
	tab2, err := flywheel.Sweep(ctx, p, []flywheel.Outcome{flywheel.CustomersAfter(12), flywheel.MetricAt(flywheel.Engaged, 5)},
		[]flywheel.Axis{{Param: "churn", Values: []float64{0.25}}},
		flywheel.SweepMode(flywheel.ModeMonteCarlo), flywheel.Runs(runs), flywheel.Seed(8), flywheel.Workers(1))
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	_ = tab.WriteCSV(&a)
	_ = tab2.WriteCSV(&b)
	if a.String() != b.String() {
		t.Errorf("sweep depends on workers")
	}
	rows, err := csv.NewReader(&a).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantHdr := []string{"churn", "customers_after_12", "customers_after_12_se", "customers_after_12_n", "engaged_at_5", "engaged_at_5_se", "engaged_at_5_n"}
	if fmt.Sprint(rows[0]) != fmt.Sprint(wantHdr) {
		t.Errorf("MC sweep CSV header %v, want %v", rows[0], wantHdr)
	}
	// single run: StdErr 0
	one, err := flywheel.Sweep(ctx, p, []flywheel.Outcome{flywheel.CustomersAfter(12)},
		[]flywheel.Axis{{Param: "churn", Values: []float64{0.25}}},
		flywheel.SweepMode(flywheel.ModeMonteCarlo), flywheel.Runs(1))
	if err != nil {
		t.Fatal(err)
	}
	if se := one.Grids[0].StdErr[0][0]; se != 0 {
		t.Errorf("single-run sweep StdErr %v, documented 0", se)
	}
	// documented example value: 728 ± 3
	ex, err := flywheel.Sweep(ctx, flywheel.LiteratureExample(),
		[]flywheel.Outcome{flywheel.CustomersAfter(12)},
		[]flywheel.Axis{{Param: flywheel.ParamReferrals, Values: []float64{0.5, 1}}, {Param: flywheel.ParamAdvocateChurn, Values: []float64{0}}},
		flywheel.SweepMode(flywheel.ModeMonteCarlo), flywheel.Runs(1000), flywheel.Seed(7),
		flywheel.PaidInflow(flywheel.ConstantInflow()))
	if err != nil {
		t.Fatal(err)
	}
	v, se := ex.Grids[0].Values[0][1], ex.Grids[0].StdErr[0][1]
	if math.Round(v) != 728 || math.Round(1.96*se) != 3 {
		t.Errorf("docs/flywheel.md:255 says 728 ± 3, got %v ± %v", v, 1.96*se)
	}
}

// ---------------------------------------------------------------- agent

func TestContractAgentBasics(t *testing.T) {
	ctx := context.Background()
	p := zrSmall()
	p.AdvocateChurn = 0.3
	st := store.NewMemory()
	run, err := flywheel.Agent(ctx, p, flywheel.Seed(21), flywheel.WithStore(st))
	if err != nil {
		t.Fatal(err)
	}
	res := run.Result
	if res.Mode != flywheel.ModeAgent || res.Runs != 1 || res.Seed != 21 || len(res.Rotations) != p.Rotations {
		t.Errorf("agent result header %v %d %d %d", res.Mode, res.Runs, res.Seed, len(res.Rotations))
	}
	if run.Tracker == nil || run.Tracker.Store() != lifecycle.Store(st) {
		t.Errorf("run.Tracker.Store() is not the given store")
	}
	// customers in the store: one per prospect, named c1..cN
	engaged := 0.0
	for _, rot := range res.Rotations {
		engaged += rot.Mean(flywheel.Engaged)
		if rot.Mean(flywheel.Engaged) != rot.Mean(flywheel.PaidProspects)+rot.Mean(flywheel.ReferredProspects) {
			t.Errorf("rotation %d engaged != paid+referred", rot.N)
		}
	}
	n, seen, credits := 0, 0, int64(0)
	ids := map[string]bool{}
	end := flywheel.DefaultStart.Add(time.Duration(p.Rotations) * flywheel.DefaultEvery)
	for c, err := range st.Scan(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		ids[c.ID] = true
		seen += c.Seen.Len()
		credits += c.Facts.Count(lifecycle.ReferralConverted)
		if c.Facts.First.Before(flywheel.DefaultStart) || !c.Facts.Last.Before(end) {
			t.Errorf("customer %s has events %v..%v outside the simulated rotations", c.ID, c.Facts.First, c.Facts.Last)
		}
		if !c.HasSeen(c.ID + ":visit") {
			t.Errorf("customer %s lacks event %q", c.ID, c.ID+":visit")
		}
	}
	if float64(n) != engaged {
		t.Errorf("%d customers in the store, Σ engaged = %v", n, engaged)
	}
	for i := 1; i <= n; i++ {
		if !ids["c"+strconv.Itoa(i)] {
			t.Errorf("customer c%d missing (IDs are c1..cN)", i)
			break
		}
	}
	if run.Events != seen {
		t.Errorf("run.Events %d, events in the store (credits excluded) %d", run.Events, seen)
	}
	nref := 0.0
	for _, rot := range res.Rotations {
		nref += rot.Mean(flywheel.NewReferrals)
	}
	if float64(credits) != nref {
		t.Errorf("Σ new referrals %v, referral_converted credits in the store %d", nref, credits)
	}
	if run.Measurement == nil || run.Measurement.Customers != n || len(run.Measurement.Rotations) != p.Rotations {
		t.Errorf("Measurement %+v", run.Measurement)
	} else {
		for i, rm := range run.Measurement.Rotations {
			rot := res.Rotations[i]
			if float64(rm.Prospects) != rot.Mean(flywheel.Engaged) || float64(rm.NewCustomers) != rot.Mean(flywheel.NewCustomers) ||
				float64(rm.ReferredProspects) != rot.Mean(flywheel.ReferredProspects) {
				t.Errorf("rotation %d: measurement prospects %d/%d new %d vs result %v/%v/%v", i+1, rm.Prospects, rm.ReferredProspects, rm.NewCustomers,
					rot.Mean(flywheel.Engaged), rot.Mean(flywheel.ReferredProspects), rot.Mean(flywheel.NewCustomers))
			}
		}
	}
	// same seed → same result and events
	st2 := store.NewMemory()
	run2, err := flywheel.Agent(ctx, p, flywheel.Seed(21), flywheel.WithStore(st2))
	if err != nil {
		t.Fatal(err)
	}
	if zrCSV(t, run2.Result) != zrCSV(t, res) || run2.Events != run.Events {
		t.Errorf("same seed, different agent run")
	}
	// Agent uses the stream of Monte Carlo run 0: with certain steps, Runs(1)
	// MonteCarlo and Agent see the same paid prospects.
	run3, err := flywheel.Agent(ctx, p, flywheel.Seed(22))
	if err != nil {
		t.Fatal(err)
	}
	if zrCSV(t, run3.Result) == zrCSV(t, res) {
		t.Errorf("seed 22 gives the same agent run as seed 21")
	}
}

func TestContractAgentAppendsToStore(t *testing.T) {
	ctx := context.Background()
	p := zrSmall()
	p.Rotations = 2
	st := store.NewMemory()
	tr := lifecycle.NewTracker(flywheel.Model(), st)
	for _, id := range []string{"c5", "c12x", "alice"} {
		if _, err := tr.Record(ctx, lifecycle.Event{ID: id + ":visit", CustomerID: id, Type: lifecycle.SiteVisited, Time: flywheel.DefaultStart.Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	run, err := flywheel.Agent(ctx, p, flywheel.WithStore(st), flywheel.Seed(1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Get(ctx, "c1"); err == nil {
		t.Errorf("run's customers named from c1 although c5 exists")
	}
	c6, err := st.Get(ctx, "c6")
	if err != nil {
		t.Fatalf("first run customer should be c6: %v", err)
	}
	if c6.Facts.First.Before(flywheel.DefaultStart) {
		t.Errorf("c6 took an earlier customer's events")
	}
	// pre-existing customers are measured too
	total := 0
	for range st.Scan(ctx) {
		total++
	}
	if run.Measurement.Customers != total {
		t.Errorf("Measurement.Customers %d, store holds %d", run.Measurement.Customers, total)
	}
}

func TestContractAgentOptionsBad(t *testing.T) {
	ctx := context.Background()
	p := zrSmall()
	for _, c := range []struct {
		name string
		opt  flywheel.AgentOption
	}{
		{"Every(0)", flywheel.Every(0)},
		{"Every(-1h)", flywheel.Every(-time.Hour)},
		{"Every(59s)", flywheel.Every(59 * time.Second)},
		{"MaxEvents(-1)", flywheel.MaxEvents(-1)},
	} {
		zrNoPanic(t, c.name, 10*time.Second, func() {
			_, err := flywheel.Agent(ctx, p, c.opt)
			if !errors.Is(err, flywheel.ErrInvalidParams) {
				t.Errorf("%s: %v, want ErrInvalidParams", c.name, err)
			}
		})
	}
	for _, c := range []struct {
		name string
		opt  flywheel.AgentOption
	}{
		{"WithModel(nil)", flywheel.WithModel(nil)},
		{"WithStore(nil)", flywheel.WithStore(nil)},
		{"nil option", nil},
		{"StartAt(zero)", flywheel.StartAt(time.Time{})},
		{"StartAt(far future)", flywheel.StartAt(time.Date(9999, 12, 1, 0, 0, 0, 0, time.UTC))},
	} {
		zrNoPanic(t, c.name, 20*time.Second, func() {
			_, err := flywheel.Agent(ctx, p, c.opt)
			if err != nil && !errors.Is(err, flywheel.ErrInvalidParams) && !errors.Is(err, lifecycle.ErrInvalidEvent) {
				t.Errorf("%s: unexpected error kind %v", c.name, err)
			}
		})
	}
	// MaxEvents enforced: ErrDiverged, quickly, even with a huge population
	for _, pp := range []float64{100, 1e12, 1 << 50} {
		q := p
		q.PaidProspects = pp
		zrNoPanic(t, fmt.Sprintf("MaxEvents paid %v", pp), 30*time.Second, func() {
			_, err := flywheel.Agent(ctx, q, flywheel.MaxEvents(500))
			if !errors.Is(err, flywheel.ErrDiverged) {
				t.Errorf("paid %v, MaxEvents(500): %v, want ErrDiverged", pp, err)
			}
		})
	}
}

func TestContractAgentShortRotations(t *testing.T) {
	// Every(1m): rotation t covers [start+t·every, start+(t+1)·every); the
	// agent's own funnel counts should stay consistent with what the store
	// measures per rotation.
	ctx := context.Background()
	p := zrSmall()
	p.Conversion = [4]float64{1, 1, 1, 1}
	p.ReferredConversion = 1
	p.PaidProspects = 20
	p.Rotations = 4
	for _, every := range []time.Duration{time.Minute, time.Hour, 24 * time.Hour} {
		run, err := flywheel.Agent(ctx, p, flywheel.Every(every), flywheel.Seed(5), flywheel.PaidInflow(flywheel.ConstantInflow()))
		if err != nil {
			t.Fatalf("Every(%v): %v", every, err)
		}
		end := flywheel.DefaultStart.Add(4 * every)
		outside := 0
		for c, err := range run.Tracker.Store().Scan(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			if !c.Facts.Last.Before(end) {
				outside++
			}
		}
		if outside > 0 {
			t.Errorf("Every(%v): %d customers have events after the last rotation's end", every, outside)
		}
		for _, rot := range run.Result.Rotations {
			if rot.Mean(flywheel.NewCustomers) != rot.Mean(flywheel.Acquired) {
				t.Errorf("Every(%v) rotation %d: all steps certain, yet acquired %v (agent) vs new customers %v (store)",
					every, rot.N, rot.Mean(flywheel.Acquired), rot.Mean(flywheel.NewCustomers))
			}
		}
	}
}

func TestContractAgentAgreesWithExpected(t *testing.T) {
	for _, p := range []flywheel.Params{zrAgentP(0.75, 0, 1, 1.5), zrAgentP(0.3, 0.4, 2, 3)} {
		zrAgentAgree(t, p)
	}
}

func zrAgentP(rc, churn float64, lag int, referrals float64) flywheel.Params {
	p := zrSmall()
	p.Rotations = 6
	p.ReferredConversion, p.AdvocateChurn, p.Lag, p.Referrals = rc, churn, lag, referrals
	return p
}

func zrAgentAgree(t *testing.T, p flywheel.Params) {
	ctx := context.Background()
	ev, err := flywheel.Expected(p)
	if err != nil {
		t.Fatal(err)
	}
	const n = 24
	sum := make([][flywheel.NumMetrics]float64, p.Rotations)
	sq := make([][flywheel.NumMetrics]float64, p.Rotations)
	for s := range uint64(n) {
		run, err := flywheel.Agent(ctx, p, flywheel.Seed(s))
		if err != nil {
			t.Fatal(err)
		}
		for i, rot := range run.Result.Rotations {
			for m := range flywheel.NumMetrics {
				v := rot.Stats[m].Mean
				sum[i][m] += v
				sq[i][m] += v * v
			}
		}
	}
	for i := range sum {
		for _, m := range []flywheel.Metric{flywheel.Engaged, flywheel.ReferredProspects, flywheel.Acquired, flywheel.NewCustomers, flywheel.Retained,
			flywheel.NewAdvocates, flywheel.Advocates, flywheel.NewReferrals, flywheel.Customers} {
			mean := sum[i][m] / n
			sd := math.Sqrt(math.Max(0, (sq[i][m]-n*mean*mean)/(n-1)))
			want := ev.Rotations[i].Mean(m)
			if math.Abs(mean-want) > 5*sd/math.Sqrt(n)+0.5 {
				t.Errorf("rc %v churn %v lag %d: rotation %d %v: agent mean %v (sd %v), expected %v", p.ReferredConversion, p.AdvocateChurn, p.Lag, i+1, m, mean, sd, want)
			}
		}
	}
}

// ---------------------------------------------------------------- measure

func TestContractMeasureBadInput(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	cases := []struct {
		name  string
		s     lifecycle.Store
		every time.Duration
		rot   int
		opts  []flywheel.MeasureOption
	}{
		{"nil store", nil, time.Hour, 3, nil},
		{"every 0", st, 0, 3, nil},
		{"every <0", st, -time.Hour, 3, nil},
		{"rotations 0", st, time.Hour, 0, nil},
		{"rotations too many", st, time.Hour, flywheel.MaxMeasureRotations + 1, nil},
		{"nil graph", st, time.Hour, 3, []flywheel.MeasureOption{flywheel.WithGraph(nil)}},
		{"negative spend", st, time.Hour, 3, []flywheel.MeasureOption{flywheel.WithSpend(1, -1)}},
		{"NaN spend", st, time.Hour, 3, []flywheel.MeasureOption{flywheel.WithSpend(math.NaN())}},
		{"Inf spend", st, time.Hour, 3, []flywheel.MeasureOption{flywheel.WithSpend(math.Inf(1))}},
	}
	for _, c := range cases {
		zrNoPanic(t, c.name, 5*time.Second, func() {
			_, err := flywheel.Measure(ctx, c.s, flywheel.DefaultStart, c.every, c.rot, c.opts...)
			if !errors.Is(err, flywheel.ErrInvalidParams) {
				t.Errorf("Measure %s: %v, want ErrInvalidParams", c.name, err)
			}
		})
	}
	zrNoPanic(t, "nil MeasureOption", 5*time.Second, func() {
		_, _ = flywheel.Measure(ctx, st, flywheel.DefaultStart, time.Hour, 3, nil)
	})
	// Rotation boundaries with a long period must not overflow.
	m, err := flywheel.Measure(ctx, st, flywheel.DefaultStart, 200*365*24*time.Hour, 50)
	if err != nil {
		t.Fatalf("Measure 200-year rotations: %v", err)
	}
	for i, r := range m.Rotations {
		if !r.End.After(r.Start) || (i > 0 && !r.Start.Equal(m.Rotations[i-1].End)) || r.N != i+1 {
			t.Errorf("rotation %d: [%v, %v) after %v", r.N, r.Start, r.End, m.Rotations[max(0, i-1)].End)
			break
		}
	}
	// empty store: undefined shares and trends
	m, err = flywheel.Measure(ctx, st, flywheel.DefaultStart, time.Hour, 3, flywheel.WithSpend(5))
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(m.ReferredShareTrend) || !math.IsNaN(m.AcquisitionCostTrend) || !math.IsNaN(m.Rotations[0].ReferredShare) ||
		m.Rotations[0].Spend != 5 || !math.IsNaN(m.Rotations[1].Spend) || !math.IsNaN(m.Rotations[0].AcquisitionCost) {
		t.Errorf("empty store measurement: %+v %+v", m, m.Rotations[0])
	}
}

func TestContractMeasureAgent(t *testing.T) {
	// Measure of an agent run with spend: acquisition cost = spend ÷ new customers.
	ctx := context.Background()
	p := zrSmall()
	run, err := flywheel.Agent(ctx, p, flywheel.Seed(9))
	if err != nil {
		t.Fatal(err)
	}
	var spend []float64
	for _, rot := range run.Result.Rotations {
		spend = append(spend, rot.Mean(flywheel.Spend))
	}
	m, err := flywheel.Measure(ctx, run.Tracker.Store(), flywheel.DefaultStart, flywheel.DefaultEvery, p.Rotations, flywheel.WithSpend(spend...))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range m.Rotations {
		want := math.NaN()
		if r.NewCustomers > 0 {
			want = spend[i] / float64(r.NewCustomers)
		}
		if !zrClose(r.AcquisitionCost, want, 1e-12) || !zrClose(run.Result.Rotations[i].Mean(flywheel.AcquisitionCost), want, 1e-12) {
			t.Errorf("rotation %d CAC %v (result %v), want %v", r.N, r.AcquisitionCost, run.Result.Rotations[i].Mean(flywheel.AcquisitionCost), want)
		}
		if r.Prospects > 0 && !zrClose(r.ReferredShare, float64(r.ReferredProspects)/float64(r.Prospects), 1e-12) {
			t.Errorf("rotation %d referred share %v", r.N, r.ReferredShare)
		}
		for s := range r.Connected {
			if r.Exposed[s] > 0 && r.HandedOn[s] > r.Exposed[s] {
				t.Errorf("rotation %d stage %d: handed on %d of %d exposed", r.N, s, r.HandedOn[s], r.Exposed[s])
			}
		}
	}
}

// ---------------------------------------------------------------- model registry

func TestContractModelRegistered(t *testing.T) {
	m, err := model.Lookup("flywheel")
	if err != nil {
		t.Fatal(err)
	}
	if m.Name() != "flywheel" || flywheel.Model().Name() != "flywheel" {
		t.Errorf("names %q %q", m.Name(), flywheel.Model().Name())
	}
	ids := flywheel.Graph().IDs()
	if fmt.Sprint(ids) != fmt.Sprint([]string{"engage", "acquire", "nurture", "retain", "advocate"}) {
		t.Errorf("graph %v", ids)
	}
}

// ---------------------------------------------------------------- Bass

func TestContractBass(t *testing.T) {
	b := flywheel.Bass{P: 0.03, Q: 0.38, M: 1000}
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []flywheel.Bass{{0, 0.3, 1}, {0.1, -0.1, 1}, {0.1, 0.3, 0}, {math.NaN(), 0.3, 1}, {0.1, math.Inf(1), 1}, {0.1, 0.3, math.Inf(1)}} {
		if err := bad.Validate(); !errors.Is(err, flywheel.ErrInvalidParams) {
			t.Errorf("Validate(%+v) = %v", bad, err)
		}
	}
	// F formula, derived values
	tt := 3.0
	e := math.Exp(-(b.P + b.Q) * tt)
	if want := (1 - e) / (1 + b.Q/b.P*e); !zrClose(b.F(tt), want, 1e-12) || !zrClose(b.Cumulative(tt), b.M*want, 1e-12) {
		t.Errorf("F(3) = %v want %v", b.F(tt), want)
	}
	if b.F(0) != 0 || b.F(-1) != 0 || b.Density(-1) != 0 {
		t.Errorf("F(0) %v F(-1) %v Density(-1) %v", b.F(0), b.F(-1), b.Density(-1))
	}
	ts := b.PeakTime()
	if !zrClose(ts, math.Log(b.Q/b.P)/(b.P+b.Q), 1e-12) || !zrClose(b.PeakDensity(), (b.P+b.Q)*(b.P+b.Q)/(4*b.Q), 1e-12) ||
		!zrClose(b.Density(ts), b.PeakDensity(), 1e-9) || !zrClose(b.F(ts), (b.Q-b.P)/(2*b.Q), 1e-9) {
		t.Errorf("peak: t* %v f %v density(t*) %v F(t*) %v", ts, b.PeakDensity(), b.Density(ts), b.F(ts))
	}
	if lo := (flywheel.Bass{P: 0.3, Q: 0.1, M: 1}); lo.PeakTime() != 0 || lo.PeakDensity() != lo.P {
		t.Errorf("Q ≤ P: peak %v %v", lo.PeakTime(), lo.PeakDensity())
	}
	ds := b.DiscreteSales(3)
	s1 := b.P * b.M
	s2 := (b.P + b.Q*s1/b.M) * (b.M - s1)
	if len(ds) != 3 || !zrClose(ds[0], s1, 1e-12) || !zrClose(ds[1], s2, 1e-12) {
		t.Errorf("DiscreteSales %v, want %v %v", ds, s1, s2)
	}
	ps := b.PeriodSales(4)
	if len(ps) != 4 || !zrClose(ps[1], b.Cumulative(2)-b.Cumulative(1), 1e-12) {
		t.Errorf("PeriodSales %v", ps)
	}
	// negative / zero lengths must not panic
	for _, n := range []int{0, -1, math.MinInt} {
		zrNoPanic(t, fmt.Sprintf("Series(%d)", n), time.Second, func() { _ = b.Series(n) })
		zrNoPanic(t, fmt.Sprintf("PeriodSales(%d)", n), time.Second, func() { _ = b.PeriodSales(n) })
		zrNoPanic(t, fmt.Sprintf("DiscreteSales(%d)", n), time.Second, func() { _ = b.DiscreteSales(n) })
	}
	// fits recover known parameters
	fit, err := flywheel.FitBass(b.Series(20))
	if err != nil || math.Abs(fit.P-b.P)/b.P > 0.01 || math.Abs(fit.Q-b.Q)/b.Q > 0.01 || math.Abs(fit.M-b.M)/b.M > 0.01 {
		t.Errorf("FitBass = %+v, %v", fit, err)
	}
	fs, err := flywheel.FitBassSales(b.PeriodSales(20))
	if err != nil || math.Abs(fs.P-b.P)/b.P > 0.01 || math.Abs(fs.M-b.M)/b.M > 0.01 || fs.N != 20 {
		t.Errorf("FitBassSales = %+v, %v", fs, err)
	}
	fo, err := flywheel.FitBassOLS(b.DiscreteSales(20))
	if err != nil || math.Abs(fo.P-b.P)/b.P > 1e-6 || math.Abs(fo.Q-b.Q)/b.Q > 1e-6 || !math.IsNaN(fo.StdErrP) {
		t.Errorf("FitBassOLS = %+v, %v", fo, err)
	}
	fc, err := flywheel.FitBassCumulative(b.Series(20))
	if err != nil || fc.N != 20 || fc.R2 < 0.999 {
		t.Errorf("FitBassCumulative = %+v, %v", fc, err)
	}
	// bad series
	badSeries := [][]float64{nil, {1, 2}, {1, 2, math.NaN()}, {1, -2, 3}, {0, 0, 0}, {1, 2, math.Inf(1)}}
	for _, s := range badSeries {
		zrNoPanic(t, "FitBass bad", 10*time.Second, func() {
			if _, err := flywheel.FitBass(s); !errors.Is(err, flywheel.ErrInvalidParams) {
				t.Errorf("FitBass(%v) = %v", s, err)
			}
		})
	}
	for _, s := range append(badSeries, []float64{1, 2, 3}, []float64{0, 0, 0, 0}) {
		zrNoPanic(t, "FitBass* bad", 10*time.Second, func() {
			if _, err := flywheel.FitBassSales(s); !errors.Is(err, flywheel.ErrInvalidParams) {
				t.Errorf("FitBassSales(%v) = %v", s, err)
			}
			if _, err := flywheel.FitBassOLS(s); !errors.Is(err, flywheel.ErrInvalidParams) {
				t.Errorf("FitBassOLS(%v) = %v", s, err)
			}
			if _, err := flywheel.FitBassCumulative(s); !errors.Is(err, flywheel.ErrInvalidParams) {
				t.Errorf("FitBassCumulative(%v) = %v", s, err)
			}
		})
	}
	// extreme but valid: no panic, an error or a finite fit
	for _, s := range [][]float64{{1e300, 1e300, 1e300, 1e300}, {5, 5, 5, 5, 5}, {1e-300, 2e-300, 3e-300, 4e-300}, {0, 0, 0, 1}} {
		zrNoPanic(t, fmt.Sprint("extreme ", s), 20*time.Second, func() {
			for _, fit := range []func([]float64) (flywheel.BassFit, error){flywheel.FitBassCumulative, flywheel.FitBassSales, flywheel.FitBassOLS} {
				f, err := fit(s)
				if err == nil && (f.Validate() != nil) {
					t.Errorf("fit of %v returned invalid parameters %+v without error", s, f.Bass)
				}
				_ = f.String()
			}
		})
	}
}

// ---------------------------------------------------------------- second round

func TestContractSweepSameParamTwice(t *testing.T) {
	// Two axes naming the same parameter: the second silently overwrites the
	// first, so the table claims X varies while every column is the same.
	tab, err := flywheel.Sweep(context.Background(), zrSmall(), []flywheel.Outcome{flywheel.CustomersAfter(6)},
		[]flywheel.Axis{{Param: "referrals", Values: []float64{0, 3}}, {Param: "referrals", Values: []float64{1, 2}}})
	if err != nil {
		if !errors.Is(err, flywheel.ErrInvalidParams) {
			t.Fatalf("error not wrapping ErrInvalidParams: %v", err)
		}
		return
	}
	v := tab.Grids[0].Values
	if v[0][0] == v[0][1] {
		t.Errorf("axes (referrals, referrals) accepted; X = referrals 0 and 3 give the same %v: the X axis is ignored", v[0][0])
	}
}

func TestContractPopulationBoundary(t *testing.T) {
	// MaxPopulation bounds the population: customers, paid and referred
	// prospects and referring advocates of a rotation together. Paid
	// prospects of 2^50 (valid) with anyone converting pass it.
	p := flywheel.LiteratureExample()
	p.PaidProspects = 1 << 50
	p.Referrals = 0
	p.Rotations = 1
	if _, err := flywheel.Expected(p); !errors.Is(err, flywheel.ErrDiverged) {
		t.Errorf("paid 2^50 and customers: %v, want ErrDiverged", err)
	}
	// 2^48 paid a rotation, every step certain: the population grows
	// until it passes 2^50. Every run that does not diverge stays within
	// the bound in every rotation.
	p = zrSmall()
	p.Conversion = [4]float64{1, 1, 1, 1}
	p.Referrals = 0
	p.AdvocateChurn = 0
	p.PaidProspects = 1 << 48
	diverged := false
	for n := 1; n <= 8 && !diverged; n++ {
		p.Rotations = n
		res, err := flywheel.Expected(p)
		if err != nil {
			if !errors.Is(err, flywheel.ErrDiverged) {
				t.Fatalf("%d rotations: %v", n, err)
			}
			diverged = true
			continue
		}
		for k, r := range res.Rotations {
			pop := r.Stats[flywheel.Customers].Mean + r.Stats[flywheel.PaidProspects].Mean + r.Stats[flywheel.ReferredProspects].Mean + r.Stats[flywheel.ReferringAdvocates].Mean
			if pop > flywheel.MaxPopulation {
				t.Errorf("%d rotations: rotation %d's population %g passes 2^50", n, k+1, pop)
			}
		}
	}
	if !diverged {
		t.Errorf("2^48 paid a rotation for 8 rotations, all converting: no ErrDiverged")
	}
	// no advocates: huge Referrals does nothing
	p = zrSmall()
	p.Conversion[0] = 0
	p.ReferredConversion = 0
	p.Referrals = 1 << 50
	p.PaidProspects = 1 << 50
	if _, err := flywheel.Expected(p); err != nil {
		t.Errorf("paid 2^50, nobody converts: %v", err)
	}
	// MC with a huge binomial: fast, no hang
	p = zrSmall()
	p.PaidProspects = 1 << 45
	p.Conversion = [4]float64{0.5, 0.5, 0.5, 0.5}
	p.Referrals = 0
	p.Rotations = 1
	zrNoPanic(t, "MC binomial(2^45, .5)", 20*time.Second, func() {
		mc, err := flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(5))
		if err != nil {
			t.Errorf("%v", err)
			return
		}
		if a := mc.Rotations[0].Mean(flywheel.Acquired); math.Abs(a-(1<<44)) > 1e8 {
			t.Errorf("acquired %v, want about 2^44", a)
		}
	})
}

func TestContractStatSingleRun(t *testing.T) {
	mc, err := flywheel.MonteCarlo(context.Background(), zrSmall(), flywheel.Runs(1))
	if err != nil {
		t.Fatal(err)
	}
	s := mc.Rotations[2].Stats[flywheel.Engaged]
	if s.N != 1 || math.IsNaN(s.StdErr) && false {
		t.Errorf("N %d", s.N)
	}
	if !(s.StdErr == 0 || math.IsNaN(s.StdErr)) {
		t.Errorf("single run StdErr %v", s.StdErr)
	}
	t.Logf("single-run Stat.StdErr = %v (Grid documents 0)", s.StdErr)
}

func TestContractSweepProgressTotals(t *testing.T) {
	var last, total int
	var mu sync.Mutex
	_, err := flywheel.Sweep(context.Background(), zrSmall(), []flywheel.Outcome{flywheel.CustomersAfter(3)},
		[]flywheel.Axis{{Param: "referrals", Values: []float64{1, 2, 3}}},
		flywheel.SweepMode(flywheel.ModeMonteCarlo), flywheel.Runs(50), flywheel.Workers(2),
		flywheel.Progress(func(d, tt int) {
			mu.Lock()
			if d <= last {
				t.Errorf("done %d after %d", d, last)
			}
			last, total = d, tt
			mu.Unlock()
		}))
	if err != nil {
		t.Fatal(err)
	}
	if last != 150 || total != 150 {
		t.Errorf("sweep progress ended at %d/%d, want 150/150", last, total)
	}
}

func TestContractSweepHugeGridCancellable(t *testing.T) {
	// The largest allowed grid with the longest runs: the context must stop it.
	p := zrSmall()
	p.Rotations = flywheel.MaxRotations
	p.AdvocateChurn = 0.9
	vals := make([]float64, 1024)
	for i := range vals {
		vals[i] = float64(i) / 1024
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	zrNoPanic(t, "huge sweep", 30*time.Second, func() {
		_, err := flywheel.Sweep(ctx, p, []flywheel.Outcome{flywheel.CustomersAfter(10000)},
			[]flywheel.Axis{{Param: "referrals", Values: vals}, {Param: "engage_acquire", Values: vals}})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("huge expected sweep with a 2s deadline: %v", err)
		}
	})
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v to notice the deadline", d)
	}
}

func TestContractAgentHugeEvery(t *testing.T) {
	// Rotation t covers [start + t·every, start + (t+1)·every); with long
	// rotations t·every exceeds time.Duration's range.
	ctx := context.Background()
	p := zrSmall()
	p.Rotations = 4
	p.PaidProspects = 3
	every := 200 * 365 * 24 * time.Hour
	var run *flywheel.AgentRun
	var err error
	zrNoPanic(t, "Agent Every(200y)", 20*time.Second, func() {
		run, err = flywheel.Agent(ctx, p, flywheel.Every(every), flywheel.Seed(2), flywheel.PaidInflow(flywheel.ConstantInflow()))
	})
	if err != nil || run == nil {
		if !errors.Is(err, flywheel.ErrInvalidParams) {
			t.Fatalf("Agent Every(200y): %v", err)
		}
		return
	}
	bounds := []time.Time{flywheel.DefaultStart}
	for i := 0; i < p.Rotations; i++ {
		bounds = append(bounds, bounds[i].Add(every))
	}
	for c, err := range run.Tracker.Store().Scan(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if c.Facts.First.Before(bounds[0]) || !c.Facts.Last.Before(bounds[p.Rotations]) {
			t.Errorf("customer %s: events %v..%v outside [%v, %v)", c.ID, c.Facts.First, c.Facts.Last, bounds[0], bounds[p.Rotations])
		}
	}
	for i, rot := range run.Result.Rotations {
		if rot.Mean(flywheel.PaidProspects) != 3 {
			t.Errorf("rotation %d: paid %v measured from the store, want 3", i+1, rot.Mean(flywheel.PaidProspects))
		}
	}
}

func TestContractAgentStoreNameOverflow(t *testing.T) {
	// "the run's customers are numbered after the highest such name already
	// there": a name at the top of the integer range must not make the run
	// reuse or corrupt existing customers.
	ctx := context.Background()
	for _, top := range []string{"c9223372036854775807", "c18446744073709551615", "c99999999999999999999999"} {
		st := store.NewMemory()
		tr := lifecycle.NewTracker(flywheel.Model(), st)
		if _, err := tr.Record(ctx, lifecycle.Event{ID: "x", CustomerID: top, Type: lifecycle.SiteVisited, Time: flywheel.DefaultStart.Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
		p := zrSmall()
		p.Rotations = 2
		var run *flywheel.AgentRun
		var err error
		zrNoPanic(t, top, 20*time.Second, func() { run, err = flywheel.Agent(ctx, p, flywheel.WithStore(st)) })
		if err != nil {
			if !errors.Is(err, flywheel.ErrInvalidParams) {
				t.Errorf("%s: %v", top, err)
			}
			continue
		}
		n, neg := 0, 0
		for c, err := range st.Scan(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			n++
			if c.ID == top && c.Seen.Len() != 1 {
				t.Errorf("%s: existing customer took %d events", top, c.Seen.Len())
			}
			if strings.HasPrefix(c.ID, "c-") {
				neg++
				if neg == 1 {
					t.Errorf("%s: run created customer %q (a negative number)", top, c.ID)
				}
			}
		}
		eng := 0.0
		for _, r := range run.Result.Rotations {
			eng += r.Mean(flywheel.Engaged)
		}
		if float64(n-1) != eng {
			t.Errorf("%s: %d new customers in the store, Σ engaged %v", top, n-1, eng)
		}
	}
}

func TestContractAgentOtherModelAndIDs(t *testing.T) {
	ctx := context.Background()
	p := zrSmall()
	m := model.FiveStage()
	run, err := flywheel.Agent(ctx, p, flywheel.WithModel(m), flywheel.Seed(4))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(run.Measurement.Stages) != fmt.Sprint(m.Stages().IDs()) {
		t.Errorf("measurement stages %v, model graph %v", run.Measurement.Stages, m.Stages().IDs())
	}
	orders := 0
	for c, err := range run.Tracker.Store().Scan(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if c.Facts.Count(lifecycle.OrderCompleted) > 0 {
			orders++
			if !c.HasSeen(c.ID + ":order1") {
				t.Errorf("customer %s has an order but no %q event", c.ID, c.ID+":order1")
			}
			amt := c.Facts.Amount(lifecycle.OrderCompleted, "EUR")
			n := c.Facts.Count(lifecycle.OrderCompleted)
			if amt < 2000*n || amt > 10000*n {
				t.Errorf("customer %s: %d orders for %d cents, documented 20–100 EUR each", c.ID, n, amt)
			}
		}
	}
	if orders == 0 {
		t.Error("no orders")
	}
}

type zrFailStore struct{ lifecycle.Store }

func (zrFailStore) Scan(ctx context.Context) iter.Seq2[*lifecycle.Customer, error] {
	return func(yield func(*lifecycle.Customer, error) bool) { yield(nil, errors.New("disk on fire")) }
}

func TestContractMeasureStoreError(t *testing.T) {
	_, err := flywheel.Measure(context.Background(), zrFailStore{store.NewMemory()}, flywheel.DefaultStart, time.Hour, 2)
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("store error: %v", err)
	}
	var empty stage.Graph
	_, err = flywheel.Measure(context.Background(), store.NewMemory(), flywheel.DefaultStart, time.Hour, 2, flywheel.WithGraph(&empty))
	if !errors.Is(err, flywheel.ErrInvalidParams) {
		t.Errorf("empty graph: %v", err)
	}
}

func TestContractAgentMaxEventsStops(t *testing.T) {
	// MaxEvents stops an exploding agent run with ErrDiverged.
	p := zrSmall()
	p.Referrals = 30
	p.Rotations = 50
	if _, err := flywheel.Agent(context.Background(), p, flywheel.MaxEvents(200_000)); !errors.Is(err, flywheel.ErrDiverged) {
		t.Fatalf("want ErrDiverged, got %v", err)
	}
}

func TestContractMeasureHandBuilt(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	tr := lifecycle.NewTracker(flywheel.Model(), st)
	S := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	ev := func(id, cust string, typ lifecycle.EventType, at time.Duration, ref string) {
		e := lifecycle.Event{ID: id, CustomerID: cust, Type: typ, Time: S.Add(at), ReferrerID: ref}
		if typ == lifecycle.OrderCompleted {
			e.Amount, e.Currency = 1000, "EUR"
		}
		if _, err := tr.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	// d: a buyer before the first rotation (sets the state at its start only)
	ev("d1", "d", lifecycle.SiteVisited, -5*day, "")
	ev("d2", "d", lifecycle.OrderCompleted, -4*day, "")
	// rotation 1: a visits, signs up, orders; c only visits
	ev("a1", "a", lifecycle.SiteVisited, time.Hour, "")
	ev("a2", "a", lifecycle.SignedUp, 2*time.Hour, "")
	ev("a3", "a", lifecycle.OrderCompleted, 3*time.Hour, "")
	ev("c1", "c", lifecycle.SiteVisited, 4*time.Hour, "")
	// rotation 2: a orders again (retain); b, referred by a, visits and
	// orders (a is credited and becomes an advocate)
	ev("a4", "a", lifecycle.OrderCompleted, day+time.Hour, "")
	ev("b1", "b", lifecycle.SiteVisited, day+2*time.Hour, "a")
	ev("b2", "b", lifecycle.OrderCompleted, day+3*time.Hour, "")
	a, _ := st.Get(ctx, "a")
	if a.Stage != flywheel.Advocate {
		t.Fatalf("a is %s, want advocate after the referral credit", a.Stage)
	}
	m, err := flywheel.Measure(ctx, st, S, day, 3, flywheel.WithSpend(10, 30))
	if err != nil {
		t.Fatal(err)
	}
	if m.Customers != 4 || fmt.Sprint(m.Stages) != "[engage acquire nurture retain advocate]" || len(m.Rotations) != 3 {
		t.Fatalf("customers %d stages %v rotations %d", m.Customers, m.Stages, len(m.Rotations))
	}
	type want struct {
		prospects, referred, newCust, refCust int
		reached, inStage, exposed, handed     string
		connected                             []float64
		share, spend, cac                     float64
	}
	nan := math.NaN()
	wants := []want{
		{2, 0, 1, 0, "[2 1 1 0 0]", "[1 0 2 0 0]", "[2 1 2 0 0]", "[1 1 0 0 0]", []float64{0.5, 1, 0, nan, nan}, 0, 10, 10},
		{1, 1, 1, 1, "[1 1 1 1 1]", "[1 0 2 0 1]", "[2 0 3 1 1]", "[1 0 1 1 0]", []float64{0.5, nan, 1.0 / 3, 1, 1}, 1, 30, 30},
		{0, 0, 0, 0, "[0 0 0 0 0]", "[1 0 2 0 1]", "[1 0 2 0 1]", "[0 0 0 0 0]", []float64{0, nan, 0, nan, 0}, nan, nan, nan},
	}
	for i, w := range wants {
		r := m.Rotations[i]
		if r.N != i+1 || !r.Start.Equal(S.Add(time.Duration(i)*day)) || !r.End.Equal(S.Add(time.Duration(i+1)*day)) {
			t.Errorf("rotation %d: N %d [%v, %v)", i+1, r.N, r.Start, r.End)
		}
		if r.Prospects != w.prospects || r.ReferredProspects != w.referred || r.NewCustomers != w.newCust || r.ReferredCustomers != w.refCust {
			t.Errorf("rotation %d: prospects %d/%d customers %d/%d, want %d/%d %d/%d", i+1, r.Prospects, r.ReferredProspects, r.NewCustomers, r.ReferredCustomers,
				w.prospects, w.referred, w.newCust, w.refCust)
		}
		for _, c := range []struct {
			name      string
			got, want string
		}{{"Reached", fmt.Sprint(r.Reached), w.reached}, {"InStage", fmt.Sprint(r.InStage), w.inStage},
			{"Exposed", fmt.Sprint(r.Exposed), w.exposed}, {"HandedOn", fmt.Sprint(r.HandedOn), w.handed}} {
			if c.got != c.want {
				t.Errorf("rotation %d %s = %s, want %s", i+1, c.name, c.got, c.want)
			}
		}
		for s := range w.connected {
			if !zrClose(r.Connected[s], w.connected[s], 1e-12) {
				t.Errorf("rotation %d Connected[%s] = %v, want %v", i+1, m.Stages[s], r.Connected[s], w.connected[s])
			}
		}
		if !zrClose(r.ReferredShare, w.share, 0) || !zrClose(r.Spend, w.spend, 0) || !zrClose(r.AcquisitionCost, w.cac, 0) {
			t.Errorf("rotation %d share %v spend %v cac %v, want %v %v %v", i+1, r.ReferredShare, r.Spend, r.AcquisitionCost, w.share, w.spend, w.cac)
		}
	}
	if !zrClose(m.ReferredShareTrend, 1, 1e-12) || !zrClose(m.AcquisitionCostTrend, 20, 1e-12) {
		t.Errorf("trends %v %v, want 1 and 20", m.ReferredShareTrend, m.AcquisitionCostTrend)
	}
}

func TestContractModelRules(t *testing.T) {
	S := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	facts := func(evs ...lifecycle.Event) *lifecycle.Facts {
		var f lifecycle.Facts
		for i := range evs {
			if evs[i].Type == lifecycle.OrderCompleted || evs[i].Type == lifecycle.OrderRefunded {
				evs[i].Amount, evs[i].Currency = 1000, "EUR"
			}
			f.Add(&evs[i])
		}
		return &f
	}
	e := func(typ lifecycle.EventType, at time.Duration) lifecycle.Event {
		return lifecycle.Event{ID: fmt.Sprint(typ, at), CustomerID: "x", Type: typ, Time: S.Add(at)}
	}
	m := flywheel.Model()
	sch, ok := m.(lifecycle.Scheduler)
	if !ok {
		t.Fatal("Model is not a lifecycle.Scheduler")
	}
	cases := []struct {
		name string
		m    lifecycle.Model
		f    *lifecycle.Facts
		now  time.Duration
		want string
		next time.Time // zero: never
	}{
		{"zero facts", m, facts(), 0, "engage", time.Time{}},
		{"visitor", m, facts(e(lifecycle.SiteVisited, 0)), day, "engage", time.Time{}},
		{"lead", m, facts(e(lifecycle.SiteVisited, 0), e(lifecycle.SignedUp, time.Hour)), day, "acquire", time.Time{}},
		{"buyer", m, facts(e(lifecycle.OrderCompleted, 0)), day, "nurture", S.Add(flywheel.DefaultLapseAfter + 1)},
		{"buyer at lapse edge", m, facts(e(lifecycle.OrderCompleted, 0)), flywheel.DefaultLapseAfter, "nurture", S.Add(flywheel.DefaultLapseAfter + 1)},
		{"lapsed buyer", m, facts(e(lifecycle.SignedUp, 0), e(lifecycle.OrderCompleted, 0)), flywheel.DefaultLapseAfter + 1, "engage", time.Time{}},
		{"refunded only order", m, facts(e(lifecycle.OrderCompleted, 0), e(lifecycle.OrderRefunded, day)), 2 * day, "acquire", time.Time{}},
		{"repeat", m, facts(e(lifecycle.OrderCompleted, 0), e(lifecycle.OrderCompleted, day)), 2 * day, "retain", S.Add(day + flywheel.DefaultLapseAfter + 1)},
		{"reviewer", m, facts(e(lifecycle.OrderCompleted, 0), e(lifecycle.ReviewPosted, day)), 2 * day, "advocate", S.Add(day + flywheel.DefaultAdvocateWindow + 1)},
		{"old reviewer", m, facts(e(lifecycle.OrderCompleted, 0), e(lifecycle.OrderCompleted, 100*day), e(lifecycle.ReviewPosted, day)), 100 * day, "retain", S.Add(100*day + flywheel.DefaultLapseAfter + 1)},
		{"never lapse", flywheel.Model(flywheel.LapseAfter(0)), facts(e(lifecycle.OrderCompleted, 0)), 5000 * day, "nurture", time.Time{}},
		{"RetainOrders(1) is 2", flywheel.Model(flywheel.RetainOrders(1)), facts(e(lifecycle.OrderCompleted, 0)), day, "nurture", S.Add(flywheel.DefaultLapseAfter + 1)},
		{"RetainOrders(3)", flywheel.Model(flywheel.RetainOrders(3)), facts(e(lifecycle.OrderCompleted, 0), e(lifecycle.OrderCompleted, day)), 2 * day, "nurture", S.Add(day + flywheel.DefaultLapseAfter + 1)},
		{"window off", flywheel.Model(flywheel.AdvocateWindow(0)), facts(e(lifecycle.OrderCompleted, 0), e(lifecycle.ReviewPosted, day)), 2 * day, "nurture", S.Add(flywheel.DefaultLapseAfter + 1)},
		{"window off, never lapse", flywheel.Model(flywheel.AdvocateWindow(-1), flywheel.LapseAfter(-1)), facts(e(lifecycle.OrderCompleted, 0), e(lifecycle.ReviewPosted, day)), 2 * day, "nurture", time.Time{}},
	}
	for _, c := range cases {
		got := c.m.Stage(c.f, S.Add(c.now))
		if string(got) != c.want {
			t.Errorf("%s: stage %s, want %s", c.name, got, c.want)
		}
		if s, ok := c.m.(lifecycle.Scheduler); ok {
			if n := s.NextChange(c.f, S.Add(c.now)); !n.Equal(c.next) {
				t.Errorf("%s: NextChange %v, want %v", c.name, n, c.next)
			}
		}
	}
	_ = sch
	// hostile: zero facts at zero time, odd options — no panic
	zrNoPanic(t, "model extremes", time.Second, func() {
		for _, mm := range []lifecycle.Model{flywheel.Model(flywheel.LapseAfter(math.MaxInt64), flywheel.AdvocateWindow(math.MaxInt64)),
			flywheel.Model(flywheel.RetainOrders(math.MinInt64), flywheel.AdvocateReferrals(math.MinInt64), nil)} {
			f := facts(e(lifecycle.OrderCompleted, 0), e(lifecycle.ReviewPosted, day))
			_ = mm.Stage(f, S.Add(day))
			_ = mm.Stage(&lifecycle.Facts{}, time.Time{})
			if s, ok := mm.(lifecycle.Scheduler); ok {
				_ = s.NextChange(f, S.Add(day))
			}
		}
	})
}

func TestContractHandMadeValues(t *testing.T) {
	// Result and Table are plain exported structs: methods on hand-made or
	// zero values must return errors, not panic.
	mk := func() *flywheel.Result {
		return &flywheel.Result{Mode: flywheel.ModeMonteCarlo, Runs: 2, Quantiles: []float64{0.05, 0.5, 0.95},
			Rotations: []flywheel.Rotation{{N: 1}, {N: 2}}}
	}
	zrNoPanic(t, "hand-made MC Result WriteCSV (Stats without quantiles)", time.Second, func() { _ = mk().WriteCSV(io.Discard) })
	zrNoPanic(t, "hand-made MC Result WriteSVG (Stats without quantiles)", time.Second, func() { _ = mk().WriteSVG(io.Discard) })
	zrNoPanic(t, "nil *Result Rotation", time.Second, func() {
		var r *flywheel.Result
		if _, err := r.Rotation(1); err == nil {
			t.Error("nil Result Rotation(1): no error")
		}
	})
	zrNoPanic(t, "zero Table", time.Second, func() {
		var tab flywheel.Table
		_ = tab.WriteCSV(io.Discard)
		_ = tab.WriteHeatmapSVG(io.Discard, "x")
		_ = tab.WriteLinesSVG(io.Discard, "x")
		_, _ = tab.Grid("x")
	})
	zrNoPanic(t, "Table with ragged grid", time.Second, func() {
		tab := flywheel.Table{Mode: flywheel.ModeExpected, Runs: 1, X: flywheel.Axis{Param: "lag", Values: []float64{1, 2}},
			Y: flywheel.Axis{Param: "churn", Values: []float64{0, 1}}, Grids: []flywheel.Grid{{Outcome: "o", Values: [][]float64{{1}}}}}
		_ = tab.WriteCSV(io.Discard)
		_ = tab.WriteHeatmapSVG(io.Discard, "o")
		_ = tab.WriteLinesSVG(io.Discard, "o")
	})
}

func TestContractSweepChartsDetail(t *testing.T) {
	ctx := context.Background()
	tab, err := flywheel.Sweep(ctx, flywheel.LiteratureExample(),
		[]flywheel.Outcome{flywheel.CrossoverRotation(), flywheel.CustomersAfter(12)},
		[]flywheel.Axis{{Param: flywheel.ParamReferrals, Values: []float64{0.25, 1, 3}}, {Param: flywheel.ParamAdvocateChurn, Values: []float64{0, 0.9}}},
		flywheel.SweepMode(flywheel.ModeMonteCarlo), flywheel.Runs(60), flywheel.Seed(3))
	if err != nil {
		t.Fatal(err)
	}
	g, _ := tab.Grid("crossover_rotation")
	if g == nil {
		t.Fatalf("no crossover_rotation grid: %v", tab.Grids[0].Outcome)
	}
	hasNaN := false
	for j := range g.Values {
		for i := range g.Values[j] {
			if math.IsNaN(g.Values[j][i]) {
				hasNaN = true
				if g.N[j][i] != 0 {
					t.Errorf("NaN mean with N %d", g.N[j][i])
				}
			}
		}
	}
	var b bytes.Buffer
	if err := tab.WriteHeatmapSVG(&b, "crossover_rotation"); err != nil {
		t.Fatal(err)
	}
	root := zrCheckSVG(t, "heatmap MC", b.Bytes())
	txt := strings.Join(root.texts(), "|")
	if hasNaN && !strings.Contains(txt, "undefined") {
		t.Errorf("heatmap with NaN points lacks \"undefined\" legend: %s", txt)
	}
	for _, v := range []string{"0.25", "3", "0.9"} {
		if !strings.Contains(txt, v) {
			t.Errorf("heatmap lacks tick %q: %s", v, txt)
		}
	}
	b.Reset()
	if err := tab.WriteLinesSVG(&b, "customers_after_12"); err != nil {
		t.Fatal(err)
	}
	root = zrCheckSVG(t, "lines MC", b.Bytes())
	txt = strings.Join(root.texts(), "|")
	if !strings.Contains(txt, "churn = 0.9") || !strings.Contains(txt, "churn = 0") {
		t.Errorf("legend: %s", txt)
	}
	if !strings.Contains(txt, "referrals") || !strings.Contains(txt, "customers_after_12") {
		t.Errorf("axis labels: %s", txt)
	}
	// CSV: one line per grid point with N columns
	b.Reset()
	if err := tab.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil || len(rows) != 7 {
		t.Fatalf("CSV rows %d %v", len(rows), err)
	}
	hdr := strings.Join(rows[0], ",")
	if hdr != "referrals,churn,crossover_rotation,crossover_rotation_se,crossover_rotation_n,customers_after_12,customers_after_12_se,customers_after_12_n" {
		t.Errorf("header %s", hdr)
	}
	for _, row := range rows[1:] {
		x, _ := strconv.ParseFloat(row[0], 64)
		y, _ := strconv.ParseFloat(row[1], 64)
		i := sort.SearchFloat64s(tab.X.Values, x)
		j := sort.SearchFloat64s(tab.Y.Values, y)
		v, _ := strconv.ParseFloat(row[5], 64)
		if v != tab.Grids[1].Values[j][i] {
			t.Errorf("CSV row %v does not match grid [%d][%d] = %v", row, j, i, tab.Grids[1].Values[j][i])
		}
	}
}

func TestContractCancelMidRun(t *testing.T) {
	p := zrSmall()
	p.Rotations = 100
	p.AdvocateChurn = 0.5
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	res, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(10000))
	if err == nil {
		t.Skipf("finished within 20ms (%v)", time.Since(start))
	}
	if !errors.Is(err, context.DeadlineExceeded) || res != nil {
		t.Errorf("MonteCarlo cancelled: %v, %v", res != nil, err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v to stop", d)
	}
	// progress does not change results
	a, err := flywheel.MonteCarlo(context.Background(), zrSmall(), flywheel.Runs(250), flywheel.Seed(6))
	if err != nil {
		t.Fatal(err)
	}
	b, err := flywheel.MonteCarlo(context.Background(), zrSmall(), flywheel.Runs(250), flywheel.Seed(6), flywheel.Progress(func(int, int) {}), flywheel.Workers(3))
	if err != nil {
		t.Fatal(err)
	}
	if zrCSV(t, a) != zrCSV(t, b) {
		t.Error("Progress changes the result")
	}
}

func TestContractSweepHugeRuns(t *testing.T) {
	// Sweep documents no MaxCells of its own; huge Runs must be refused or
	// stopped by the context, never exhaust memory.
	p := zrSmall()
	p.Rotations = flywheel.MaxRotations
	p.AdvocateChurn = 0.9
	for _, runs := range []int{1 << 40, math.MaxInt} {
		zrNoPanic(t, fmt.Sprintf("Sweep Runs(%d)", runs), 20*time.Second, func() {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			_, err := flywheel.Sweep(ctx, p, []flywheel.Outcome{flywheel.CustomersAfter(2)},
				[]flywheel.Axis{{Param: "referrals", Values: []float64{1, 2}}},
				flywheel.SweepMode(flywheel.ModeMonteCarlo), flywheel.Runs(runs))
			if !errors.Is(err, flywheel.ErrInvalidParams) && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Sweep Runs(%d): %v", runs, err)
			}
			t.Logf("Sweep Runs(%d): %v", runs, err)
		})
	}
}

func TestContractStatNCountsDefinedRuns(t *testing.T) {
	ctx := context.Background()
	p := zrSmall()
	p.PaidProspects = 1.5
	p.Rotations = 3
	const runs = 400
	mc, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(runs), flywheel.Seed(12))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	withCust := 0
	count := flywheel.Outcome{Name: "has_customers_at_2", Of: func(r *flywheel.Result) float64 {
		mu.Lock()
		defer mu.Unlock()
		if r.Rotations[1].Mean(flywheel.NewCustomers) > 0 {
			withCust++
		}
		return 0
	}}
	tab, err := flywheel.Sweep(ctx, p, []flywheel.Outcome{count, flywheel.MetricAt(flywheel.AcquisitionCost, 2)},
		[]flywheel.Axis{{Param: "paid", Values: []float64{1.5}}},
		flywheel.SweepMode(flywheel.ModeMonteCarlo), flywheel.Runs(runs), flywheel.Seed(12))
	if err != nil {
		t.Fatal(err)
	}
	s := mc.Rotations[1].Stats[flywheel.AcquisitionCost]
	if s.N != withCust || tab.Grids[1].N[0][0] != withCust || !zrClose(tab.Grids[1].Values[0][0], s.Mean, 1e-12) {
		t.Errorf("CAC N: Stat %d, sweep %d, runs with customers %d; means %v vs %v", s.N, tab.Grids[1].N[0][0], withCust, s.Mean, tab.Grids[1].Values[0][0])
	}
	if withCust == 0 || withCust == runs {
		t.Errorf("test setup: %d runs with customers", withCust)
	}
	if a := mc.Rotations[1].Stats[flywheel.NewCustomers]; a.N != runs {
		t.Errorf("counts N %d, want %d", a.N, runs)
	}
}

func TestContractMaxPaidProspectsMonteCarlo(t *testing.T) {
	// PaidProspects = 2^50 passes Validate (docs/flywheel.md:93-94), and with
	// nobody converting no count grows; the default Poisson inflow draws
	// above 2^50 about half the time: a population past 2^50, ErrDiverged
	// (the Inflow doc), not a refusal of the params.
	p := zrSmall()
	p.PaidProspects = 1 << 50
	p.Conversion[0] = 0
	p.ReferredConversion = 0
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := flywheel.Expected(p); err != nil {
		t.Fatalf("Expected: %v", err)
	}
	_, err := flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(20), flywheel.Seed(1))
	if !errors.Is(err, flywheel.ErrDiverged) {
		t.Errorf("MonteCarlo of valid params (paid = 2^50, nobody converts): %v, want ErrDiverged", err)
	}
}

// TestContractMeasureTypedNilStore: Measure of a nil pointer of a store
// type is an ErrInvalidParams error, as of a nil store.
func TestContractMeasureTypedNilStore(t *testing.T) {
	var m *store.Memory
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, s := range []lifecycle.Store{nil, m} {
		if _, err := flywheel.Measure(context.Background(), s, start, 24*time.Hour, 3); !errors.Is(err, flywheel.ErrInvalidParams) {
			t.Errorf("Measure(%T(nil)) = %v; want ErrInvalidParams", s, err)
		}
	}
}
