package clv

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/clmkit/clm/internal/nilness"
	"github.com/clmkit/clm/internal/svgplot"
)

// PlotOptions label the SVG plots of this package. Zero fields take
// defaults.
type PlotOptions struct {
	// Title replaces the plot's default title.
	Title string
	// Model names the model in the legend (default "model").
	Model string
	// Width and Height are the size in pixels (default 800×480; each at
	// most 20,000, the width at least 200 and the height at least 150).
	Width, Height int
}

func (o PlotOptions) title(def string) string {
	if o.Title != "" {
		return o.Title
	}
	return def
}

func (o PlotOptions) model() string {
	if o.Model != "" {
		return o.Model
	}
	return "model"
}

// plotErr turns an error about the chart's data into one wrapping
// ErrInvalidInput; a failure of the writer comes back as it is.
func plotErr(err error) error {
	if err == nil || !errors.Is(err, svgplot.ErrInvalid) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrInvalidInput, err)
}

// HoldoutBin is one group of customers of a calibration/holdout check:
// the customers with the same number of repeat purchases in calibration
// (the last bin pools every frequency from its own up).
type HoldoutBin struct {
	// Label is the frequency ("3"), with a "+" for the pooled last bin.
	Label string
	// Frequency is the bin's calibration frequency (the lowest, for the
	// pooled bin).
	Frequency int
	// Customers is the number of customers in the bin.
	Customers int
	// Predicted is the mean expected number of holdout purchases, from the
	// model given each customer's calibration history; Actual is the mean
	// observed number (Customer.HoldoutFrequency).
	Predicted, Actual float64
}

// MaxPlotFrequency bounds the frequencies of [CalibrationHoldout] and the
// matrices: 10,000.
const MaxPlotFrequency = 10_000

// CalibrationHoldout groups customers by their calibration frequency
// 0, 1, …, maxFrequency−1 and maxFrequency or more (pooled), and returns,
// per non-empty group, the mean holdout purchases the model predicts
// (pm.ConditionalExpectedPurchases over each customer's HoldoutDuration)
// and the mean observed — the calibration/holdout check of Fader, Hardie
// & Lee (2005, figure 3) and of lifetimes'
// plot_calibration_purchases_vs_holdout_purchases. Rows come from
// [Summarize] with a CalibrationEnd. Draw the bins with
// [WriteCalibrationHoldoutSVG].
//
// Errors wrap [ErrInvalidInput] for a nil model, no customers, a
// maxFrequency outside 1..MaxPlotFrequency, an invalid row, or a negative
// HoldoutFrequency or HoldoutDuration; the model's own errors are passed
// on.
func CalibrationHoldout(pm PurchaseModel, customers []Customer, maxFrequency int) ([]HoldoutBin, error) {
	if nilness.Is(pm) {
		return nil, invalidf("CalibrationHoldout: nil model")
	}
	if len(customers) == 0 {
		return nil, invalidf("CalibrationHoldout: no customers")
	}
	if maxFrequency < 1 || maxFrequency > MaxPlotFrequency {
		return nil, invalidf("maxFrequency = %d, must be from 1 to %d", maxFrequency, MaxPlotFrequency)
	}
	sumPred := make([]float64, maxFrequency+1)
	sumAct := make([]float64, maxFrequency+1)
	count := make([]int, maxFrequency+1)
	for i, c := range customers {
		if err := checkCustomer(c); err != nil {
			return nil, fmt.Errorf("customers[%d]: %w", i, err)
		}
		if c.HoldoutFrequency < 0 {
			return nil, invalidf("customers[%d]: HoldoutFrequency = %d, must be ≥ 0", i, c.HoldoutFrequency)
		}
		if err := checkNonNegative(fmt.Sprintf("customers[%d].HoldoutDuration", i), c.HoldoutDuration); err != nil {
			return nil, err
		}
		pred, err := pm.ConditionalExpectedPurchases(c.HoldoutDuration, c)
		if err != nil {
			return nil, fmt.Errorf("customers[%d]: %w", i, err)
		}
		k := min(c.Frequency, maxFrequency)
		sumPred[k] += pred
		sumAct[k] += float64(c.HoldoutFrequency)
		count[k]++
	}
	var bins []HoldoutBin
	for k, n := range count {
		if n == 0 {
			continue
		}
		label := strconv.Itoa(k)
		if k == maxFrequency {
			label += "+"
		}
		bins = append(bins, HoldoutBin{Label: label, Frequency: k, Customers: n,
			Predicted: sumPred[k] / float64(n), Actual: sumAct[k] / float64(n)})
	}
	return bins, nil
}

// WriteCalibrationHoldoutSVG draws bins from [CalibrationHoldout] as an SVG
// line chart: mean holdout purchases (y) by calibration frequency (x, one
// labelled tick per bin), the actual line solid and the model's dashed,
// with a legend ("actual", and opts.Model). Errors wrap [ErrInvalidInput]
// (no bins, or no finite value), or are w's.
func WriteCalibrationHoldoutSVG(w io.Writer, bins []HoldoutBin, opts PlotOptions) error {
	if w == nil {
		return invalidf("WriteCalibrationHoldoutSVG: w is a nil io.Writer")
	}
	if len(bins) == 0 {
		return invalidf("WriteCalibrationHoldoutSVG: no bins")
	}
	labels := make([]string, len(bins))
	act := make([]float64, len(bins))
	pred := make([]float64, len(bins))
	for i, b := range bins {
		labels[i], act[i], pred[i] = b.Label, b.Actual, b.Predicted
	}
	c := &svgplot.LineChart{
		Title:       opts.title("Calibration/holdout: mean purchases in the holdout period"),
		XLabel:      "repeat purchases in calibration",
		YLabel:      "mean purchases in holdout",
		XCategories: labels,
		YFromZero:   true,
		Series: []svgplot.Series{
			{Name: "actual", Y: act, Markers: true},
			{Name: opts.model(), Y: pred, Markers: true, Dashed: true},
		},
		Width: opts.Width, Height: opts.Height,
	}
	return plotErr(c.Write(w))
}

// Matrix holds a model's prediction for a grid of hypothetical customers
// of the same age T: one row per frequency 0..maxFrequency and one column
// per recency, evenly spaced from 0 to T — the frequency/recency matrices
// of Fader, Hardie & Lee (2005, figure 4) and of lifetimes'
// plot_frequency_recency_matrix and plot_probability_alive_matrix.
type Matrix struct {
	// Quantity names what Values hold.
	Quantity string
	// T is the customers' age, in the model's time unit.
	T float64
	// Frequencies label the rows and Recencies the columns.
	Frequencies []int
	Recencies   []float64
	// Values[f][j] is the prediction for Frequencies[f] and Recencies[j];
	// NaN for a frequency of 0 with a recency above 0, which no customer
	// has.
	Values [][]float64
}

// AliveModel gives the probability that a customer is still active;
// [BGNBD], [MBGNBD] and [ParetoNBD] implement it.
type AliveModel interface {
	ProbabilityAlive(c Customer) (float64, error)
}

// MaxMatrixCells bounds the cells of a [Matrix]: 10⁶.
const MaxMatrixCells = 1_000_000

// newMatrix checks the grid and fills it with f.
func newMatrix(quantity string, T float64, maxFrequency, recencies int, f func(c Customer) (float64, error)) (*Matrix, error) {
	if err := checkPositive("T", T); err != nil {
		return nil, err
	}
	if maxFrequency < 0 || maxFrequency > MaxPlotFrequency {
		return nil, invalidf("maxFrequency = %d, must be from 0 to %d", maxFrequency, MaxPlotFrequency)
	}
	if recencies < 2 || recencies > MaxPlotFrequency {
		return nil, invalidf("recencies = %d, must be from 2 to %d", recencies, MaxPlotFrequency)
	}
	if cells := (maxFrequency + 1) * recencies; cells > MaxMatrixCells {
		return nil, invalidf("the matrix has %d cells, more than %d", cells, MaxMatrixCells)
	}
	m := &Matrix{Quantity: quantity, T: T, Frequencies: make([]int, maxFrequency+1), Recencies: make([]float64, recencies),
		Values: make([][]float64, maxFrequency+1)}
	for j := range recencies {
		m.Recencies[j] = T * (float64(j) / float64(recencies-1)) // (T·j overflows for a T near the largest float)
	}
	m.Recencies[recencies-1] = T
	for x := range m.Frequencies {
		m.Frequencies[x] = x
		m.Values[x] = make([]float64, recencies)
		for j, r := range m.Recencies {
			if x == 0 && r > 0 {
				m.Values[x][j] = math.NaN()
				continue
			}
			v, err := f(Customer{Frequency: x, Recency: r, T: T})
			if err != nil {
				return nil, fmt.Errorf("frequency %d, recency %g: %w", x, r, err)
			}
			m.Values[x][j] = v
		}
	}
	return m, nil
}

// ExpectedPurchasesMatrix returns the expected purchases in the next t
// time units (pm.ConditionalExpectedPurchases) of customers of age T with
// frequencies 0..maxFrequency and `recencies` recencies from 0 to T. T
// must be finite and > 0, t finite and ≥ 0, maxFrequency from 0 to
// [MaxPlotFrequency], recencies from 2 to MaxPlotFrequency, and the grid
// at most [MaxMatrixCells]; otherwise the error wraps [ErrInvalidInput].
func ExpectedPurchasesMatrix(pm PurchaseModel, t, T float64, maxFrequency, recencies int) (*Matrix, error) {
	if nilness.Is(pm) {
		return nil, invalidf("ExpectedPurchasesMatrix: nil model")
	}
	if err := checkHorizon(t); err != nil {
		return nil, err
	}
	q := "expected purchases in the next " + strconv.FormatFloat(t, 'g', 6, 64) + " time units"
	return newMatrix(q, T, maxFrequency, recencies, func(c Customer) (float64, error) {
		return pm.ConditionalExpectedPurchases(t, c)
	})
}

// ProbabilityAliveMatrix returns the probability alive
// (am.ProbabilityAlive) of customers of age T with frequencies
// 0..maxFrequency and `recencies` recencies from 0 to T, with the limits
// of [ExpectedPurchasesMatrix].
func ProbabilityAliveMatrix(am AliveModel, T float64, maxFrequency, recencies int) (*Matrix, error) {
	if nilness.Is(am) {
		return nil, invalidf("ProbabilityAliveMatrix: nil model")
	}
	return newMatrix("probability alive", T, maxFrequency, recencies, am.ProbabilityAlive)
}

// WriteSVG draws the matrix as an SVG heatmap: recency across, frequency
// up, the value as the colour with a colour scale as the legend, and the
// impossible cells (frequency 0, recency above 0) grey, "undefined" in
// the legend. Errors wrap [ErrInvalidInput] (an empty or ragged matrix),
// or are w's.
func (m *Matrix) WriteSVG(w io.Writer, opts PlotOptions) error {
	if w == nil {
		return invalidf("Matrix.WriteSVG: w is a nil io.Writer")
	}
	if m == nil || len(m.Values) != len(m.Frequencies) {
		return invalidf("Matrix.WriteSVG: %d rows for %d frequencies", lenValues(m), lenFreq(m))
	}
	xt := make([]string, len(m.Recencies))
	for j, r := range m.Recencies {
		xt[j] = strconv.FormatFloat(r, 'g', 4, 64)
	}
	yt := make([]string, len(m.Frequencies))
	for i, f := range m.Frequencies {
		yt[i] = strconv.Itoa(f)
	}
	h := &svgplot.Heatmap{
		Title:      opts.title(fmt.Sprintf("%s (%s), customers of age T = %g", m.Quantity, opts.model(), m.T)),
		XLabel:     "recency (age at the last purchase)",
		YLabel:     "frequency (repeat purchases)",
		ValueLabel: m.Quantity,
		XTicks:     xt, YTicks: yt, Values: m.Values,
		Width: opts.Width, Height: opts.Height,
	}
	return plotErr(h.Write(w))
}

func lenValues(m *Matrix) int {
	if m == nil {
		return 0
	}
	return len(m.Values)
}

func lenFreq(m *Matrix) int {
	if m == nil {
		return 0
	}
	return len(m.Frequencies)
}

// MaxSurvivalPeriods bounds the periods of [SBG.WriteSurvivalSVG]: 10,000.
const MaxSurvivalPeriods = 10_000

// WriteSurvivalSVG draws the survival curve S(t), t = 0..periods, of the
// model ([SBG.Survival]) as an SVG line chart, and, when survivors is not
// empty, the observed share survivors[t]/survivors[0] of the cohort (the
// series [FitSBG] takes) as points, each with a legend entry
// (opts.Model and "observed") — Fader & Hardie (2007, figure 3). periods
// must be from 1 to [MaxSurvivalPeriods]; errors wrap [ErrInvalidInput],
// or are w's.
func (m SBG) WriteSurvivalSVG(w io.Writer, periods int, survivors []float64, opts PlotOptions) error {
	if w == nil {
		return invalidf("SBG.WriteSurvivalSVG: w is a nil io.Writer")
	}
	if periods < 1 || periods > MaxSurvivalPeriods {
		return invalidf("periods = %d, must be from 1 to %d", periods, MaxSurvivalPeriods)
	}
	s, err := m.Survival(periods)
	if err != nil {
		return err
	}
	xs := make([]float64, len(s))
	for t := range xs {
		xs[t] = float64(t)
	}
	c := &svgplot.LineChart{
		Title:     opts.title("Survival: share of the cohort still active"),
		XLabel:    "renewal opportunities (periods)",
		YLabel:    "share surviving S(t)",
		YFromZero: true,
		Series:    []svgplot.Series{{Name: opts.model(), X: xs, Y: s}},
		Width:     opts.Width, Height: opts.Height,
	}
	if len(survivors) > 0 {
		if err := checkSurvivors(survivors); err != nil {
			return err
		}
		ox := make([]float64, len(survivors))
		oy := make([]float64, len(survivors))
		for t, v := range survivors {
			ox[t], oy[t] = float64(t), v/survivors[0]
		}
		c.Series = append(c.Series, svgplot.Series{Name: "observed", X: ox, Y: oy, Points: true})
	}
	return plotErr(c.Write(w))
}
