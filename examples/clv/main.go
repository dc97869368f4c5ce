// Command clv fits customer-value models to the CDNOW transaction log and
// reports the most valuable customers.
//
// Usage (from the repository root):
//
//	go run ./examples/clv [-data FILE] [-out DIR] [flags]
//
// -data names the raw CDNOW transactions (the 1/10 sample or the master
// file). By default it is lifecycle/clv/testdata/CDNOW_sample.txt, a path
// relative to the repository root: run the command from there, or pass
// -data. The repository ships both files in lifecycle/clv/testdata (see
// the README there for their source and licence):
//
//	go run ./examples/clv -data lifecycle/clv/testdata/CDNOW_master.txt
//
// It reads the transactions (clv.ReadCDNOW), builds the RFM summary with a
// 39-week calibration period ending 1997-09-30 (same-day purchases
// collapsed, time in weeks) and a holdout to the end of the data, fits the
// BG/NBD and Gamma-Gamma models and prints one line per model:
//
//	bgnbd r=… alpha=… a=… b=…
//	gammagamma p=… q=… v=…
//
// The Gamma-Gamma model needs a positive mean spend for every repeat buyer,
// and the master file has a repeat buyer whose repeat purchases cost
// $0.00; such buyers are left out of the Gamma-Gamma fit (only), and a
// line after the model lines says how many.
//
// Then come the ten customers with the highest expected 12-month value
// (1% monthly discount) with their probability of being alive, and the
// total predicted versus actual repeat purchases in the holdout period.
// Scoring takes a second or less with the default horizon; with a long
// one (-months 1200 on the master file takes tens of seconds) its progress
// shows on standard error: a bar on a terminal, a line every two seconds
// otherwise.
//
// It also writes holdout.svg, a chart of the mean number of holdout
// purchases per customer, predicted and actual, by number of repeat
// purchases in calibration, drawn by the library (clv.CalibrationHoldout
// and clv.WriteCalibrationHoldoutSVG). The chart goes to the directory given by -out;
// by default that is the system temporary directory (os.TempDir), so a
// plain run does not write into the working tree. The path is printed.
//
// -h lists the flags. A bad flag or flag value exits with status 2, a
// failure with status 1.
package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clmkit/clm/examples/internal/cli"
	"github.com/clmkit/clm/lifecycle/clv"
)

func main() { cli.Main("clv", run) }

// defaultData is the CDNOW sample shipped with the repository, relative to
// the repository root.
const defaultData = "lifecycle/clv/testdata/CDNOW_sample.txt"

// run is the whole program, separated from main for testing.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("clv", "Fits BG/NBD and Gamma-Gamma to the CDNOW transactions and lists the customers\n"+
		"with the highest expected value. Run it from the repository root, or pass -data.", stderr)
	data := fs.String("data", defaultData, "CDNOW transaction file (master or 1/10 sample layout)")
	out := fs.String("out", os.TempDir(), "existing directory for the holdout.svg chart")
	calEnd := fs.String("calibration-end", "1997-09-30", "last day of the calibration period (YYYY-MM-DD), within the data, before its last day")
	months := fs.Int("months", 12, "horizon of the customer value, in months (1 to 1200)")
	discount := fs.Float64("discount", 0.01, "monthly discount rate (0 or more)")
	top := fs.Int("top", 10, "number of customers to list (0 or more)")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	switch {
	case *months < 1 || *months > 1200:
		return cli.Usagef("-months %d: must be from 1 to 1200 (100 years)", *months)
	case !(*discount >= 0) || math.IsInf(*discount, 0):
		return cli.Usagef("-discount %v: must be a finite number, 0 or more", *discount)
	case *top < 0:
		return cli.Usagef("-top %d: must not be negative", *top)
	}
	if err := cli.OutDir("-out", *out, false, "holdout.svg"); err != nil {
		return err
	}
	cutoff, err := time.Parse(time.DateOnly, *calEnd)
	if err != nil {
		return cli.Usagef("-calibration-end %s: want YYYY-MM-DD", *calEnd)
	}

	f, err := os.Open(*data)
	if err != nil {
		if *data == defaultData {
			return cli.Usagef("-data %s: %w (the default is relative to the repository root: run from there, or pass -data)", *data, err)
		}
		return cli.Usagef("-data %s: %w", *data, err)
	}
	txs, err := clv.ReadCDNOW(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("reading %s: %w", *data, err)
	}
	var first, last time.Time
	for i, tx := range txs {
		if i == 0 || tx.Time.Before(first) {
			first = tx.Time
		}
		if tx.Time.After(last) {
			last = tx.Time
		}
	}
	if len(txs) > 0 && (!cutoff.Before(last) || cutoff.Before(first)) {
		return cli.Usagef("-calibration-end %s: must be within the data, from %s to before %s (the holdout is what follows it)",
			*calEnd, first.Format(time.DateOnly), last.Format(time.DateOnly))
	}
	customers, err := clv.Summarize(txs, clv.SummaryOptions{Period: clv.Day, Unit: clv.Week, CalibrationEnd: cutoff})
	if err != nil {
		return err
	}

	bg, _, err := clv.FitBGNBD(customers, nil)
	if err != nil {
		return err
	}
	// Gamma-Gamma models a positive mean spend: repeat buyers whose repeat
	// purchases cost nothing are left out of its fit.
	spenders := slices.DeleteFunc(slices.Clone(customers), func(c clv.Customer) bool {
		return c.Frequency > 0 && c.MonetaryValue <= 0
	})
	gg, _, err := clv.FitGammaGamma(spenders, nil)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, bg)
	fmt.Fprintln(stdout, gg)
	if n := len(customers) - len(spenders); n > 0 {
		who := "repeat buyers"
		if n == 1 {
			who = "repeat buyer"
		}
		fmt.Fprintf(stdout, "gammagamma: left out %d %s with a mean repeat spend of 0\n", n, who)
	}

	type scored struct {
		c         clv.Customer
		alive     float64
		predicted float64 // expected purchases in the holdout period
		value     float64
	}
	rows := make([]scored, len(customers))
	bar := cli.StartProgress(stderr, "clv", "customers scored", int64(len(customers)), 2*time.Second)
	defer bar.Stop()
	for i, c := range customers {
		if err := ctx.Err(); err != nil {
			return err
		}
		s := scored{c: c}
		if s.alive, err = bg.ProbabilityAlive(c); err != nil {
			return err
		}
		if s.predicted, err = bg.ConditionalExpectedPurchases(c.HoldoutDuration, c); err != nil {
			return err
		}
		opts := clv.ValueOptions{Months: *months, MonthlyDiscountRate: *discount, Unit: clv.Week}
		if s.value, err = clv.LifetimeValue(bg, gg, c, opts); err != nil {
			return err
		}
		rows[i] = s
		bar.Add(1)
	}
	bar.Stop()

	byValue := slices.Clone(rows)
	slices.SortStableFunc(byValue, func(a, b scored) int { return cmp.Compare(b.value, a.value) })
	n := min(*top, len(byValue))
	fmt.Fprintf(stdout, "top %d customers by expected %d-month value (%s monthly discount):\n", n, *months, percent(*discount))
	fmt.Fprintf(stdout, "%6s %4s %7s %7s %8s %9s %9s\n", "id", "x", "t_x", "T", "P(alive)", "E[hold]", "value")
	for _, s := range byValue[:n] {
		fmt.Fprintf(stdout, "%6s %4d %7.2f %7.2f %8.3f %9.2f %9.2f\n",
			s.c.ID, s.c.Frequency, s.c.Recency, s.c.T, s.alive, s.predicted, s.value)
	}

	// Holdout check: total predicted and actual purchases, and the chart
	// of their means by calibration frequency, 0..6 and 7+ pooled, drawn
	// by the library.
	var totPred, totAct float64
	for _, s := range rows {
		totPred += s.predicted
		totAct += float64(s.c.HoldoutFrequency)
	}
	holdout := 0.0
	if len(customers) > 0 {
		holdout = customers[0].HoldoutDuration
	}
	fmt.Fprintf(stdout, "holdout %.2f weeks: predicted %.1f purchases, actual %.0f\n", holdout, totPred, totAct)

	bins, err := clv.CalibrationHoldout(bg, customers, 7)
	if err != nil {
		return err
	}
	path := filepath.Join(*out, "holdout.svg")
	chart, err := os.Create(path)
	if err != nil {
		return err
	}
	err = clv.WriteCalibrationHoldoutSVG(chart, bins, clv.PlotOptions{
		Title: fmt.Sprintf("Holdout purchases (%.0f weeks): BG/NBD prediction vs actual", holdout),
		Model: "predicted (BG/NBD)",
	})
	if cerr := chart.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "chart: %s\n", path)
	return nil
}

// percent writes the rate r (finite, 0 or more) as a percentage with one
// decimal, or for a rate whose hundredfold is past the float64 range (the
// flag takes any finite rate) as r's digits with the exponent raised by
// two: never "+Inf%".
func percent(r float64) string {
	if p := 100 * r; !math.IsInf(p, 0) {
		return strconv.FormatFloat(p, 'f', 1, 64) + "%"
	}
	mant, exp, _ := strings.Cut(strconv.FormatFloat(r, 'e', -1, 64), "e")
	e, _ := strconv.Atoi(exp)
	return mant + "e+" + strconv.Itoa(e+2) + "%"
}
