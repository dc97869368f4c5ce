package flywheel_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/clmkit/clm/flywheel"
	"github.com/clmkit/clm/internal/svgplot/svgcheck"
)

// zzSVG is what the tests read of an SVG (see svgcheck).
type zzSVG struct {
	W, H  float64
	Texts []string // the text and title elements' contents
	Bad   []string // coordinates off the canvas
}

// zzParseSVG parses data with svgcheck (well-formed XML, finite numbers)
// and returns its texts and what lies off the canvas.
func zzParseSVG(t *testing.T, data []byte) *zzSVG {
	t.Helper()
	d, err := svgcheck.Parse(data)
	if err != nil {
		t.Errorf("SVG: %v", err)
		return &zzSVG{}
	}
	return &zzSVG{W: d.Width, H: d.Height, Texts: append(d.Texts, d.Tooltips...), Bad: d.Off}
}

func (d *zzSVG) has(s string) bool {
	for _, t := range d.Texts {
		if t == s {
			return true
		}
	}
	return false
}

func (d *zzSVG) hasPrefix(s string) bool {
	for _, t := range d.Texts {
		if strings.HasPrefix(t, s) {
			return true
		}
	}
	return false
}

func zzCSV(t *testing.T, data []byte) [][]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse: %v\n%s", err, data)
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.WriteAll(recs)
	if !bytes.Equal(buf.Bytes(), data) {
		t.Errorf("CSV does not round-trip byte for byte")
	}
	return recs
}

func zzSame(a, b float64) bool {
	return a == b || (math.IsNaN(a) && math.IsNaN(b))
}

func zzSmall() flywheel.Params {
	p := flywheel.LiteratureExample()
	p.Rotations = 6
	return p
}

// docs/flywheel.md: "res.WriteCSV(w) writes them (Monte Carlo adds _se and
// _p05/_p50/_p95 columns)"; output.go WriteCSV doc: header, rotation, then
// each metric in AllMetrics order.
func TestContractReviewOutResultCSVColumnsAndValues(t *testing.T) {
	ctx := context.Background()
	ev, err := flywheel.Expected(zzSmall())
	if err != nil {
		t.Fatal(err)
	}
	mc, err := flywheel.MonteCarlo(ctx, zzSmall(), flywheel.Runs(200), flywheel.Seed(3))
	if err != nil {
		t.Fatal(err)
	}
	ag, err := flywheel.Agent(ctx, zzSmall(), flywheel.Seed(3))
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range []*flywheel.Result{ev, mc, ag.Result} {
		var b bytes.Buffer
		if err := res.WriteCSV(&b); err != nil {
			t.Fatal(err)
		}
		recs := zzCSV(t, b.Bytes())
		want := []string{"rotation"}
		isMC := res.Mode == flywheel.ModeMonteCarlo
		for _, m := range flywheel.AllMetrics() {
			want = append(want, m.String())
			if isMC {
				want = append(want, m.String()+"_se", m.String()+"_p05", m.String()+"_p50", m.String()+"_p95")
			}
		}
		if strings.Join(recs[0], ",") != strings.Join(want, ",") {
			t.Errorf("%s header\n got %v\nwant %v", res.Mode, recs[0], want)
		}
		if len(recs)-1 != len(res.Rotations) {
			t.Fatalf("%s: %d rows for %d rotations", res.Mode, len(recs)-1, len(res.Rotations))
		}
		for i, rot := range res.Rotations {
			row := recs[i+1]
			if row[0] != strconv.Itoa(i+1) || rot.N != i+1 {
				t.Errorf("%s row %d rotation %q (N %d)", res.Mode, i, row[0], rot.N)
			}
			col := 1
			for _, m := range flywheel.AllMetrics() {
				st := rot.Stats[m]
				vals := []float64{st.Mean}
				if isMC {
					vals = append(vals, st.StdErr)
					vals = append(vals, st.Quantiles...)
				}
				for _, v := range vals {
					got, err := strconv.ParseFloat(row[col], 64)
					if err != nil || !zzSame(got, v) {
						t.Errorf("%s rotation %d column %s = %q, API %v", res.Mode, i+1, recs[0][col], row[col], v)
					}
					col++
				}
			}
		}
	}
}

// Quantile levels name their columns: "<metric>_p05" …; distinct levels
// should give distinct column names, and "p2.5" for 0.025 (output.go).
func TestContractReviewOutCSVQuantileNames(t *testing.T) {
	ctx := context.Background()
	mc, err := flywheel.MonteCarlo(ctx, zzSmall(), flywheel.Runs(20), flywheel.Seed(1),
		flywheel.Quantiles(0.025, 0.5, 0.975))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := mc.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	recs := zzCSV(t, b.Bytes())
	h := strings.Join(recs[0][:6], ",")
	if h != "rotation,paid_prospects,paid_prospects_se,paid_prospects_p2.5,paid_prospects_p50,paid_prospects_p97.5" {
		t.Errorf("header %s", h)
	}
	mc, err = flywheel.MonteCarlo(ctx, zzSmall(), flywheel.Runs(20), flywheel.Seed(1),
		flywheel.Quantiles(0.05, 0.050000000001))
	if err != nil {
		t.Logf("distinct but near levels refused: %v", err)
		return
	}
	b.Reset()
	_ = mc.WriteCSV(&b)
	recs = zzCSV(t, b.Bytes())
	seen := map[string]bool{}
	for _, c := range recs[0] {
		if seen[c] {
			t.Errorf("two distinct quantile levels (0.05, 0.050000000001) give the same CSV column %q", c)
			break
		}
		seen[c] = true
	}
}

// Same seed, byte-identical CSV and SVG whatever the workers.
func TestContractReviewOutSameSeedSameBytes(t *testing.T) {
	ctx := context.Background()
	out := func(w int) (string, string) {
		mc, err := flywheel.MonteCarlo(ctx, zzSmall(), flywheel.Runs(300), flywheel.Seed(11), flywheel.Workers(w))
		if err != nil {
			t.Fatal(err)
		}
		var c, s bytes.Buffer
		if err := mc.WriteCSV(&c); err != nil {
			t.Fatal(err)
		}
		if err := mc.WriteSVG(&s); err != nil {
			t.Fatal(err)
		}
		return c.String(), s.String()
	}
	c1, s1 := out(1)
	c2, s2 := out(2)
	c3, s3 := out(0)
	if c1 != c2 || c1 != c3 || s1 != s2 || s1 != s3 {
		t.Error("same seed, different bytes")
	}
	a1, err := flywheel.Agent(ctx, zzSmall(), flywheel.Seed(4))
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := flywheel.Agent(ctx, zzSmall(), flywheel.Seed(4))
	var x, y bytes.Buffer
	_ = a1.Result.WriteCSV(&x)
	_ = a2.Result.WriteCSV(&y)
	if x.String() != y.String() {
		t.Error("agent: same seed, different CSV")
	}
}

// output.go WriteSVG doc: title, axis labels ("rotation", the unit), one
// legend entry per metric, default metrics, bands.
func TestContractReviewOutResultSVGLabels(t *testing.T) {
	ctx := context.Background()
	ev, _ := flywheel.Expected(zzSmall())
	mc, err := flywheel.MonteCarlo(ctx, zzSmall(), flywheel.Runs(50), flywheel.Seed(1))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		res     *flywheel.Result
		metrics []flywheel.Metric
		ylabel  string
	}{
		{ev, nil, "count"},
		{ev, []flywheel.Metric{flywheel.PaidProspects, flywheel.NewCustomers}, "count per rotation"},
		{ev, []flywheel.Metric{flywheel.AcquisitionCost}, "money per new customer"},
		{ev, []flywheel.Metric{flywheel.Spend, flywheel.AcquisitionCost}, "money"},
		{ev, []flywheel.Metric{flywheel.Spend, flywheel.ViralK}, "value"},
		{mc, flywheel.AllMetrics(), "value"},
	}
	for _, c := range cases {
		var b bytes.Buffer
		if err := c.res.WriteSVG(&b, c.metrics...); err != nil {
			t.Fatal(err)
		}
		d := zzParseSVG(t, b.Bytes())
		if len(d.Bad) > 0 {
			t.Errorf("%s %v: bad coordinates %v", c.res.Mode, c.metrics, d.Bad)
		}
		ms := c.metrics
		if ms == nil {
			ms = flywheel.DefaultChartMetrics()
		}
		for _, m := range ms {
			if !d.has(m.String()) {
				t.Errorf("%s: no legend entry %q", c.res.Mode, m)
			}
		}
		if !d.has("rotation") || !d.has(c.ylabel) {
			t.Errorf("%s %v: axis labels missing (want rotation and %q): %q", c.res.Mode, c.metrics, c.ylabel, d.Texts)
		}
		wantTitle := "Flywheel simulation (expected)"
		if c.res.Mode == flywheel.ModeMonteCarlo {
			wantTitle = "Flywheel simulation (monte-carlo, 50 runs, band p05–p95)"
		}
		if !d.has(wantTitle) {
			t.Errorf("title %q missing: %q", wantTitle, d.Texts[:1])
		}
		if c.res.Mode == flywheel.ModeMonteCarlo && !bytes.Contains(b.Bytes(), []byte("<polygon")) {
			t.Error("Monte Carlo chart has no bands")
		}
	}
}

// Degenerate simulations: one rotation, all zero, huge populations; and
// hostile hand-built Results (negative, huge, NaN, no rotations).
func TestContractReviewOutResultSVGDegenerate(t *testing.T) {
	ctx := context.Background()
	var results []*flywheel.Result
	p := zzSmall()
	p.Rotations = 1
	r1, _ := flywheel.Expected(p)
	m1, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(1), flywheel.Seed(1))
	if err != nil {
		t.Fatal(err)
	}
	results = append(results, r1, m1)
	p = zzSmall()
	p.PaidProspects = 0
	r0, _ := flywheel.Expected(p)
	m0, _ := flywheel.MonteCarlo(ctx, p, flywheel.Runs(5))
	results = append(results, r0, m0)
	p = zzSmall()
	p.PaidProspects = math.Pow(2, 44)
	p.SpendPerProspect = math.Pow(2, 50)
	p.Referrals = 0
	rb, err := flywheel.Expected(p)
	if err != nil {
		t.Fatal(err)
	}
	results = append(results, rb)
	for _, r := range results {
		for _, ms := range [][]flywheel.Metric{nil, flywheel.AllMetrics()} {
			var b bytes.Buffer
			if err := r.WriteSVG(&b, ms...); err != nil {
				t.Errorf("%s rotations %d: %v", r.Mode, len(r.Rotations), err)
				continue
			}
			d := zzParseSVG(t, b.Bytes())
			if len(d.Bad) > 0 {
				t.Errorf("%s (%d rotations, paid %g): bad coordinates %v", r.Mode, len(r.Rotations), r.Params.PaidProspects, d.Bad[:min(5, len(d.Bad))])
			}
		}
	}
}

func zzMk(vals ...float64) *flywheel.Result {
	r := &flywheel.Result{Mode: flywheel.ModeExpected, Runs: 1}
	for i, v := range vals {
		rot := flywheel.Rotation{N: i + 1}
		for m := range rot.Stats {
			rot.Stats[m] = flywheel.Stat{Mean: v, N: 1}
		}
		r.Rotations = append(r.Rotations, rot)
	}
	return r
}

func TestContractReviewOutResultSVGHandBuilt(t *testing.T) {
	mk := zzMk
	cases := map[string]*flywheel.Result{
		"no rotations":   mk(),
		"NaN and Inf":    mk(math.NaN(), math.Inf(1), 2),
		"all NaN":        mk(math.NaN(), math.NaN()),
		"tiny":           mk(5e-324, 1e-320),
		"mode <&\" name": func() *flywheel.Result { r := mk(1, 2); r.Mode = `x<&"y'`; return r }(),
	}
	for name, r := range cases {
		var b bytes.Buffer
		err := r.WriteSVG(&b)
		if err != nil {
			if !errors.Is(err, flywheel.ErrInvalidParams) {
				t.Errorf("%s: error %v does not wrap ErrInvalidParams", name, err)
			}
			continue
		}
		d := zzParseSVG(t, b.Bytes())
		if len(d.Bad) > 0 {
			t.Errorf("%s: bad coordinates %v", name, d.Bad[:min(5, len(d.Bad))])
		}
	}
	var b bytes.Buffer
	if err := mk(1).WriteSVG(&b, flywheel.Metric(99)); !errors.Is(err, flywheel.ErrInvalidParams) {
		t.Errorf("unknown metric: %v", err)
	}
	var nilRes *flywheel.Result
	if err := nilRes.WriteSVG(&b); !errors.Is(err, flywheel.ErrInvalidParams) {
		t.Errorf("nil result SVG: %v", err)
	}
	if err := nilRes.WriteCSV(&b); !errors.Is(err, flywheel.ErrInvalidParams) {
		t.Errorf("nil result CSV: %v", err)
	}
}

// docs/flywheel.md "Rotations by number".
func TestContractReviewOutRotationByNumber(t *testing.T) {
	r, _ := flywheel.Expected(zzSmall())
	got, err := r.Rotation(5)
	if err != nil || got.N != 5 || got.Mean(flywheel.Customers) != r.Rotations[4].Mean(flywheel.Customers) {
		t.Errorf("Rotation(5) = %+v, %v", got, err)
	}
	for _, n := range []int{0, -1, 7} {
		if _, err := r.Rotation(n); !errors.Is(err, flywheel.ErrInvalidParams) || !strings.Contains(err.Error(), strconv.Itoa(n)) {
			t.Errorf("Rotation(%d): %v", n, err)
		}
	}
}

// docs/flywheel.md: Validate errors name the parameter and its value.
func TestContractReviewOutValidateNamesFieldAndValue(t *testing.T) {
	cases := []struct {
		set        func(*flywheel.Params)
		field, val string
	}{
		{func(p *flywheel.Params) { p.AdvocateChurn = 1.5 }, "AdvocateChurn", "1.5"},
		{func(p *flywheel.Params) { p.PaidProspects = math.NaN() }, "PaidProspects", "NaN"},
		{func(p *flywheel.Params) { p.Referrals = math.Inf(1) }, "Referrals", "Inf"},
		{func(p *flywheel.Params) { p.SpendPerProspect = -2 }, "SpendPerProspect", "-2"},
		{func(p *flywheel.Params) { p.Rotations = 10001 }, "Rotations", "10001"},
		{func(p *flywheel.Params) { p.Lag = 0 }, "Lag", "0"},
		{func(p *flywheel.Params) { p.Conversion[2] = -0.1 }, "Conversion", "-0.1"},
		{func(p *flywheel.Params) { p.ReferredConversion = 2 }, "ReferredConversion", "2"},
	}
	for _, c := range cases {
		p := flywheel.LiteratureExample()
		c.set(&p)
		err := p.Validate()
		if !errors.Is(err, flywheel.ErrInvalidParams) || !strings.Contains(err.Error(), c.field) || !strings.Contains(err.Error(), c.val) {
			t.Errorf("%s = %s: %v", c.field, c.val, err)
		}
	}
}

func zzSweep(t *testing.T, mc bool, outcomes []flywheel.Outcome, axes []flywheel.Axis) *flywheel.Table {
	t.Helper()
	opts := []flywheel.SweepOption{}
	if mc {
		opts = append(opts, flywheel.SweepMode(flywheel.ModeMonteCarlo), flywheel.Runs(40), flywheel.Seed(9))
	}
	tab, err := flywheel.Sweep(context.Background(), zzSmall(), outcomes, axes, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// sweep.go WriteCSV doc: long form, header naming the parameters and the
// outcomes (+ _se, _n in Monte Carlo); numbers equal the grids.
func TestContractReviewOutSweepCSV(t *testing.T) {
	outs := []flywheel.Outcome{flywheel.CustomersAfter(6), flywheel.CrossoverRotation(), flywheel.MetricAt(flywheel.Advocates, 6)}
	axes2 := []flywheel.Axis{{Param: flywheel.ParamReferrals, Values: []float64{0.5, 1, 3}}, {Param: flywheel.ParamAdvocateChurn, Values: []float64{0, 0.5}}}
	axes1 := axes2[:1]
	for _, mc := range []bool{false, true} {
		for _, axes := range [][]flywheel.Axis{axes1, axes2} {
			tab := zzSweep(t, mc, outs, axes)
			var b bytes.Buffer
			if err := tab.WriteCSV(&b); err != nil {
				t.Fatal(err)
			}
			recs := zzCSV(t, b.Bytes())
			want := []string{"referrals"}
			if len(axes) == 2 {
				want = append(want, "churn")
			}
			for _, o := range outs {
				want = append(want, o.Name)
				if mc {
					want = append(want, o.Name+"_se", o.Name+"_n")
				}
			}
			if strings.Join(recs[0], ",") != strings.Join(want, ",") {
				t.Errorf("header %v, want %v", recs[0], want)
			}
			rows := len(axes[0].Values)
			if len(axes) == 2 {
				rows *= len(axes[1].Values)
			}
			if len(recs)-1 != rows {
				t.Fatalf("%d rows, want %d", len(recs)-1, rows)
			}
			for _, row := range recs[1:] {
				x, _ := strconv.ParseFloat(row[0], 64)
				i := indexOf(axes[0].Values, x)
				j, col := 0, 1
				if len(axes) == 2 {
					y, _ := strconv.ParseFloat(row[1], 64)
					j, col = indexOf(axes[1].Values, y), 2
				}
				if i < 0 || j < 0 {
					t.Fatalf("row %v: not a grid point", row)
				}
				for _, g := range tab.Grids {
					v, _ := strconv.ParseFloat(row[col], 64)
					if !zzSame(v, g.Values[j][i]) {
						t.Errorf("%s at %d,%d: CSV %q, grid %v", g.Outcome, i, j, row[col], g.Values[j][i])
					}
					col++
					if mc {
						se, _ := strconv.ParseFloat(row[col], 64)
						n, _ := strconv.Atoi(row[col+1])
						if !zzSame(se, g.StdErr[j][i]) || n != g.N[j][i] {
							t.Errorf("%s se/n CSV %q %q, grid %v %d", g.Outcome, row[col], row[col+1], g.StdErr[j][i], g.N[j][i])
						}
						col += 2
					}
				}
			}
		}
	}
}

func indexOf(vs []float64, v float64) int {
	for i, x := range vs {
		if x == v {
			return i
		}
	}
	return -1
}

// docs/flywheel.md "Plots": heatmap and lines have the documented title,
// axes, ticks (the swept values), legend entries and finite coordinates.
func TestContractReviewOutSweepSVGDocumented(t *testing.T) {
	outs := []flywheel.Outcome{flywheel.CustomersAfter(6), flywheel.CrossoverRotation()}
	axes := []flywheel.Axis{{Param: flywheel.ParamReferrals, Values: []float64{0.5, 1, 1.5, 4}}, {Param: flywheel.ParamAdvocateChurn, Values: []float64{0, 0.25, 0.5}}}
	for _, mc := range []bool{false, true} {
		tab := zzSweep(t, mc, outs, axes)
		var h, l bytes.Buffer
		if err := tab.WriteHeatmapSVG(&h, "crossover_rotation"); err != nil {
			t.Fatal(err)
		}
		d := zzParseSVG(t, h.Bytes())
		if len(d.Bad) > 0 {
			t.Errorf("heatmap bad coordinates %v", d.Bad)
		}
		for _, s := range []string{"referrals", "churn", "0.5", "1", "1.5", "4", "0", "0.25", "crossover_rotation"} {
			if !d.has(s) {
				t.Errorf("heatmap lacks text %q", s)
			}
		}
		if !d.hasPrefix("crossover_rotation by referrals and churn") {
			t.Errorf("heatmap title: %q", d.Texts[0])
		}
		if err := tab.WriteLinesSVG(&l, "customers_after_6"); err != nil {
			t.Fatal(err)
		}
		d = zzParseSVG(t, l.Bytes())
		if len(d.Bad) > 0 {
			t.Errorf("lines bad coordinates %v", d.Bad)
		}
		for _, s := range []string{"churn = 0", "churn = 0.25", "churn = 0.5", "referrals", "customers_after_6"} {
			if !d.has(s) {
				t.Errorf("lines chart lacks text %q", s)
			}
		}
		if mc != bytes.Contains(l.Bytes(), []byte("errorbar")) {
			t.Errorf("Monte Carlo %v, error bars %v", mc, !mc)
		}
	}
	// errors
	tab := zzSweep(t, false, outs, axes[:1])
	var b bytes.Buffer
	for name, err := range map[string]error{
		"heatmap of one-parameter sweep": tab.WriteHeatmapSVG(&b, "customers_after_6"),
		"unknown outcome (lines)":        tab.WriteLinesSVG(&b, "nope"),
		"unknown outcome (heatmap)":      zzSweep(t, false, outs, axes).WriteHeatmapSVG(&b, "nope"),
	} {
		if !errors.Is(err, flywheel.ErrInvalidParams) {
			t.Errorf("%s: %v", name, err)
		}
	}
	nan := flywheel.Outcome{Name: "never", Of: func(*flywheel.Result) float64 { return math.NaN() }}
	tn := zzSweep(t, false, []flywheel.Outcome{nan}, axes)
	if err := tn.WriteLinesSVG(&b, "never"); !errors.Is(err, flywheel.ErrInvalidParams) {
		t.Errorf("NaN everywhere (lines): %v", err)
	}
	if err := tn.WriteHeatmapSVG(&b, "never"); !errors.Is(err, flywheel.ErrInvalidParams) {
		t.Errorf("NaN everywhere (heatmap): %v", err)
	}
}

// Hostile outcomes and names: escaping, long names, huge/negative/equal
// values, single point, many lines.
func TestContractReviewOutSweepSVGHostile(t *testing.T) {
	weird := `a<b & "c" 'd'`
	long := strings.Repeat("very_long_outcome_name_", 20)
	consts := map[string]float64{"huge": 1e308, "neg": -1e308, "zero": 0, "max": math.MaxFloat64}
	for label, v := range consts {
		v := v
		outs := []flywheel.Outcome{
			{Name: weird, Of: func(*flywheel.Result) float64 { return v }},
			{Name: long, Of: func(r *flywheel.Result) float64 { return v * r.Params.Referrals / 4 }},
		}
		for _, axes := range [][]flywheel.Axis{
			{{Param: flywheel.ParamReferrals, Values: []float64{1}}, {Param: flywheel.ParamLag, Values: []float64{1}}},
			{{Param: flywheel.ParamReferrals, Values: []float64{1, 2, 4}}, {Param: flywheel.ParamLag, Values: []float64{1, 2}}},
		} {
			tab := zzSweep(t, false, outs, axes)
			for _, name := range []string{weird, long} {
				var h, l bytes.Buffer
				if err := tab.WriteHeatmapSVG(&h, name); err != nil {
					t.Errorf("%s heatmap %q: %v", label, name[:5], err)
				} else {
					d := zzParseSVG(t, h.Bytes())
					if len(d.Bad) > 0 {
						t.Errorf("%s heatmap %.5q (%d points): %v", label, name, len(axes[0].Values), d.Bad[:min(4, len(d.Bad))])
					}
					if name == weird && !d.has(weird) {
						t.Errorf("escaped name lost")
					}
				}
				if err := tab.WriteLinesSVG(&l, name); err != nil {
					t.Errorf("%s lines %.5q: %v", label, name, err)
				} else {
					d := zzParseSVG(t, l.Bytes())
					if len(d.Bad) > 0 {
						t.Errorf("%s lines %.5q (%d points): %v", label, name, len(axes[0].Values), d.Bad[:min(4, len(d.Bad))])
					}
				}
			}
		}
	}
}

// WriteLinesSVG: "one line per value of the second parameter ..., each in
// the legend" — the legend must stay on the canvas.
func TestContractReviewOutSweepLinesManySeries(t *testing.T) {
	ys := make([]float64, 30)
	for i := range ys {
		ys[i] = float64(i) / 29
	}
	tab := zzSweep(t, false, []flywheel.Outcome{flywheel.CustomersAfter(6)},
		[]flywheel.Axis{{Param: flywheel.ParamReferrals, Values: []float64{0.5, 1}}, {Param: flywheel.ParamAdvocateChurn, Values: ys}})
	var b bytes.Buffer
	if err := tab.WriteLinesSVG(&b, "customers_after_6"); err != nil {
		t.Fatal(err)
	}
	d := zzParseSVG(t, b.Bytes())
	if len(d.Bad) > 0 {
		t.Errorf("30 lines: %d coordinates off the %gx%g canvas, e.g. %v", len(d.Bad), d.W, d.H, d.Bad[:min(4, len(d.Bad))])
	}
}

func TestContractReviewOutSweepDeterministic(t *testing.T) {
	axes := []flywheel.Axis{{Param: flywheel.ParamReferrals, Values: []float64{0.5, 2}}, {Param: flywheel.ParamAdvocateChurn, Values: []float64{0, 0.5}}}
	render := func() string {
		tab := zzSweep(t, true, []flywheel.Outcome{flywheel.CustomersAfter(6), flywheel.CrossoverRotation()}, axes)
		var b bytes.Buffer
		_ = tab.WriteCSV(&b)
		_ = tab.WriteHeatmapSVG(&b, "customers_after_6")
		_ = tab.WriteLinesSVG(&b, "crossover_rotation")
		return b.String()
	}
	if render() != render() {
		t.Error("same seed, different sweep output")
	}
}

// A Result is a plain struct; WriteSVG of a hand-built one with negative
// values should stay on its 800×480 canvas.
func TestContractReviewOutResultSVGNegativeValues(t *testing.T) {
	var b bytes.Buffer
	if err := zzMk(-5, -1, 3).WriteSVG(&b, flywheel.PaidProspects); err != nil {
		t.Fatal(err)
	}
	d := zzParseSVG(t, b.Bytes())
	if len(d.Bad) > 0 {
		t.Errorf("means -5, -1, 3: off the canvas: %v\n%s", d.Bad, zzLine(b.String(), "polyline"))
	}
}

// ... and with values near the largest float64 its coordinates should be finite.
func TestContractReviewOutResultSVGHugeValues(t *testing.T) {
	var b bytes.Buffer
	if err := zzMk(1, math.MaxFloat64).WriteSVG(&b, flywheel.PaidProspects); err != nil {
		t.Fatal(err)
	}
	d := zzParseSVG(t, b.Bytes())
	if len(d.Bad) > 0 {
		t.Errorf("means 1, MaxFloat64: %v\n%s", d.Bad, zzLine(b.String(), "NaN"))
	}
}

func zzLine(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out[:min(3, len(out))], "\n")
}

// A one-run Monte Carlo sweep whose outcome is NaN in that run has N 0 and
// a NaN mean and standard error; where the run has a number, N is 1 and
// the standard error 0 (found by an audit: the doc said 0 for every
// single-run cell).
func TestSweepSingleRunStdErr(t *testing.T) {
	tab, err := flywheel.Sweep(context.Background(), flywheel.LiteratureExample(),
		[]flywheel.Outcome{flywheel.CrossoverRotation()},
		[]flywheel.Axis{{Param: flywheel.ParamReferrals, Values: []float64{0.5, 1}}},
		flywheel.SweepMode(flywheel.ModeMonteCarlo), flywheel.Runs(1), flywheel.Seed(1))
	if err != nil {
		t.Fatal(err)
	}
	g, err := tab.Grid("crossover_rotation")
	if err != nil {
		t.Fatal(err)
	}
	if g.N[0][0] != 0 || !math.IsNaN(g.Values[0][0]) || !math.IsNaN(g.StdErr[0][0]) {
		t.Errorf("referrals 0.5: N %d, value %v, stderr %v; want 0, NaN, NaN", g.N[0][0], g.Values[0][0], g.StdErr[0][0])
	}
	if g.N[0][1] != 1 || math.IsNaN(g.Values[0][1]) || g.StdErr[0][1] != 0 {
		t.Errorf("referrals 1: N %d, value %v, stderr %v; want 1, a number, 0", g.N[0][1], g.Values[0][1], g.StdErr[0][1])
	}
}

// Series of a nil Result is nil, as Rotation of one is an error: no panic.
func TestSeriesNilResult(t *testing.T) {
	var r *flywheel.Result
	if s := r.Series(flywheel.Advocates); s != nil {
		t.Errorf("Series of a nil Result = %v, want nil", s)
	}
}
