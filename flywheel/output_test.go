package flywheel_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/flywheel"
)

func TestWriteCSV(t *testing.T) {
	p := flywheel.LiteratureExample()
	p.Rotations = 6
	ev, err := flywheel.Expected(p)
	require.NoError(t, err)
	mc, err := flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(50), flywheel.Quantiles(0.025, 0.5, 0.975))
	require.NoError(t, err)
	tests := []struct {
		name    string
		res     *flywheel.Result
		columns int
		header  []string
	}{
		{"expected", ev, 1 + flywheel.NumMetrics, []string{"rotation", "paid_prospects", "referred_prospects", "engaged"}},
		{"monte carlo", mc, 1 + 5*flywheel.NumMetrics, []string{"rotation", "paid_prospects", "paid_prospects_se", "paid_prospects_p2.5", "paid_prospects_p50", "paid_prospects_p97.5", "referred_prospects"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, tc.res.WriteCSV(&buf))
			rows, err := csv.NewReader(&buf).ReadAll()
			require.NoError(t, err)
			require.Len(t, rows, 1+p.Rotations)
			require.Len(t, rows[0], tc.columns)
			require.Equal(t, tc.header, rows[0][:len(tc.header)])
			col := map[string]int{}
			for i, h := range rows[0] {
				col[h] = i
			}
			for i, row := range rows[1:] {
				require.Equal(t, strconv.Itoa(i+1), row[0])
				for _, m := range flywheel.AllMetrics() {
					v, err := strconv.ParseFloat(row[col[m.String()]], 64)
					require.NoError(t, err)
					want := tc.res.Rotations[i].Mean(m)
					if !(v == want || math.IsNaN(v) && math.IsNaN(want)) {
						t.Errorf("row %d %s = %v, want %v", i+1, m, v, want)
					}
				}
			}
		})
	}
}

func TestWriteSVG(t *testing.T) {
	p := flywheel.LiteratureExample()
	ev, err := flywheel.Expected(p)
	require.NoError(t, err)
	mc, err := flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(100))
	require.NoError(t, err)
	tests := []struct {
		name     string
		res      *flywheel.Result
		metrics  []flywheel.Metric
		polygons int
		legend   []string
		yLabel   string
	}{
		{"monte carlo default", mc, nil, 4, []string{"paid_prospects", "referred_prospects", "new_customers", "advocates"}, "count"},
		{"expected two series", ev, []flywheel.Metric{flywheel.Customers, flywheel.AcquisitionCost}, 0, []string{"customers", "cac"}, "value"},
		{"counts per rotation", ev, []flywheel.Metric{flywheel.NewCustomers, flywheel.Retained}, 0, []string{"new_customers", "retained"}, "count per rotation"},
		{"money", ev, []flywheel.Metric{flywheel.Spend, flywheel.AcquisitionCost}, 0, []string{"spend", "cac"}, "money"},
		{"cac", ev, []flywheel.Metric{flywheel.AcquisitionCost}, 0, []string{"cac"}, "money per new customer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, tc.res.WriteSVG(&buf, tc.metrics...))
			counts := map[string]int{}
			var texts []string
			dec := xml.NewDecoder(&buf)
			for {
				tok, err := dec.Token()
				if errors.Is(err, io.EOF) {
					break
				}
				require.NoError(t, err, "SVG must be well-formed XML")
				switch tok := tok.(type) {
				case xml.StartElement:
					counts[tok.Name.Local]++
				case xml.CharData:
					if s := strings.TrimSpace(string(tok)); s != "" {
						texts = append(texts, s)
					}
				}
			}
			require.Equal(t, 1, counts["svg"])
			require.Equal(t, tc.polygons, counts["polygon"], "bands")
			require.Equal(t, max(len(tc.metrics), len(tc.legend)), counts["polyline"], "lines")
			for _, want := range append(tc.legend, "rotation", tc.yLabel) {
				require.Contains(t, texts, want)
			}
		})
	}
	var buf bytes.Buffer
	require.ErrorIs(t, ev.WriteSVG(&buf, flywheel.Metric(99)), flywheel.ErrInvalidParams)
}

func TestSweep(t *testing.T) {
	ctx := context.Background()
	base := flywheel.LiteratureExample()
	base.Rotations = 40
	refs := []float64{0.5, 1, 2}
	tab, err := flywheel.Sweep(ctx, base, []flywheel.Outcome{flywheel.CrossoverRotation()}, []flywheel.Axis{{Param: flywheel.ParamReferrals, Values: refs}})
	require.NoError(t, err)
	require.Len(t, tab.Grids[0].Values, 1)
	for i, r := range refs {
		p := base
		p.Referrals = r
		res, err := flywheel.Expected(p)
		require.NoError(t, err)
		want := math.NaN()
		for _, rot := range res.Rotations {
			if rot.Mean(flywheel.ReferredProspects) > rot.Mean(flywheel.PaidProspects) {
				want = float64(rot.N)
				break
			}
		}
		require.Equal(t, want, tab.Grids[0].Values[0][i], "referrals %v", r)
	}
	// More referrals turn the flywheel sooner.
	require.Greater(t, tab.Grids[0].Values[0][0], tab.Grids[0].Values[0][1])
	require.Greater(t, tab.Grids[0].Values[0][1], tab.Grids[0].Values[0][2])

	two, err := flywheel.Sweep(ctx, base, []flywheel.Outcome{flywheel.CustomersAfter(12)}, []flywheel.Axis{
		{Param: flywheel.ParamReferrals, Values: refs},
		{Param: flywheel.ParamAdvocateChurn, Values: []float64{0, 0.5}},
	}, flywheel.SweepMode(flywheel.ModeMonteCarlo), flywheel.Runs(200), flywheel.Seed(1))
	require.NoError(t, err)
	require.Len(t, two.Grids[0].Values, 2)
	for j := range two.Grids[0].Values {
		require.Len(t, two.Grids[0].Values[j], 3)
	}
	require.Greater(t, two.Grids[0].Values[0][2], two.Grids[0].Values[1][2], "churn lowers customers")
	var buf bytes.Buffer
	require.NoError(t, two.WriteCSV(&buf))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Equal(t, "referrals,churn,customers_after_12,customers_after_12_se,customers_after_12_n", lines[0])
	require.Len(t, lines, 7)

	for name, axes := range map[string][]flywheel.Axis{
		"no axes":       nil,
		"unknown param": {{Param: "nope", Values: []float64{1}}},
		"empty axis":    {{Param: flywheel.ParamReferrals}},
		"invalid value": {{Param: flywheel.ParamAdvocateChurn, Values: []float64{0.5, 1.5}}},
	} {
		_, err := flywheel.Sweep(ctx, base, []flywheel.Outcome{flywheel.CrossoverRotation()}, axes)
		require.ErrorIs(t, err, flywheel.ErrInvalidParams, name)
	}
}

// WriteSVG draws a Monte Carlo result with fewer than two quantile levels
// (no bands) and tiny values without panicking or hanging.
func TestWriteSVGEdgeCases(t *testing.T) {
	p := flywheel.LiteratureExample()
	p.Rotations = 3
	for _, qs := range [][]float64{nil, {0.5}} {
		mc, err := flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(20), flywheel.Quantiles(qs...))
		require.NoError(t, err)
		var buf bytes.Buffer
		require.NoError(t, mc.WriteSVG(&buf), "quantiles %v", qs)
		require.NotContains(t, buf.String(), "<polygon", "no bands with quantiles %v", qs)
		require.NotContains(t, buf.String(), "band", "no band in the title with quantiles %v", qs)
	}
	for _, paid := range []float64{5e-324, 1e-310, 1e-300, 1e12} {
		p.PaidProspects = paid
		ev, err := flywheel.Expected(p)
		require.NoError(t, err)
		done := make(chan error, 1)
		go func() { done <- ev.WriteSVG(io.Discard, flywheel.PaidProspects) }()
		select {
		case err := <-done:
			require.NoError(t, err, "paid %g", paid)
		case <-time.After(10 * time.Second):
			t.Fatalf("WriteSVG hangs on paid prospects %g", paid)
		}
	}
}

// Every invalid grid point stops the sweep with an error naming the point,
// a fractional integer parameter (refused by Params.Set) included.
func TestSweepErrorNamesPoint(t *testing.T) {
	ctx := context.Background()
	base := flywheel.LiteratureExample()
	tests := []struct {
		name string
		axes []flywheel.Axis
		want string
	}{
		{"fractional rotations", []flywheel.Axis{{Param: flywheel.ParamRotations, Values: []float64{3, 2.5}}}, "sweep point rotations=2.5"},
		{"fractional lag, second axis", []flywheel.Axis{{Param: flywheel.ParamReferrals, Values: []float64{1}}, {Param: flywheel.ParamLag, Values: []float64{1.5}}}, "sweep point referrals=1, lag=1.5"},
		{"churn out of range", []flywheel.Axis{{Param: flywheel.ParamAdvocateChurn, Values: []float64{3}}}, "sweep point churn=3"},
	}
	for _, tc := range tests {
		_, err := flywheel.Sweep(ctx, base, []flywheel.Outcome{flywheel.CrossoverRotation()}, tc.axes)
		require.ErrorIs(t, err, flywheel.ErrInvalidParams, tc.name)
		require.Contains(t, err.Error(), tc.want, tc.name)
	}
}

// TestResultOutputsHostile: a nil Result's WriteCSV and WriteSVG are
// errors, not panics, and a Mode with bytes XML cannot hold still gives a
// well-formed SVG (its title was escaped as HTML, which lets them through).
func TestResultOutputsHostile(t *testing.T) {
	var nilResult *flywheel.Result
	if err := nilResult.WriteCSV(io.Discard); !errors.Is(err, flywheel.ErrInvalidParams) {
		t.Errorf("nil WriteCSV = %v", err)
	}
	if err := nilResult.WriteSVG(io.Discard); !errors.Is(err, flywheel.ErrInvalidParams) {
		t.Errorf("nil WriteSVG = %v", err)
	}
	r, err := flywheel.Expected(flywheel.LiteratureExample())
	if err != nil {
		t.Fatal(err)
	}
	r.Mode = "a\x00b\xff\uFFFE<c>"
	var buf bytes.Buffer
	if err := r.WriteSVG(&buf); err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(&buf)
	for {
		if _, err := d.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("the SVG is not well-formed XML: %v", err)
		}
	}
}
