package clv

import (
	"bytes"
	"io"
	"math"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/internal/svgplot/svgcheck"
)

// cdnowHoldout summarises the CDNOW sample with the usual 39-week
// calibration period and the holdout to the end of June 1998.
func cdnowHoldout(tb testing.TB) []Customer {
	tb.Helper()
	f, err := os.Open(testdata("CDNOW_sample.txt"))
	require.NoError(tb, err)
	defer f.Close()
	txs, err := ReadCDNOW(f)
	require.NoError(tb, err)
	cs, err := Summarize(txs, SummaryOptions{Period: Day, Unit: Week,
		CalibrationEnd: time.Date(1997, 9, 30, 0, 0, 0, 0, time.UTC), ObservationEnd: time.Date(1998, 6, 30, 0, 0, 0, 0, time.UTC)})
	require.NoError(tb, err)
	return cs
}

func TestCalibrationHoldout(t *testing.T) {
	cs := cdnowHoldout(t)
	bins, err := CalibrationHoldout(cdnowBGNBD, cs, 7)
	require.NoError(t, err)
	require.Len(t, bins, 8)
	// Recompute every bin directly.
	var total int
	for _, b := range bins {
		var pred, act float64
		var n int
		for _, c := range cs {
			if c.Frequency == b.Frequency || (b.Frequency == 7 && c.Frequency > 7) {
				p, err := cdnowBGNBD.ConditionalExpectedPurchases(c.HoldoutDuration, c)
				require.NoError(t, err)
				pred += p
				act += float64(c.HoldoutFrequency)
				n++
			}
		}
		require.Equal(t, n, b.Customers, "bin %s", b.Label)
		require.InDelta(t, pred/float64(n), b.Predicted, 1e-12, "bin %s", b.Label)
		require.InDelta(t, act/float64(n), b.Actual, 1e-12, "bin %s", b.Label)
		total += n
	}
	require.Equal(t, len(cs), total, "the bins partition the customers")
	require.Equal(t, "0", bins[0].Label)
	require.Equal(t, "7+", bins[7].Label)
	// The model tracks the data: within 0.5 purchases in every bin (Fader,
	// Hardie & Lee 2005, figure 3, shows the same closeness).
	for _, b := range bins {
		require.InDelta(t, b.Actual, b.Predicted, 0.5, "bin %s", b.Label)
	}

	var buf bytes.Buffer
	require.NoError(t, WriteCalibrationHoldoutSVG(&buf, bins, PlotOptions{Model: "BG/NBD <r & α>", Title: `CDNOW "sample"`}))
	doc, err := svgcheck.Parse(buf.Bytes())
	require.NoError(t, err)
	require.Equal(t, `CDNOW "sample"`, doc.Title)
	require.Equal(t, []string{"actual", "BG/NBD <r & α>"}, doc.Legend)
	require.Equal(t, []string{"0", "1", "2", "3", "4", "5", "6", "7+"}, doc.XTicks)
	require.Equal(t, "0", doc.YTicks[0])
	require.Equal(t, 2, doc.Classes["series"])
	require.Equal(t, 2, doc.Classes["axis"])
	require.Equal(t, 16, doc.Elements["circle"], "a marker per bin and series")
	require.Equal(t, "repeat purchases in calibration", doc.XLabel)
	require.Equal(t, "mean purchases in holdout", doc.YLabel)
}

func TestCalibrationHoldoutErrors(t *testing.T) {
	good := []Customer{{Frequency: 1, Recency: 2, T: 5, HoldoutFrequency: 1, HoldoutDuration: 3}}
	bad := func(f func(c *Customer)) []Customer {
		c := good[0]
		f(&c)
		return []Customer{c}
	}
	for name, err := range map[string]error{
		"nil model":     second(CalibrationHoldout(nil, good, 3)),
		"no customers":  second(CalibrationHoldout(cdnowBGNBD, nil, 3)),
		"max 0":         second(CalibrationHoldout(cdnowBGNBD, good, 0)),
		"max huge":      second(CalibrationHoldout(cdnowBGNBD, good, MaxPlotFrequency+1)),
		"bad row":       second(CalibrationHoldout(cdnowBGNBD, bad(func(c *Customer) { c.Recency = math.NaN() }), 3)),
		"holdout freq":  second(CalibrationHoldout(cdnowBGNBD, bad(func(c *Customer) { c.HoldoutFrequency = -1 }), 3)),
		"holdout NaN":   second(CalibrationHoldout(cdnowBGNBD, bad(func(c *Customer) { c.HoldoutDuration = math.NaN() }), 3)),
		"bad model":     second(CalibrationHoldout(BGNBD{R: -1, Alpha: 1, A: 1, B: 1}, good, 3)),
		"no bins":       WriteCalibrationHoldoutSVG(&bytes.Buffer{}, nil, PlotOptions{}),
		"NaN bins":      WriteCalibrationHoldoutSVG(&bytes.Buffer{}, []HoldoutBin{{Label: "0", Predicted: math.NaN(), Actual: math.NaN()}}, PlotOptions{}),
		"negative size": WriteCalibrationHoldoutSVG(&bytes.Buffer{}, []HoldoutBin{{Label: "0"}}, PlotOptions{Width: -1}),
	} {
		require.ErrorIs(t, err, ErrInvalidInput, name)
	}
}

func second[T any](_ T, err error) error { return err }

func TestMatrices(t *testing.T) {
	const T, maxF, recs = 39.0, 20, 14
	em, err := ExpectedPurchasesMatrix(cdnowBGNBD, 1, T, maxF, recs)
	require.NoError(t, err)
	am, err := ProbabilityAliveMatrix(cdnowBGNBD, T, maxF, recs)
	require.NoError(t, err)
	for _, m := range []*Matrix{em, am} {
		require.Len(t, m.Values, maxF+1)
		require.Equal(t, 0.0, m.Recencies[0])
		require.Equal(t, T, m.Recencies[recs-1])
		for x, row := range m.Values {
			require.Len(t, row, recs)
			require.Equal(t, x, m.Frequencies[x])
			for j, v := range row {
				if x == 0 && j > 0 {
					require.True(t, math.IsNaN(v), "frequency 0, recency %g", m.Recencies[j])
					continue
				}
				c := Customer{Frequency: x, Recency: m.Recencies[j], T: T}
				var want float64
				if m == em {
					want, err = cdnowBGNBD.ConditionalExpectedPurchases(1, c)
				} else {
					want, err = cdnowBGNBD.ProbabilityAlive(c)
				}
				require.NoError(t, err)
				require.Equal(t, want, v)
				// A more recent last purchase means more alive, more to come.
				if x > 0 && j > 0 {
					require.GreaterOrEqual(t, v, row[j-1], "%s, frequency %d", m.Quantity, x)
				}
			}
		}
	}
	require.Equal(t, "probability alive", am.Quantity)
	require.Equal(t, 1.0, am.Values[0][0], "BG/NBD: a customer without repeat purchases is alive")
	// Pareto/NBD satisfies both interfaces too.
	_, err = ProbabilityAliveMatrix(ParetoNBD{R: 0.55, Alpha: 10.58, S: 0.61, Beta: 11.67}, T, 3, 4)
	require.NoError(t, err)

	var buf bytes.Buffer
	require.NoError(t, am.WriteSVG(&buf, PlotOptions{Model: "BG/NBD"}))
	doc, err := svgcheck.Parse(buf.Bytes())
	require.NoError(t, err)
	require.Equal(t, (maxF+1)*recs, doc.Classes["cell"])
	require.Equal(t, []string{"probability alive", "undefined"}, doc.Legend)
	require.Equal(t, "0", doc.XTicks[0])
	require.Equal(t, "39", doc.XTicks[len(doc.XTicks)-1])
	require.Equal(t, "0", doc.YTicks[0])
	require.Equal(t, "20", doc.YTicks[len(doc.YTicks)-1])
	require.Contains(t, doc.Title, "BG/NBD")
	require.Equal(t, 2, doc.Classes["axis"])
	buf.Reset()
	require.NoError(t, em.WriteSVG(&buf, PlotOptions{}))
	doc, err = svgcheck.Parse(buf.Bytes())
	require.NoError(t, err)
	require.Equal(t, "expected purchases in the next 1 time units", doc.Legend[0])
}

func TestMatrixErrors(t *testing.T) {
	for name, err := range map[string]error{
		"nil purchase model": second(ExpectedPurchasesMatrix(nil, 1, 10, 3, 4)),
		"nil alive model":    second(ProbabilityAliveMatrix(nil, 10, 3, 4)),
		"t NaN":              second(ExpectedPurchasesMatrix(cdnowBGNBD, math.NaN(), 10, 3, 4)),
		"t negative":         second(ExpectedPurchasesMatrix(cdnowBGNBD, -1, 10, 3, 4)),
		"T zero":             second(ProbabilityAliveMatrix(cdnowBGNBD, 0, 3, 4)),
		"T Inf":              second(ProbabilityAliveMatrix(cdnowBGNBD, math.Inf(1), 3, 4)),
		"maxF negative":      second(ProbabilityAliveMatrix(cdnowBGNBD, 10, -1, 4)),
		"one recency":        second(ProbabilityAliveMatrix(cdnowBGNBD, 10, 3, 1)),
		"too many cells":     second(ProbabilityAliveMatrix(cdnowBGNBD, 10, 5000, 5000)),
		"bad model":          second(ProbabilityAliveMatrix(BGNBD{}, 10, 3, 4)),
		"nil matrix":         (*Matrix)(nil).WriteSVG(&bytes.Buffer{}, PlotOptions{}),
		"ragged":             (&Matrix{Frequencies: []int{0}, Recencies: []float64{0, 1}, Values: [][]float64{{1}}}).WriteSVG(&bytes.Buffer{}, PlotOptions{}),
		"rows":               (&Matrix{Frequencies: []int{0, 1}, Values: [][]float64{{1}}}).WriteSVG(&bytes.Buffer{}, PlotOptions{}),
	} {
		require.ErrorIs(t, err, ErrInvalidInput, name)
	}
}

func TestSurvivalSVG(t *testing.T) {
	regular := sbgCohorts(t)["regular"]
	m, _, err := FitSBG(regular, nil)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, m.WriteSurvivalSVG(&buf, 12, regular, PlotOptions{Model: "sBG"}))
	doc, err := svgcheck.Parse(buf.Bytes())
	require.NoError(t, err)
	require.Equal(t, []string{"sBG", "observed"}, doc.Legend)
	require.Equal(t, 2, doc.Classes["series"])
	require.Equal(t, len(regular)+1, doc.Elements["circle"], "a point per observed count, and one in the legend")
	require.Equal(t, 1, doc.Elements["polyline"], "the observations are points, the model a line")
	require.Equal(t, "0", doc.YTicks[0])
	require.Equal(t, "1", doc.YTicks[len(doc.YTicks)-1])
	require.Equal(t, "0", doc.XTicks[0])
	require.Equal(t, []string{"0", "5", "10", "15"}, doc.XTicks, "round ticks covering 0..12")
	require.Equal(t, "share surviving S(t)", doc.YLabel)

	buf.Reset()
	require.NoError(t, m.WriteSurvivalSVG(&buf, 5, nil, PlotOptions{}))
	doc, err = svgcheck.Parse(buf.Bytes())
	require.NoError(t, err)
	require.Equal(t, []string{"model"}, doc.Legend)

	for name, err := range map[string]error{
		"periods 0":     m.WriteSurvivalSVG(&buf, 0, nil, PlotOptions{}),
		"periods huge":  m.WriteSurvivalSVG(&buf, MaxSurvivalPeriods+1, nil, PlotOptions{}),
		"bad model":     SBG{Alpha: math.NaN(), Beta: 1}.WriteSurvivalSVG(&buf, 3, nil, PlotOptions{}),
		"bad survivors": m.WriteSurvivalSVG(&buf, 3, []float64{10, 12}, PlotOptions{}),
		"short":         m.WriteSurvivalSVG(&buf, 3, []float64{10}, PlotOptions{}),
		"size":          m.WriteSurvivalSVG(&buf, 3, nil, PlotOptions{Height: 1 << 40}),
	} {
		require.ErrorIs(t, err, ErrInvalidInput, name)
	}
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

// TestPlotWriterError: a failure of the writer comes back as it is, not
// as invalid input; bad data still wraps ErrInvalidInput.
func TestPlotWriterError(t *testing.T) {
	m := SBG{Alpha: 0.7, Beta: 1.2}
	err := m.WriteSurvivalSVG(failingWriter{}, 7, nil, PlotOptions{})
	require.ErrorIs(t, err, io.ErrClosedPipe)
	require.NotErrorIs(t, err, ErrInvalidInput)
	err = WriteCalibrationHoldoutSVG(failingWriter{}, []HoldoutBin{{Label: "0", Actual: 1, Predicted: 1}}, PlotOptions{})
	require.ErrorIs(t, err, io.ErrClosedPipe)
	require.NotErrorIs(t, err, ErrInvalidInput)
	require.ErrorIs(t, WriteCalibrationHoldoutSVG(failingWriter{}, nil, PlotOptions{}), ErrInvalidInput)
}

// A probability-alive matrix whose values differ by an ulp (a BG/NBD
// that almost never drops out) is drawn: the ticks of its colour scale
// never ended.
func TestAliveMatrixNearOne(t *testing.T) {
	mat, err := ProbabilityAliveMatrix(BGNBD{R: 0.25, Alpha: 4, A: 1e-20, B: 2.5}, 30, 5, 5)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, mat.WriteSVG(&buf, PlotOptions{}))
	_, err = svgcheck.Parse(buf.Bytes())
	require.NoError(t, err)
}
