package clv_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/internal/svgplot/svgcheck"
	"github.com/clmkit/clm/lifecycle/clv"
)

// zoSVG is what the tests read of an SVG (see svgcheck).
type zoSVG struct {
	W, H  float64
	Texts []string // the text and title elements' contents
	Bad   []string // coordinates off the canvas
}

// zoParseSVG parses data with svgcheck (well-formed XML, finite numbers)
// and returns its texts and what lies off the canvas.
func zoParseSVG(t *testing.T, data []byte) *zoSVG {
	t.Helper()
	d, err := svgcheck.Parse(data)
	if err != nil {
		t.Errorf("SVG: %v", err)
		return &zoSVG{}
	}
	return &zoSVG{W: d.Width, H: d.Height, Texts: append(d.Texts, d.Tooltips...), Bad: d.Off}
}

func (d *zoSVG) has(s string) bool {
	for _, t := range d.Texts {
		if t == s {
			return true
		}
	}
	return false
}

func (d *zoSVG) hasPrefix(s string) bool {
	for _, t := range d.Texts {
		if strings.HasPrefix(t, s) {
			return true
		}
	}
	return false
}

func zoCDNOW(t *testing.T) ([]clv.Customer, clv.BGNBD) {
	t.Helper()
	f, err := os.Open("testdata/CDNOW_sample.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	txs, err := clv.ReadCDNOW(f)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := clv.Summarize(txs, clv.SummaryOptions{Period: clv.Day, Unit: clv.Week,
		CalibrationEnd: time.Date(1997, 9, 30, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	bg, _, err := clv.FitBGNBD(cs, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cs, bg
}

// docs/analytics.md "Plots": each plot has a title, labelled axes with
// labelled ticks and a legend; labels escaped; coordinates finite.
func TestContractReviewOutHoldoutChartDocumented(t *testing.T) {
	cs, bg := zoCDNOW(t)
	bins, err := clv.CalibrationHoldout(bg, cs, 7)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for i, b := range bins {
		want := strconv.Itoa(i)
		if i == 7 {
			want += "+"
		}
		if b.Label != want || b.Frequency != i {
			t.Errorf("bin %d label %q frequency %d", i, b.Label, b.Frequency)
		}
		total += b.Customers
	}
	if total != len(cs) {
		t.Errorf("bins hold %d customers of %d", total, len(cs))
	}
	for _, opts := range []clv.PlotOptions{{}, {Model: `BG/NBD <a & "b">`, Title: `T<i>tle & 'q'`}} {
		var b bytes.Buffer
		if err := clv.WriteCalibrationHoldoutSVG(&b, bins, opts); err != nil {
			t.Fatal(err)
		}
		d := zoParseSVG(t, b.Bytes())
		if len(d.Bad) > 0 {
			t.Errorf("bad coordinates %v", d.Bad)
		}
		model, title := opts.Model, opts.Title
		if model == "" {
			model = "model"
		}
		if title == "" {
			title = "Calibration/holdout: mean purchases in the holdout period"
		}
		for _, s := range []string{title, "actual", model, "repeat purchases in calibration", "mean purchases in holdout", "0", "6", "7+"} {
			if !d.has(s) {
				t.Errorf("holdout chart lacks %q", s)
			}
		}
	}
}

type zoModel struct{ v func(c clv.Customer) float64 }

func (m zoModel) ConditionalExpectedPurchases(t float64, c clv.Customer) (float64, error) {
	return m.v(c), nil
}

// Hostile bins: single, all equal, zero, negative, huge, NaN, long names.
func TestContractReviewOutHoldoutChartHostile(t *testing.T) {
	cases := map[string][]clv.HoldoutBin{
		"single":     {{Label: "0", Predicted: 1, Actual: 1}},
		"all zero":   {{Label: "0"}, {Label: "1+"}},
		"negative":   {{Label: "0", Predicted: -3, Actual: 2}, {Label: "1", Predicted: -1e9, Actual: 0}},
		"huge":       {{Label: "0", Predicted: math.MaxFloat64, Actual: 1}, {Label: "1", Predicted: -math.MaxFloat64, Actual: 0}},
		"some NaN":   {{Label: "0", Predicted: math.NaN(), Actual: 1}, {Label: "1", Predicted: math.Inf(1), Actual: 2}},
		"long label": {{Label: strings.Repeat("<&\"'", 200), Predicted: 1, Actual: 2}},
	}
	for name, bins := range cases {
		var b bytes.Buffer
		if err := clv.WriteCalibrationHoldoutSVG(&b, bins, clv.PlotOptions{Model: strings.Repeat("m", 500)}); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		d := zoParseSVG(t, b.Bytes())
		if len(d.Bad) > 0 {
			t.Errorf("%s: bad coordinates %v", name, d.Bad[:min(4, len(d.Bad))])
		}
	}
	var b bytes.Buffer
	for name, bins := range map[string][]clv.HoldoutBin{
		"no bins": nil,
		"all NaN": {{Label: "0", Predicted: math.NaN(), Actual: math.NaN()}},
	} {
		if err := clv.WriteCalibrationHoldoutSVG(&b, bins, clv.PlotOptions{}); !errors.Is(err, clv.ErrInvalidInput) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, o := range []clv.PlotOptions{{Width: -1}, {Height: 149}, {Width: 20001}, {Width: 199}} {
		err := clv.WriteCalibrationHoldoutSVG(&b, []clv.HoldoutBin{{Label: "0", Actual: 1}}, o)
		if !errors.Is(err, clv.ErrInvalidInput) {
			t.Errorf("size %dx%d: %v", o.Width, o.Height, err)
		}
	}
	// A model returning hostile values, through CalibrationHoldout.
	for name, v := range map[string]float64{"NaN": math.NaN(), "Inf": math.Inf(1), "neg": -5, "huge": 1e300} {
		cs := []clv.Customer{{ID: "a", T: 10}, {ID: "b", Frequency: 2, Recency: 5, T: 10, MonetaryValue: 3, HoldoutFrequency: 1, HoldoutDuration: 5}}
		bins, err := clv.CalibrationHoldout(zoModel{func(clv.Customer) float64 { return v }}, cs, 1)
		if err != nil {
			t.Logf("%s model: CalibrationHoldout: %v", name, err)
			continue
		}
		b.Reset()
		if err := clv.WriteCalibrationHoldoutSVG(&b, bins, clv.PlotOptions{}); err != nil {
			t.Errorf("%s model: %v", name, err)
			continue
		}
		if d := zoParseSVG(t, b.Bytes()); len(d.Bad) > 0 {
			t.Errorf("%s model: bad coordinates %v", name, d.Bad)
		}
	}
}

// CalibrationHoldout errors name the field and value and wrap ErrInvalidInput.
func TestContractReviewOutHoldoutErrors(t *testing.T) {
	_, bg := zoCDNOW(t)
	good := clv.Customer{ID: "a", Frequency: 1, Recency: 2, T: 5, MonetaryValue: 1, HoldoutDuration: 3}
	cases := []struct {
		cs   []clv.Customer
		max  int
		want []string
	}{
		{[]clv.Customer{good}, 0, []string{"maxFrequency", "0"}},
		{[]clv.Customer{good}, 10001, []string{"maxFrequency", "10001"}},
		{[]clv.Customer{good, {ID: "b", T: 1, HoldoutFrequency: -2}}, 3, []string{"HoldoutFrequency", "-2"}},
		{[]clv.Customer{good, {ID: "b", T: 1, HoldoutDuration: math.NaN()}}, 3, []string{"HoldoutDuration", "NaN"}},
		{[]clv.Customer{{ID: "b", T: -1}}, 3, []string{"T", "-1"}},
		{nil, 3, []string{"no customers"}},
	}
	for _, c := range cases {
		_, err := clv.CalibrationHoldout(bg, c.cs, c.max)
		if !errors.Is(err, clv.ErrInvalidInput) {
			t.Errorf("%v: %v", c.want, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not name %q", err, w)
			}
		}
	}
	if _, err := clv.CalibrationHoldout(nil, []clv.Customer{good}, 3); !errors.Is(err, clv.ErrInvalidInput) {
		t.Errorf("nil model: %v", err)
	}
}

// Matrices: values equal the model; heatmap documented labels; NaN cells.
func TestContractReviewOutMatrixChart(t *testing.T) {
	_, bg := zoCDNOW(t)
	m, err := clv.ProbabilityAliveMatrix(bg, 39, 20, 14)
	if err != nil {
		t.Fatal(err)
	}
	for f, row := range m.Values {
		for j, v := range row {
			r := m.Recencies[j]
			if f == 0 && r > 0 {
				if !math.IsNaN(v) {
					t.Errorf("cell (0, %g) = %v, want NaN", r, v)
				}
				continue
			}
			want, _ := bg.ProbabilityAlive(clv.Customer{Frequency: f, Recency: r, T: 39})
			if v != want {
				t.Errorf("cell (%d, %g) = %v, model %v", f, r, v, want)
			}
		}
	}
	if m.Recencies[0] != 0 || m.Recencies[13] != 39 || m.Recencies[1] != 3 {
		t.Errorf("recencies %v", m.Recencies)
	}
	var b bytes.Buffer
	if err := m.WriteSVG(&b, clv.PlotOptions{Model: "BG/NBD"}); err != nil {
		t.Fatal(err)
	}
	d := zoParseSVG(t, b.Bytes())
	if len(d.Bad) > 0 {
		t.Errorf("bad coordinates %v", d.Bad)
	}
	for _, s := range []string{"recency (age at the last purchase)", "frequency (repeat purchases)", "probability alive", "undefined", "0", "20", "39", "3"} {
		if !d.has(s) {
			t.Errorf("matrix chart lacks %q", s)
		}
	}
	if !d.hasPrefix("probability alive (BG/NBD), customers of age T = 39") {
		t.Errorf("title %q", d.Texts[0])
	}
}

func TestContractReviewOutMatrixChartHostile(t *testing.T) {
	_, bg := zoCDNOW(t)
	for _, c := range []struct {
		T         float64
		f, r      int
		wantError bool
	}{{39, 0, 2, false}, {1e-300, 3, 2, false}, {1e300, 3, 5, false}, {math.MaxFloat64, 2, 3, false}, {5, 10000, 100, false}} {
		m, err := clv.ExpectedPurchasesMatrix(bg, 1, c.T, c.f, c.r)
		if err != nil {
			t.Logf("T=%g f=%d r=%d: %v", c.T, c.f, c.r, err)
			if !errors.Is(err, clv.ErrInvalidInput) && !errors.Is(err, clv.ErrNoConvergence) {
				t.Errorf("error does not wrap a sentinel: %v", err)
			}
			continue
		}
		var b bytes.Buffer
		if err := m.WriteSVG(&b, clv.PlotOptions{}); err != nil {
			if !errors.Is(err, clv.ErrInvalidInput) {
				t.Errorf("T=%g: %v", c.T, err)
			}
			t.Logf("T=%g f=%d r=%d WriteSVG: %v", c.T, c.f, c.r, err)
			continue
		}
		d := zoParseSVG(t, b.Bytes())
		if len(d.Bad) > 0 {
			t.Errorf("T=%g f=%d r=%d: bad coordinates %v", c.T, c.f, c.r, d.Bad[:min(4, len(d.Bad))])
		}
	}
	// hand-built and broken
	var b bytes.Buffer
	for name, m := range map[string]*clv.Matrix{
		"nil":     nil,
		"empty":   {},
		"ragged":  {Frequencies: []int{0, 1}, Recencies: []float64{0, 1}, Values: [][]float64{{1, 2}, {1}}},
		"no cols": {Frequencies: []int{0}, Recencies: nil, Values: [][]float64{{}}},
		"all NaN": {Frequencies: []int{0}, Recencies: []float64{0}, Values: [][]float64{{math.NaN()}}},
	} {
		if err := m.WriteSVG(&b, clv.PlotOptions{}); !errors.Is(err, clv.ErrInvalidInput) {
			t.Errorf("%s matrix: %v", name, err)
		}
	}
	for name, vals := range map[string][][]float64{
		"equal": {{2, 2}, {2, 2}},
		"huge":  {{-math.MaxFloat64, math.MaxFloat64}, {0, 1}},
		"inf":   {{math.Inf(1), 1}, {math.Inf(-1), 0}},
	} {
		m := &clv.Matrix{Quantity: `q<&"`, T: 1, Frequencies: []int{0, 1}, Recencies: []float64{0, 1}, Values: vals}
		b.Reset()
		if err := m.WriteSVG(&b, clv.PlotOptions{}); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		d := zoParseSVG(t, b.Bytes())
		if len(d.Bad) > 0 {
			t.Errorf("%s: bad coordinates %v", name, d.Bad)
		}
		if !d.has(`q<&"`) {
			t.Errorf("%s: escaped quantity lost", name)
		}
	}
}

func TestContractReviewOutSurvivalChart(t *testing.T) {
	survivors := []float64{1000, 631, 468, 382, 326, 289, 262, 241}
	m, _, err := clv.FitSBG(survivors, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		periods int
		surv    []float64
	}{{12, survivors}, {1, nil}, {1, survivors}, {10000, nil}} {
		var b bytes.Buffer
		if err := m.WriteSurvivalSVG(&b, c.periods, c.surv, clv.PlotOptions{Model: "sBG"}); err != nil {
			t.Fatal(err)
		}
		d := zoParseSVG(t, b.Bytes())
		if len(d.Bad) > 0 {
			t.Errorf("periods %d: bad coordinates %v", c.periods, d.Bad[:min(4, len(d.Bad))])
		}
		want := []string{"Survival: share of the cohort still active", "renewal opportunities (periods)", "share surviving S(t)", "sBG"}
		if c.surv != nil {
			want = append(want, "observed")
		} else if d.has("observed") {
			t.Error("observed legend without survivors")
		}
		for _, s := range want {
			if !d.has(s) {
				t.Errorf("periods %d: survival chart lacks %q", c.periods, s)
			}
		}
	}
	// Degenerate models.
	for _, sm := range []clv.SBG{{Alpha: 1e-300, Beta: 1e300}, {Alpha: 1e300, Beta: 1e-300}, {Alpha: 1, Beta: 1}} {
		var b bytes.Buffer
		if err := sm.WriteSurvivalSVG(&b, 50, []float64{5, 5, 5}, clv.PlotOptions{}); err != nil {
			t.Errorf("%+v: %v", sm, err)
			continue
		}
		if d := zoParseSVG(t, b.Bytes()); len(d.Bad) > 0 {
			t.Errorf("%+v: bad coordinates %v", sm, d.Bad[:min(4, len(d.Bad))])
		}
	}
	var b bytes.Buffer
	for _, c := range []struct {
		m       clv.SBG
		periods int
		surv    []float64
		want    []string
	}{
		{m, 0, nil, []string{"periods", "0"}},
		{m, 10001, nil, []string{"periods", "10001"}},
		{m, 5, []float64{10, math.NaN()}, []string{"survivors[1]", "NaN"}},
		{m, 5, []float64{10, 11}, []string{"survivors[1]", "11"}},
		{m, 5, []float64{0, 0}, []string{"survivors[0]", "0"}},
		{m, 5, []float64{10, -1}, []string{"survivors[1]", "-1"}},
		{clv.SBG{Alpha: math.NaN(), Beta: 1}, 5, nil, []string{"NaN"}},
		{clv.SBG{Alpha: -1, Beta: 1}, 5, nil, []string{"-1"}},
	} {
		err := c.m.WriteSurvivalSVG(&b, c.periods, c.surv, clv.PlotOptions{})
		if !errors.Is(err, clv.ErrInvalidInput) {
			t.Errorf("%v: %v", c.want, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not name %q", err, w)
			}
		}
	}
}

// summary.go: CSV columns, values equal the fit, round trip; text header.
func TestContractReviewOutSummaryTables(t *testing.T) {
	cs, _ := zoCDNOW(t)
	_, info, err := clv.FitBGNBD(cs, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := info.Summary()
	var b bytes.Buffer
	if err := s.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b.Bytes())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != "model,parameter,estimate,std_err,low,high,log_low,log_high,log_likelihood,aic,bic,n" {
		t.Errorf("header %v", recs[0])
	}
	if len(recs) != 1+len(info.Estimates) {
		t.Fatalf("%d rows", len(recs))
	}
	for i, e := range info.Estimates {
		r := recs[i+1]
		want := []float64{e.Value, e.StdErr, e.Low, e.High, e.LogLow, e.LogHigh, info.LogLikelihood, info.AIC(), info.BIC()}
		if r[0] != info.Model || r[1] != e.Name || r[11] != strconv.Itoa(info.Customers) {
			t.Errorf("row %v", r)
		}
		for k, w := range want {
			v, err := strconv.ParseFloat(r[k+2], 64)
			if err != nil || v != w {
				t.Errorf("%s %s = %q, API %v", e.Name, recs[0][k+2], r[k+2], w)
			}
		}
	}
	txt := s.String()
	lines := strings.Split(strings.TrimRight(txt, "\n"), "\n")
	if lines[0] != info.Model+" fit, n = "+strconv.Itoa(info.Customers) {
		t.Errorf("first line %q", lines[0])
	}
	if !strings.HasPrefix(lines[len(lines)-1], "log-likelihood ") || !strings.Contains(lines[len(lines)-1], "AIC") || !strings.Contains(lines[len(lines)-1], "BIC") {
		t.Errorf("last line %q", lines[len(lines)-1])
	}
	var w bytes.Buffer
	if _, err := s.WriteTo(&w); err != nil || w.String() != txt {
		t.Errorf("WriteTo differs from String")
	}
	// Aligned: every table line has the same length (in runes) when all
	// values are ASCII, also with a non-ASCII parameter name.
	hand := clv.Summary{Model: "x", N: 0, BIC: math.NaN(), Estimates: []clv.Estimate{{Name: "α", Value: 1}, {Name: "beta", Value: 2}}}
	tl := strings.Split(strings.TrimRight(hand.String(), "\n"), "\n")
	tab := tl[1 : len(tl)-1]
	for _, l := range tab[1:] {
		if len([]rune(l)) != len([]rune(tab[0])) {
			t.Errorf("String() not aligned with a non-ASCII parameter name:\n%s", strings.Join(tab, "\n"))
			break
		}
	}
	if !strings.Contains(tl[len(tl)-1], "BIC NaN") {
		t.Errorf("BIC NaN not written: %q", tl[len(tl)-1])
	}
	b.Reset()
	_ = hand.WriteCSV(&b)
	if !strings.Contains(b.String(), ",NaN,0\n") {
		t.Errorf("CSV BIC NaN / n 0: %s", b.String())
	}
}
