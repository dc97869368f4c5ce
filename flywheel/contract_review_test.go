package flywheel_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/flywheel"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store"
)

// zzNoPanic runs f and turns a panic into a test failure.
func zzNoPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s panicked: %v", what, r)
		}
	}()
	f()
}

func zzWantErr(t *testing.T, err error, sentinel error, mustContain ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("want error wrapping %v, got nil", sentinel)
		return
	}
	if !errors.Is(err, sentinel) {
		t.Errorf("error %q does not wrap %v", err, sentinel)
	}
	for _, s := range mustContain {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %q", err, s)
		}
	}
}

// docs/flywheel.md "The literature's example": E(5) = 147.1, A(4) = 47.08,
// f = 0.10125; flywheel.go LiteratureExample doc: 100 + A(4) = 147.08.
func TestContractReviewLiteratureExampleNumbers(t *testing.T) {
	p := flywheel.LiteratureExample()
	if f := p.AdvocateShare(false); math.Abs(f-0.10125) > 1e-12 {
		t.Fatalf("AdvocateShare = %v, want 0.10125", f)
	}
	if p.Rotations != 12 || p.PaidProspects != 100 || p.Referrals != 1 || p.AdvocateChurn != 0 || p.Lag != 1 || p.SpendPerProspect != 20 {
		t.Errorf("LiteratureExample = %+v, not the documented parameters", p)
	}
	res, err := flywheel.Expected(p)
	if err != nil {
		t.Fatal(err)
	}
	f := 0.10125
	for n := 1; n <= 12; n++ {
		rot, err := res.Rotation(n)
		if err != nil {
			t.Fatal(err)
		}
		want := 100 + 100*(math.Pow(1+f, float64(n-1))-1)
		if got := rot.Mean(flywheel.Engaged); math.Abs(got-want) > 1e-9*want {
			t.Errorf("rotation %d engaged = %v, want E(t) = 100 + A(t-1) = %v", n, got, want)
		}
		if got := rot.Mean(flywheel.PaidProspects) + rot.Mean(flywheel.ReferredProspects); math.Abs(got-rot.Mean(flywheel.Engaged)) > 1e-9 {
			t.Errorf("rotation %d: Engaged %v != paid + referred %v", n, rot.Mean(flywheel.Engaged), got)
		}
	}
	r5, _ := res.Rotation(5)
	if got := r5.Mean(flywheel.Engaged); math.Abs(got-147.08) > 0.01 {
		t.Errorf("E(5) = %v, docs say 147.08", got)
	}
	// Table in docs/flywheel.md: rotation 1 new customers 33.8, CAC 59.26; rotation 12 customers 727.2.
	r1, _ := res.Rotation(1)
	if got := r1.Mean(flywheel.NewCustomers); math.Abs(got-33.75) > 1e-9 {
		t.Errorf("rotation 1 new customers = %v, want 100*0.75*0.45 = 33.75", got)
	}
	if got := r1.Mean(flywheel.AcquisitionCost); math.Abs(got-2000/33.75) > 1e-9 {
		t.Errorf("rotation 1 CAC = %v, want 2000/33.75", got)
	}
	if got := r1.Mean(flywheel.ViralK); !math.IsNaN(got) {
		t.Errorf("rotation 1 ViralK = %v, want NaN (no customers before)", got)
	}
	r12, _ := res.Rotation(12)
	if got := r12.Mean(flywheel.Customers); math.Abs(got-727.2) > 0.1 {
		t.Errorf("rotation 12 customers = %v, docs table says 727.2", got)
	}
}

// flywheel.md "Closed forms": with churn 1 the engaged follow P(1-κ^t)/(1-κ).
func TestContractReviewClosedFormChurnOne(t *testing.T) {
	p := flywheel.LiteratureExample()
	p.AdvocateChurn = 1
	p.Referrals = 3
	res, err := flywheel.Expected(p)
	if err != nil {
		t.Fatal(err)
	}
	kappa := p.ViralCoefficient()
	if math.Abs(kappa-3*0.10125) > 1e-12 {
		t.Fatalf("ViralCoefficient = %v", kappa)
	}
	for n := 1; n <= p.Rotations; n++ {
		rot, _ := res.Rotation(n)
		want := 100 * (1 - math.Pow(kappa, float64(n))) / (1 - kappa)
		if got := rot.Mean(flywheel.Engaged); math.Abs(got-want) > 1e-9*want {
			t.Errorf("rotation %d engaged = %v, want %v", n, got, want)
		}
	}
	if g := p.GenerationK(); math.Abs(g-kappa) > 1e-12 {
		t.Errorf("GenerationK = %v, want Referrals*share/churn = %v", g, kappa)
	}
	p.AdvocateChurn = 0
	if g := p.GenerationK(); !math.IsInf(g, 1) {
		t.Errorf("GenerationK with churn 0 = %v, want +Inf", g)
	}
}

func TestContractReviewParamsValidateNamesParamAndValue(t *testing.T) {
	cases := []struct {
		name  string
		value float64
	}{
		{flywheel.ParamPaidProspects, -1},
		{flywheel.ParamPaidProspects, math.NaN()},
		{flywheel.ParamPaidProspects, math.Inf(1)},
		{flywheel.ParamPaidProspects, 1 << 51},
		{flywheel.ParamEngageToAcquire, 1.5},
		{flywheel.ParamAcquireToNurture, -0.1},
		{flywheel.ParamNurtureToRetain, math.NaN()},
		{flywheel.ParamRetainToAdvocate, 2},
		{flywheel.ParamReferredConversion, -1},
		{flywheel.ParamReferrals, -2},
		{flywheel.ParamReferrals, math.Inf(1)},
		{flywheel.ParamAdvocateChurn, 1.01},
		{flywheel.ParamSpend, -5},
		{flywheel.ParamSpend, math.Inf(1)},
		{flywheel.ParamRotations, 0},
		{flywheel.ParamRotations, flywheel.MaxRotations + 1},
		{flywheel.ParamRotations, -3},
		{flywheel.ParamLag, 0},
		{flywheel.ParamLag, flywheel.MaxLag + 1},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s=%v", c.name, c.value), func(t *testing.T) {
			p := flywheel.LiteratureExample()
			if err := p.Set(c.name, c.value); err != nil {
				t.Fatalf("Set(%s, %v): %v", c.name, c.value, err)
			}
			err := p.Validate()
			val := strconv.FormatFloat(c.value, 'g', -1, 64)
			if err == nil {
				t.Fatalf("Validate accepted %s = %v", c.name, c.value)
			}
			zzWantErr(t, err, flywheel.ErrInvalidParams)
			msg := err.Error()
			// The doc names the parameter; accept the Set name or the Go field name.
			if !strings.Contains(msg, c.name) && !strings.Contains(strings.ToLower(msg), strings.ToLower(fieldName(c.name))) {
				t.Errorf("error %q does not name the parameter %s", msg, c.name)
			}
			if !strings.Contains(msg, val) && !strings.Contains(msg, strings.TrimPrefix(val, "+")) {
				t.Errorf("error %q does not name the value %s", msg, val)
			}
			// Every entry point refuses it.
			_, err = flywheel.Expected(p)
			zzWantErr(t, err, flywheel.ErrInvalidParams)
			_, err = flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(2))
			zzWantErr(t, err, flywheel.ErrInvalidParams)
		})
	}
}

func fieldName(param string) string {
	switch param {
	case flywheel.ParamPaidProspects:
		return "PaidProspects"
	case flywheel.ParamReferrals:
		return "Referrals"
	case flywheel.ParamAdvocateChurn:
		return "AdvocateChurn"
	case flywheel.ParamSpend:
		return "SpendPerProspect"
	case flywheel.ParamRotations:
		return "Rotations"
	case flywheel.ParamLag:
		return "Lag"
	case flywheel.ParamReferredConversion:
		return "ReferredConversion"
	}
	return "Conversion"
}

// Params.Set doc: integer parameters must be whole numbers of at most 1e9;
// an unknown name, a fractional integer or one beyond ±1e9 is an error naming
// the parameter and the value.
func TestContractReviewParamsSetHostile(t *testing.T) {
	cases := []struct {
		name  string
		value float64
	}{
		{"nope", 1},
		{"", 1},
		{flywheel.ParamRotations, 1.5},
		{flywheel.ParamRotations, 1e9 + 1},
		{flywheel.ParamRotations, -1e10},
		{flywheel.ParamRotations, math.NaN()},
		{flywheel.ParamRotations, math.Inf(1)},
		{flywheel.ParamLag, 0.5},
		{flywheel.ParamLag, math.Inf(-1)},
		{flywheel.ParamLag, math.NaN()},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%q=%v", c.name, c.value), func(t *testing.T) {
			p := flywheel.LiteratureExample()
			before := p
			var err error
			zzNoPanic(t, "Set", func() { err = p.Set(c.name, c.value) })
			zzWantErr(t, err, flywheel.ErrInvalidParams)
			if err != nil {
				if c.name != "" && !strings.Contains(err.Error(), c.name) {
					t.Errorf("error %q does not name %q", err, c.name)
				}
				val := strconv.FormatFloat(c.value, 'g', -1, 64)
				val2 := strconv.FormatFloat(c.value, 'f', -1, 64)
				if c.name != "nope" && c.name != "" && !strings.Contains(err.Error(), val) && !strings.Contains(err.Error(), val2) && !strings.Contains(err.Error(), strings.TrimPrefix(val, "+")) {
					t.Errorf("error %q does not name the value %s", err, val)
				}
			}
			if p != before {
				t.Errorf("a refused Set changed the params: %+v", p)
			}
		})
	}
	// Round trip of every name.
	p := flywheel.LiteratureExample()
	for _, n := range flywheel.ParamNames() {
		v, err := p.Get(n)
		if err != nil {
			t.Errorf("Get(%s): %v", n, err)
			continue
		}
		if err := p.Set(n, v); err != nil {
			t.Errorf("Set(%s, Get) = %v", n, err)
		}
	}
	if _, err := p.Get("nope"); !errors.Is(err, flywheel.ErrInvalidParams) {
		t.Errorf("Get(nope) = %v, want ErrInvalidParams", err)
	}
}

func TestContractReviewRotationOutOfRange(t *testing.T) {
	res, err := flywheel.Expected(flywheel.LiteratureExample())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, -1, 13, math.MaxInt, math.MinInt} {
		var err error
		zzNoPanic(t, "Rotation", func() { _, err = res.Rotation(n) })
		zzWantErr(t, err, flywheel.ErrInvalidParams)
	}
	r5, err := res.Rotation(5)
	if err != nil || r5.N != 5 || !reflect.DeepEqual(*r5, res.Rotations[4]) {
		t.Errorf("Rotation(5) = %+v, %v; want Rotations[4]", r5, err)
	}
	// Series and Mean with a non-metric: NaN throughout.
	for _, m := range []flywheel.Metric{-1, flywheel.Metric(flywheel.NumMetrics), 1000} {
		var s []float64
		zzNoPanic(t, "Series", func() { s = res.Series(m) })
		if len(s) != 12 {
			t.Errorf("Series(%d) has %d values, want 12 NaN", m, len(s))
		}
		for _, v := range s {
			if !math.IsNaN(v) {
				t.Errorf("Series(%d) = %v, want NaN", m, s)
				break
			}
		}
		var v float64
		zzNoPanic(t, "Mean", func() { v = r5.Mean(m) })
		if !math.IsNaN(v) {
			t.Errorf("Mean(%d) = %v, want NaN", m, v)
		}
	}
}

func TestContractReviewMonteCarloOptionsHostile(t *testing.T) {
	ctx := context.Background()
	p := flywheel.LiteratureExample()
	cases := map[string][]flywheel.MonteCarloOption{
		"runs 0":        {flywheel.Runs(0)},
		"runs -1":       {flywheel.Runs(-1)},
		"runs too many": {flywheel.Runs(flywheel.MaxCells)},
		"quantile 0":    {flywheel.Quantiles(0)},
		"quantile 1":    {flywheel.Quantiles(1)},
		"quantile NaN":  {flywheel.Quantiles(math.NaN())},
		"quantile -0.5": {flywheel.Quantiles(-0.5)},
		"quantile 1.5":  {flywheel.Quantiles(0.5, 1.5)},
		"quantile +Inf": {flywheel.Quantiles(math.Inf(1))},
		"workers -1":    {flywheel.Workers(-1), flywheel.Runs(2)},
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			var err error
			zzNoPanic(t, "MonteCarlo", func() { _, err = flywheel.MonteCarlo(ctx, p, opts...) })
			if name == "workers -1" {
				// Not documented either way; only must not panic.
				return
			}
			zzWantErr(t, err, flywheel.ErrInvalidParams)
		})
	}
	// A nil option is skipped.
	if _, err := flywheel.MonteCarlo(ctx, p, nil, flywheel.Runs(3)); err != nil {
		t.Errorf("nil option: %v", err)
	}
}

func TestContractReviewMonteCarloWorkersAndCancel(t *testing.T) {
	p := flywheel.LiteratureExample()
	a, err := flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(64), flywheel.Seed(9), flywheel.Workers(1))
	if err != nil {
		t.Fatal(err)
	}
	b, err := flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(64), flywheel.Seed(9), flywheel.Workers(7))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(zzNaNsafe(a), zzNaNsafe(b)) {
		t.Errorf("MonteCarlo results differ between 1 and 7 workers")
	}
	c, _ := flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(64), flywheel.Seed(10), flywheel.Workers(1))
	if reflect.DeepEqual(zzNaNsafe(a), zzNaNsafe(c)) {
		t.Errorf("seeds 9 and 10 give identical results")
	}
	if a.Runs != 64 || a.Seed != 9 || len(a.Quantiles) != 3 {
		t.Errorf("Result Runs/Seed/Quantiles = %d/%d/%v", a.Runs, a.Seed, a.Quantiles)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = flywheel.MonteCarlo(ctx, p, flywheel.Runs(100))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("MonteCarlo with a cancelled ctx: %v, want context.Canceled", err)
	}
	_, err = flywheel.Agent(ctx, p)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Agent with a cancelled ctx: %v, want context.Canceled", err)
	}
	_, err = flywheel.Sweep(ctx, p, []flywheel.Outcome{flywheel.CustomersAfter(3)},
		[]flywheel.Axis{{Param: flywheel.ParamReferrals, Values: []float64{1, 2}}},
		flywheel.SweepMode(flywheel.ModeMonteCarlo), flywheel.Runs(10))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Monte Carlo Sweep with a cancelled ctx: %v, want context.Canceled", err)
	}
	_, err = flywheel.Measure(ctx, store.NewMemory(), flywheel.DefaultStart, time.Hour, 3)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Measure with a cancelled ctx: %v, want context.Canceled", err)
	}
}

// zzNaNsafe renders a result so that NaN compares equal to NaN.
func zzNaNsafe(r *flywheel.Result) string {
	var b bytes.Buffer
	if err := r.WriteCSV(&b); err != nil {
		return "error: " + err.Error()
	}
	return b.String()
}

func TestContractReviewInflowHostile(t *testing.T) {
	ctx := context.Background()
	p := flywheel.LiteratureExample()
	p.Rotations = 3
	neg := func(*rand.Rand, float64) int { return -1 }
	_, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(2), flywheel.PaidInflow(neg))
	zzWantErr(t, err, flywheel.ErrInvalidParams)
	big := func(*rand.Rand, float64) int { return flywheel.MaxPopulation + 1 }
	_, err = flywheel.MonteCarlo(ctx, p, flywheel.Runs(2), flywheel.PaidInflow(big))
	zzWantErr(t, err, flywheel.ErrInvalidParams)
	_, err = flywheel.Agent(ctx, p, flywheel.PaidInflow(neg))
	zzWantErr(t, err, flywheel.ErrInvalidParams)

	r := rand.New(rand.NewPCG(1, 2))
	ci := flywheel.ConstantInflow()
	for _, m := range []float64{math.NaN(), math.Inf(1), -1, math.Inf(-1)} {
		if got := ci(r, m); got != -1 {
			t.Errorf("ConstantInflow(%v) = %d, want -1", m, got)
		}
		if got := flywheel.PoissonInflow()(r, m); got != -1 {
			t.Errorf("PoissonInflow(%v) = %d, want -1", m, got)
		}
	}
	if got := ci(r, 7); got != 7 {
		t.Errorf("ConstantInflow(7) = %d", got)
	}
	sum := 0
	for range 20000 {
		v := ci(r, 2.25)
		if v != 2 && v != 3 {
			t.Fatalf("ConstantInflow(2.25) = %d, want 2 or 3", v)
		}
		sum += v
	}
	if mean := float64(sum) / 20000; math.Abs(mean-2.25) > 0.02 {
		t.Errorf("ConstantInflow(2.25) mean = %v", mean)
	}
	if got := flywheel.PoissonInflow()(r, 1e300); got != math.MaxInt {
		t.Errorf("PoissonInflow(1e300) = %d, want math.MaxInt", got)
	}
	// Default inflow with a mean near MaxPopulation: ErrDiverged, not ErrInvalidParams.
	q := p
	q.PaidProspects = float64(flywheel.MaxPopulation)
	_, err = flywheel.MonteCarlo(ctx, q, flywheel.Runs(1))
	if !errors.Is(err, flywheel.ErrDiverged) {
		t.Errorf("paid = MaxPopulation: %v, want ErrDiverged", err)
	}
}

func TestContractReviewDiverges(t *testing.T) {
	p := flywheel.LiteratureExample()
	p.Referrals = 1 << 40
	p.Conversion = [4]float64{1, 1, 1, 1}
	p.ReferredConversion = 1
	p.Rotations = 100
	var err error
	zzNoPanic(t, "Expected", func() { _, err = flywheel.Expected(p) })
	if !errors.Is(err, flywheel.ErrDiverged) {
		t.Errorf("Expected exploding: %v, want ErrDiverged", err)
	}
	zzNoPanic(t, "MonteCarlo", func() { _, err = flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(2)) })
	if !errors.Is(err, flywheel.ErrDiverged) {
		t.Errorf("MonteCarlo exploding: %v, want ErrDiverged", err)
	}
}

func TestContractReviewAgentHostileOptions(t *testing.T) {
	ctx := context.Background()
	p := flywheel.LiteratureExample()
	p.Rotations = 2
	p.PaidProspects = 3
	cases := map[string][]flywheel.AgentOption{
		"every 0":               {flywheel.Every(0)},
		"every -1h":             {flywheel.Every(-time.Hour)},
		"every 59s":             {flywheel.Every(59 * time.Second)},
		"start zero":            {flywheel.StartAt(time.Time{})},
		"start 1899":            {flywheel.StartAt(time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC))},
		"start 9999-12-31":      {flywheel.StartAt(time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC))},
		"every huge, past 9999": {flywheel.StartAt(time.Date(9800, 1, 1, 0, 0, 0, 0, time.UTC)), flywheel.Every(time.Duration(math.MaxInt64))},
		"model nil":             {flywheel.WithModel(nil)},
		"store nil":             {flywheel.WithStore(nil)},
		"store typed nil":       {flywheel.WithStore((*store.Memory)(nil))},
		"max events 0":          {flywheel.MaxEvents(0)},
		"max events -1":         {flywheel.MaxEvents(-1)},
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			var err error
			zzNoPanic(t, "Agent", func() { _, err = flywheel.Agent(ctx, p, opts...) })
			switch name {
			case "model nil", "store nil":
				// A nil model or store: documented as "default" nowhere; an error or the default are both fine.
				return
			case "store typed nil":
				if err == nil {
					t.Errorf("typed nil store accepted")
				} else if !errors.Is(err, flywheel.ErrInvalidParams) && !errors.Is(err, lifecycle.ErrNoTracker) {
					t.Errorf("typed nil store: %v wraps neither ErrInvalidParams nor a Tracker sentinel", err)
				}
				return
			case "max events 0", "max events -1":
				if err == nil {
					t.Logf("%s accepted", name)
				}
				return
			}
			zzWantErr(t, err, flywheel.ErrInvalidParams)
		})
	}
	// Rotations whose total length overflows a time.Duration but end well before 9999 are valid.
	t.Run("long rotations within range", func(t *testing.T) {
		q := p
		q.Rotations = 10
		q.PaidProspects = 1
		every := time.Duration(math.MaxInt64 / 2) // about 146 years
		start := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
		var run *flywheel.AgentRun
		var err error
		zzNoPanic(t, "Agent", func() { run, err = flywheel.Agent(ctx, q, flywheel.StartAt(start), flywheel.Every(every)) })
		if err != nil {
			t.Fatalf("10 rotations of 146 years from 1900 (ending about 3360): %v", err)
		}
		for i, r := range run.Measurement.Rotations {
			wantStart := start
			for range i {
				wantStart = wantStart.Add(every)
			}
			if !r.Start.Equal(wantStart) || r.End.Sub(r.Start) != every {
				t.Errorf("rotation %d: [%v, %v)", i+1, r.Start, r.End)
			}
		}
	})
	// MaxEvents small: ErrDiverged.
	q := p
	q.PaidProspects = 50
	_, err := flywheel.Agent(ctx, q, flywheel.MaxEvents(5))
	if !errors.Is(err, flywheel.ErrDiverged) {
		t.Errorf("Agent past MaxEvents: %v, want ErrDiverged", err)
	}
}

func TestContractReviewAgentDeterministic(t *testing.T) {
	ctx := context.Background()
	p := flywheel.LiteratureExample()
	p.Rotations = 3
	p.PaidProspects = 20
	run := func() []string {
		r, err := flywheel.Agent(ctx, p, flywheel.Seed(5))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for c, err := range lifecycle.Browse(ctx, r.Tracker.Store()) {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s %s %d", c.ID, c.Stage, len(c.History)))
		}
		slices.Sort(out)
		out = append(out, strconv.Itoa(r.Events), zzNaNsafe(r.Result))
		return out
	}
	a, b := run(), run()
	if !reflect.DeepEqual(a, b) {
		t.Errorf("Agent with the same seed differs")
	}
	// In a different zone and start, rotations are still [start+t*every, ...).
	loc := time.FixedZone("X", -11*3600)
	start := time.Date(2030, 6, 1, 0, 0, 0, 0, loc)
	r, err := flywheel.Agent(ctx, p, flywheel.Seed(5), flywheel.StartAt(start), flywheel.Every(7*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	end := start.Add(3 * 7 * 24 * time.Hour)
	for c, err := range lifecycle.Browse(ctx, r.Tracker.Store()) {
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range c.History {
			if tr.At.Before(start) || !tr.At.Before(end) {
				t.Errorf("customer %s transition at %v outside [%v, %v)", c.ID, tr.At, start, end)
			}
		}
	}
	if !r.Measurement.Start.Equal(start) || r.Measurement.Every != 7*24*time.Hour || len(r.Measurement.Rotations) != 3 {
		t.Errorf("Measurement start %v every %v rotations %d", r.Measurement.Start, r.Measurement.Every, len(r.Measurement.Rotations))
	}
}

func TestContractReviewMeasureHostile(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	start := flywheel.DefaultStart
	check := func(name string, f func() error, contains ...string) {
		t.Run(name, func(t *testing.T) {
			var err error
			zzNoPanic(t, name, func() { err = f() })
			zzWantErr(t, err, flywheel.ErrInvalidParams, contains...)
		})
	}
	check("nil store", func() error { _, err := flywheel.Measure(ctx, nil, start, time.Hour, 3); return err })
	check("typed nil store", func() error {
		_, err := flywheel.Measure(ctx, (*store.Memory)(nil), start, time.Hour, 3)
		return err
	})
	check("every 0", func() error { _, err := flywheel.Measure(ctx, st, start, 0, 3); return err })
	check("every -1", func() error { _, err := flywheel.Measure(ctx, st, start, -1, 3); return err })
	check("rotations 0", func() error { _, err := flywheel.Measure(ctx, st, start, time.Hour, 0); return err }, "0")
	check("rotations too many", func() error {
		_, err := flywheel.Measure(ctx, st, start, time.Hour, flywheel.MaxMeasureRotations+1)
		return err
	}, strconv.Itoa(flywheel.MaxMeasureRotations+1))
	check("graph nil", func() error {
		_, err := flywheel.Measure(ctx, st, start, time.Hour, 3, flywheel.WithGraph(nil))
		return err
	})
	check("spend negative", func() error {
		_, err := flywheel.Measure(ctx, st, start, time.Hour, 3, flywheel.WithSpend(1, -2))
		return err
	}, "-2")
	check("spend NaN", func() error {
		_, err := flywheel.Measure(ctx, st, start, time.Hour, 3, flywheel.WithSpend(math.NaN()))
		return err
	}, "NaN")
	check("spend Inf", func() error {
		_, err := flywheel.Measure(ctx, st, start, time.Hour, 3, flywheel.WithSpend(math.Inf(1)))
		return err
	}, "Inf")
	// Rotations whose end overflows time: every so large start + k*every overflows.
	t.Run("every huge", func(t *testing.T) {
		zzNoPanic(t, "Measure", func() {
			m, err := flywheel.Measure(ctx, st, start, time.Duration(math.MaxInt64), 5)
			if err == nil {
				for i, r := range m.Rotations {
					if !r.End.After(r.Start) {
						t.Errorf("rotation %d: End %v not after Start %v (overflow)", i+1, r.End, r.Start)
					}
				}
			}
		})
	})
	// Empty store: defined shape, NaN shares.
	m, err := flywheel.Measure(ctx, st, start, time.Hour, 3, flywheel.WithSpend(10))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Rotations) != 3 || m.Customers != 0 {
		t.Fatalf("empty store: %d rotations, %d customers", len(m.Rotations), m.Customers)
	}
	for i, r := range m.Rotations {
		if r.N != i+1 || !r.Start.Equal(start.Add(time.Duration(i)*time.Hour)) || !r.End.Equal(start.Add(time.Duration(i+1)*time.Hour)) {
			t.Errorf("rotation %d: N %d [%v, %v)", i, r.N, r.Start, r.End)
		}
		if !math.IsNaN(r.ReferredShare) || !math.IsNaN(r.AcquisitionCost) {
			t.Errorf("rotation %d: ReferredShare %v AcquisitionCost %v, want NaN", i+1, r.ReferredShare, r.AcquisitionCost)
		}
		if i == 0 && r.Spend != 10 {
			t.Errorf("rotation 1 spend = %v, want 10", r.Spend)
		}
		if i > 0 && !math.IsNaN(r.Spend) {
			t.Errorf("rotation %d spend = %v, want NaN (not given)", i+1, r.Spend)
		}
		for s, c := range r.Connected {
			if !math.IsNaN(c) {
				t.Errorf("rotation %d stage %d Connected = %v, want NaN (Exposed 0)", i+1, s, c)
			}
		}
	}
	if !math.IsNaN(m.ReferredShareTrend) || !math.IsNaN(m.AcquisitionCostTrend) {
		t.Errorf("trends = %v, %v; want NaN", m.ReferredShareTrend, m.AcquisitionCostTrend)
	}
}

// Measure on a small hand-built store: one paid and one referred customer.
func TestContractReviewMeasureByHand(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := start.Add(100 * 24 * time.Hour)
	tr := lifecycle.NewTracker(flywheel.Model(), st, lifecycle.WithClock(func() time.Time { return now }))
	day := 24 * time.Hour
	evs := []lifecycle.Event{
		{ID: "a1", CustomerID: "a", Type: lifecycle.SiteVisited, Time: start.Add(day)},
		{ID: "a2", CustomerID: "a", Type: lifecycle.OrderCompleted, Time: start.Add(2 * day), Amount: 100, Currency: "EUR"},
		{ID: "b1", CustomerID: "b", Type: lifecycle.SiteVisited, Time: start.Add(12 * day), ReferrerID: "a"},
		{ID: "b2", CustomerID: "b", Type: lifecycle.OrderCompleted, Time: start.Add(13 * day), Amount: 100, Currency: "EUR"},
	}
	for _, e := range evs {
		if _, err := tr.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	m, err := flywheel.Measure(ctx, st, start, 10*day, 2, flywheel.WithSpend(50, 0))
	if err != nil {
		t.Fatal(err)
	}
	r1, r2 := m.Rotations[0], m.Rotations[1]
	if r1.Prospects != 1 || r1.ReferredProspects != 0 || r1.NewCustomers != 1 || r1.ReferredCustomers != 0 {
		t.Errorf("rotation 1: %+v", r1)
	}
	if r2.Prospects != 1 || r2.ReferredProspects != 1 || r2.NewCustomers != 1 || r2.ReferredCustomers != 1 {
		t.Errorf("rotation 2: %+v", r2)
	}
	if r1.ReferredShare != 0 || r2.ReferredShare != 1 {
		t.Errorf("referred shares %v, %v", r1.ReferredShare, r2.ReferredShare)
	}
	if r1.AcquisitionCost != 50 || r2.AcquisitionCost != 0 {
		t.Errorf("acquisition cost %v, %v; want 50, 0", r1.AcquisitionCost, r2.AcquisitionCost)
	}
	if m.ReferredShareTrend != 1 || m.AcquisitionCostTrend != -50 {
		t.Errorf("trends %v, %v; want 1, -50", m.ReferredShareTrend, m.AcquisitionCostTrend)
	}
	if m.Customers != 2 {
		t.Errorf("Customers = %d, want 2", m.Customers)
	}
}

func TestContractReviewSweepHostile(t *testing.T) {
	ctx := context.Background()
	p := flywheel.LiteratureExample()
	oc := []flywheel.Outcome{flywheel.CustomersAfter(3)}
	ax := []flywheel.Axis{{Param: flywheel.ParamReferrals, Values: []float64{0.5, 1}}}
	check := func(name string, err error, contains ...string) {
		t.Helper()
		t.Run(name, func(t *testing.T) { zzWantErr(t, err, flywheel.ErrInvalidParams, contains...) })
	}
	run := func(outcomes []flywheel.Outcome, axes []flywheel.Axis, opts ...flywheel.SweepOption) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		_, err = flywheel.Sweep(ctx, p, outcomes, axes, opts...)
		return err
	}
	check("no axes", run(oc, nil))
	check("three axes", run(oc, []flywheel.Axis{ax[0], {Param: "lag", Values: []float64{1}}, {Param: "churn", Values: []float64{0}}}))
	check("same param twice", run(oc, []flywheel.Axis{ax[0], ax[0]}))
	check("unknown param", run(oc, []flywheel.Axis{{Param: "bogus", Values: []float64{1}}}), "bogus")
	check("axis without values", run(oc, []flywheel.Axis{{Param: flywheel.ParamReferrals}}))
	check("no outcomes", run(nil, ax))
	check("outcome without name", run([]flywheel.Outcome{{Name: "", Of: func(*flywheel.Result) float64 { return 1 }}}, ax))
	check("outcome without func", run([]flywheel.Outcome{{Name: "x"}}, ax))
	check("duplicate outcome names", run([]flywheel.Outcome{flywheel.CustomersAfter(3), flywheel.CustomersAfter(3)}, ax))
	check("runs given to expected sweep", run(oc, ax, flywheel.Runs(10)), "Runs")
	check("seed given to expected sweep", run(oc, ax, flywheel.Seed(1)), "Seed")
	check("bad grid point", run(oc, []flywheel.Axis{{Param: flywheel.ParamAdvocateChurn, Values: []float64{0.5, 2}}}), "2")
	check("NaN grid point", run(oc, []flywheel.Axis{{Param: flywheel.ParamAdvocateChurn, Values: []float64{math.NaN()}}}), "NaN")
	check("fractional lag", run(oc, []flywheel.Axis{{Param: flywheel.ParamLag, Values: []float64{1.5}}}), "1.5")
	big := make([]float64, 1025)
	for i := range big {
		big[i] = 1
	}
	check("grid too large", run(oc, []flywheel.Axis{{Param: flywheel.ParamReferrals, Values: big}, {Param: flywheel.ParamAdvocateChurn, Values: big}}))
	check("bad mode", run(oc, ax, flywheel.SweepMode("nope")))

	// Good sweep: shape and Grid lookup.
	tab, err := flywheel.Sweep(ctx, p, []flywheel.Outcome{flywheel.CustomersAfter(3), flywheel.CrossoverRotation()}, ax)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tab.Grid("nope"); !errors.Is(err, flywheel.ErrInvalidParams) {
		t.Errorf("Grid(nope) = %v", err)
	}
	g, err := tab.Grid("customers_after_3")
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Values) != 1 || len(g.Values[0]) != 2 || g.N[0][0] != 1 || g.StdErr[0][0] != 0 {
		t.Errorf("grid %+v", g)
	}
	var b bytes.Buffer
	if err := tab.WriteHeatmapSVG(&b, "customers_after_3"); !errors.Is(err, flywheel.ErrInvalidParams) {
		t.Errorf("heatmap of a one-parameter sweep = %v", err)
	}
	// Crossover never happens with paid 100 and referrals 0.5 in 12 rotations? NaN-everywhere outcome
	// is an error for both plots.
	nan := flywheel.Outcome{Name: "nan", Of: func(*flywheel.Result) float64 { return math.NaN() }}
	tab2, err := flywheel.Sweep(ctx, p, []flywheel.Outcome{nan}, ax)
	if err != nil {
		t.Fatal(err)
	}
	if err := tab2.WriteLinesSVG(&b, "nan"); !errors.Is(err, flywheel.ErrInvalidParams) {
		t.Errorf("lines of an all-NaN outcome = %v", err)
	}
	if g, _ := tab2.Grid("nan"); g.N[0][0] != 0 {
		t.Errorf("N of a NaN outcome in expected mode = %d, want 0", g.N[0][0])
	}
	if err := tab.WriteLinesSVG(&b, "nope"); !errors.Is(err, flywheel.ErrInvalidParams) {
		t.Errorf("lines of an unknown outcome = %v", err)
	}
	// CSV header.
	b.Reset()
	if err := tab.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	rec, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rec[0], []string{"referrals", "customers_after_3", tab.Grids[1].Outcome}) || len(rec) != 3 {
		t.Errorf("sweep CSV = %v", rec)
	}
}

// MetricAt names: "<metric>_at_<n>", and CustomersAfter beyond the rotations is NaN.
func TestContractReviewOutcomes(t *testing.T) {
	p := flywheel.LiteratureExample()
	res, err := flywheel.Expected(p)
	if err != nil {
		t.Fatal(err)
	}
	if o := flywheel.MetricAt(flywheel.Advocates, 12); o.Name != "advocates_at_12" {
		t.Errorf("MetricAt name = %q", o.Name)
	}
	for _, o := range []flywheel.Outcome{flywheel.CustomersAfter(13), flywheel.CustomersAfter(0), flywheel.CustomersAfter(-1),
		flywheel.MetricAt(flywheel.Advocates, 13), flywheel.MetricAt(flywheel.Metric(99), 1), flywheel.MetricAt(flywheel.Advocates, 0)} {
		var v float64
		zzNoPanic(t, o.Name, func() { v = o.Of(res) })
		if !math.IsNaN(v) {
			t.Errorf("%s = %v, want NaN", o.Name, v)
		}
	}
	// Crossover: with the literature's example referred prospects reach 100 when A(t-1) >= 100,
	// (1.10125)^(t-1) >= 2, t-1 >= 7.19 so t = 9.
	if v := flywheel.CrossoverRotation().Of(res); v != 9 {
		t.Errorf("CrossoverRotation = %v, want 9 (first t with 100((1+f)^(t-1)-1) > 100)", v)
	}
	if got, want := flywheel.CustomersAfter(12).Of(res), res.Rotations[11].Mean(flywheel.Customers); got != want {
		t.Errorf("CustomersAfter(12) = %v, want %v", got, want)
	}
}

func TestContractReviewResultCSVColumns(t *testing.T) {
	p := flywheel.LiteratureExample()
	p.Rotations = 2
	ev, _ := flywheel.Expected(p)
	var b bytes.Buffer
	if err := ev.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	rec, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"rotation"}
	for _, m := range flywheel.AllMetrics() {
		want = append(want, m.String())
	}
	if !reflect.DeepEqual(rec[0], want) {
		t.Errorf("expected CSV header = %v, want %v", rec[0], want)
	}
	if len(rec) != 3 || rec[1][0] != "1" || rec[2][0] != "2" {
		t.Errorf("rows = %v", rec)
	}
	// ViralK of rotation 1 is NaN: written "NaN".
	for i, h := range rec[0] {
		if h == flywheel.ViralK.String() && rec[1][i] != "NaN" {
			t.Errorf("rotation 1 %s = %q, want NaN", h, rec[1][i])
		}
	}
	mc, err := flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(10), flywheel.Quantiles(0.1, 0.9))
	if err != nil {
		t.Fatal(err)
	}
	b.Reset()
	_ = mc.WriteCSV(&b)
	rec, _ = csv.NewReader(&b).ReadAll()
	want = []string{"rotation"}
	for _, m := range flywheel.AllMetrics() {
		want = append(want, m.String(), m.String()+"_se", m.String()+"_p10", m.String()+"_p90")
	}
	if !reflect.DeepEqual(rec[0], want) {
		t.Errorf("MC CSV header = %v,\nwant %v", rec[0], want)
	}
	// Documented CSV column names.
	names := map[flywheel.Metric]string{flywheel.PaidProspects: "paid_prospects", flywheel.ReferredProspects: "referred_prospects",
		flywheel.Engaged: "engaged", flywheel.Acquired: "acquired", flywheel.NewCustomers: "new_customers", flywheel.Retained: "retained",
		flywheel.NewAdvocates: "new_advocates", flywheel.Advocates: "advocates", flywheel.ReferringAdvocates: "referring_advocates",
		flywheel.NewReferrals: "new_referrals", flywheel.Customers: "customers", flywheel.ViralK: "k", flywheel.Spend: "spend",
		flywheel.AcquisitionCost: "cac"}
	for m, n := range names {
		if m.String() != n {
			t.Errorf("Metric %d String = %q, docs say %q", m, m.String(), n)
		}
	}
	var s bytes.Buffer
	zzNoPanic(t, "WriteSVG bad metric", func() { _ = ev.WriteSVG(&s, flywheel.Metric(77)) })
}

// Bass: published room-air-conditioner fits from docs/analytics.md.
func TestContractReviewBassRoomAirConditioners(t *testing.T) {
	raw, err := os.ReadFile("testdata/bass_room_air_conditioners.csv")
	if err != nil {
		t.Fatal(err)
	}
	rec, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var sales []float64
	for _, r := range rec[1:] {
		v, _ := strconv.ParseFloat(r[1], 64)
		sales = append(sales, v)
	}
	nls, err := flywheel.FitBassSales(sales)
	if err != nil {
		t.Fatal(err)
	}
	rel := func(name string, got, want, tol float64) {
		if math.Abs(got-want) > tol*math.Abs(want) {
			t.Errorf("%s = %v, docs say %v", name, got, want)
		}
	}
	rel("NLS p", nls.P, 0.00944, 0.01)
	rel("NLS q", nls.Q, 0.375, 0.005)
	rel("NLS m", nls.M, 18713, 0.001)
	rel("NLS RSE", nls.RSE, 184.8, 0.001)
	rel("NLS R2", nls.R2, 0.933, 0.001)
	rel("NLS se p", nls.StdErrP, 0.0020, 0.05)
	rel("NLS se q", nls.StdErrQ, 0.040, 0.05)
	rel("NLS se m", nls.StdErrM, 1410, 0.01)
	rel("NLS t*", nls.PeakTime(), 9.58, 0.001)
	rel("NLS peak sales", nls.M*nls.PeakDensity(), 1843, 0.001)
	if nls.N != 13 {
		t.Errorf("N = %d", nls.N)
	}
	ols, err := flywheel.FitBassOLS(sales)
	if err != nil {
		t.Fatal(err)
	}
	rel("OLS p", ols.P, 0.0170, 0.01)
	rel("OLS q", ols.Q, 0.405, 0.005)
	rel("OLS m", ols.M, 17091, 0.001)
	rel("OLS RSE", ols.RSE, 231.6, 0.001)
	rel("OLS R2", ols.R2, 0.895, 0.001)
	if !math.IsNaN(ols.StdErrP) || !math.IsNaN(ols.StdErrQ) || !math.IsNaN(ols.StdErrM) {
		t.Errorf("OLS standard errors %v %v %v, want NaN", ols.StdErrP, ols.StdErrQ, ols.StdErrM)
	}
}

func TestContractReviewBassFormulas(t *testing.T) {
	b := flywheel.Bass{P: 0.03, Q: 0.38, M: 1000}
	for _, tt := range []float64{0.5, 1, 3, 7.3, 20} {
		e := math.Exp(-(b.P + b.Q) * tt)
		F := (1 - e) / (1 + b.Q/b.P*e)
		if math.Abs(b.F(tt)-F) > 1e-12 {
			t.Errorf("F(%v) = %v, want %v", tt, b.F(tt), F)
		}
		if math.Abs(b.Cumulative(tt)-1000*F) > 1e-9 {
			t.Errorf("Cumulative(%v)", tt)
		}
		f := (b.P + b.Q*F) * (1 - F)
		if math.Abs(b.Density(tt)-f) > 1e-12 {
			t.Errorf("Density(%v) = %v, want (P+QF)(1-F) = %v", tt, b.Density(tt), f)
		}
	}
	for _, tt := range []float64{0, -1, math.Inf(-1)} {
		if b.F(tt) != 0 {
			t.Errorf("F(%v) = %v, want 0", tt, b.F(tt))
		}
	}
	if b.Density(-1) != 0 {
		t.Errorf("Density(-1) = %v, want 0", b.Density(-1))
	}
	if d := b.Density(0); math.Abs(d-b.P) > 1e-12 {
		t.Errorf("Density(0) = %v, want P", d)
	}
	ts := math.Log(b.Q/b.P) / (b.P + b.Q)
	if math.Abs(b.PeakTime()-ts) > 1e-12 {
		t.Errorf("PeakTime = %v, want %v", b.PeakTime(), ts)
	}
	if pd := (b.P + b.Q) * (b.P + b.Q) / (4 * b.Q); math.Abs(b.PeakDensity()-pd) > 1e-12 {
		t.Errorf("PeakDensity = %v, want %v", b.PeakDensity(), pd)
	}
	if math.Abs(b.F(ts)-(b.Q-b.P)/(2*b.Q)) > 1e-12 {
		t.Errorf("F(t*) = %v, want (Q-P)/(2Q)", b.F(ts))
	}
	low := flywheel.Bass{P: 0.3, Q: 0.1, M: 10}
	if low.PeakTime() != 0 || low.PeakDensity() != 0.3 {
		t.Errorf("Q<P: PeakTime %v PeakDensity %v, want 0 and P", low.PeakTime(), low.PeakDensity())
	}
	eq := flywheel.Bass{P: 0.2, Q: 0.2, M: 10}
	if eq.PeakTime() != 0 || eq.PeakDensity() != 0.2 {
		t.Errorf("Q=P: PeakTime %v PeakDensity %v, want 0 and P", eq.PeakTime(), eq.PeakDensity())
	}
	// Series, PeriodSales, DiscreteSales.
	s := b.Series(5)
	ps := b.PeriodSales(5)
	prev := 0.0
	for i := range 5 {
		if math.Abs(s[i]-b.Cumulative(float64(i+1))) > 1e-9 {
			t.Errorf("Series[%d]", i)
		}
		if math.Abs(ps[i]-(s[i]-prev)) > 1e-9 {
			t.Errorf("PeriodSales[%d] = %v, want %v", i, ps[i], s[i]-prev)
		}
		prev = s[i]
	}
	ds := b.DiscreteSales(3)
	N := 0.0
	for i, v := range ds {
		want := (b.P + b.Q*N/b.M) * (b.M - N)
		if math.Abs(v-want) > 1e-9 {
			t.Errorf("DiscreteSales[%d] = %v, want %v", i, v, want)
		}
		N += want
	}
	// Hostile lengths must not panic.
	for _, n := range []int{0, -1, math.MinInt} {
		zzNoPanic(t, "Series", func() { _ = b.Series(n) })
		zzNoPanic(t, "PeriodSales", func() { _ = b.PeriodSales(n) })
		zzNoPanic(t, "DiscreteSales", func() { _ = b.DiscreteSales(n) })
	}
	// Validate.
	for _, bad := range []flywheel.Bass{{P: 0, Q: 0.1, M: 1}, {P: 0.1, Q: -0.1, M: 1}, {P: 0.1, Q: 0.1, M: 0},
		{P: math.NaN(), Q: 0.1, M: 1}, {P: 0.1, Q: math.Inf(1), M: 1}, {P: 0.1, Q: 0.1, M: math.Inf(1)}} {
		if err := bad.Validate(); !errors.Is(err, flywheel.ErrInvalidParams) {
			t.Errorf("Validate(%+v) = %v", bad, err)
		}
	}
	if err := (flywheel.Bass{P: 0.1, Q: 0, M: 1}).Validate(); err != nil {
		t.Errorf("Q = 0 is valid: %v", err)
	}
}

func TestContractReviewBassFitsHostile(t *testing.T) {
	fits := map[string]struct {
		f   func([]float64) error
		min int
	}{
		"FitBass":           {func(s []float64) error { _, err := flywheel.FitBass(s); return err }, 3},
		"FitBassCumulative": {func(s []float64) error { _, err := flywheel.FitBassCumulative(s); return err }, 4},
		"FitBassSales":      {func(s []float64) error { _, err := flywheel.FitBassSales(s); return err }, 4},
		"FitBassOLS":        {func(s []float64) error { _, err := flywheel.FitBassOLS(s); return err }, 4},
	}
	for name, fit := range fits {
		t.Run(name, func(t *testing.T) {
			bad := map[string][]float64{
				"nil":      nil,
				"too few":  []float64{1, 2, 3, 4}[:fit.min-1],
				"NaN":      {1, 2, math.NaN(), 4, 5},
				"Inf":      {1, 2, math.Inf(1), 4, 5},
				"negative": {1, -2, 3, 4, 5},
				"all zero": {0, 0, 0, 0, 0},
			}
			for what, s := range bad {
				var err error
				zzNoPanic(t, what, func() { err = fit.f(s) })
				if !errors.Is(err, flywheel.ErrInvalidParams) {
					t.Errorf("%s %s: %v, want ErrInvalidParams", name, what, err)
				}
			}
			for what, s := range map[string][]float64{
				"constant": {5, 5, 5, 5, 5, 5},
				"huge":     {1e300, 1e300, 1e300, 1e300, 1e300},
				"tiny":     {1e-300, 2e-300, 3e-300, 4e-300},
				"spike":    {0, 0, 0, 1e9, 0, 0},
			} {
				var err error
				zzNoPanic(t, what, func() { err = fit.f(s) })
				if err != nil && !errors.Is(err, flywheel.ErrNoFit) && !errors.Is(err, flywheel.ErrInvalidParams) {
					t.Errorf("%s %s: %v wraps no sentinel", name, what, err)
				}
			}
		})
	}
	// Noise-free recovery by FitBass.
	b := flywheel.Bass{P: 0.02, Q: 0.4, M: 5000}
	got, err := flywheel.FitBass(b.Series(20))
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got.P-b.P) > 1e-4 || math.Abs(got.Q-b.Q) > 1e-3 || math.Abs(got.M-b.M) > 1 {
		t.Errorf("FitBass recovered %+v from %+v", got, b)
	}
	// R2 NaN for constant series (FitBassCumulative doc).
	if f, err := flywheel.FitBassCumulative([]float64{5, 5, 5, 5, 5}); err == nil && !math.IsNaN(f.R2) {
		t.Errorf("R2 of a constant series = %v, want NaN", f.R2)
	}
}
