package clv_test

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/clmkit/clm/lifecycle/clv"
)

// Plot a fitted BG/NBD model against the holdout period of the CDNOW
// sample, and its frequency/recency matrices, as SVG files.
func ExampleWriteCalibrationHoldoutSVG() {
	f, err := os.Open("testdata/CDNOW_sample.txt")
	if err != nil {
		fmt.Println(err)
		return
	}
	txs, err := clv.ReadCDNOW(f)
	f.Close()
	if err != nil {
		fmt.Println(err)
		return
	}
	customers, err := clv.Summarize(txs, clv.SummaryOptions{Period: clv.Day, Unit: clv.Week,
		CalibrationEnd: time.Date(1997, 9, 30, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		fmt.Println(err)
		return
	}
	bg, _, err := clv.FitBGNBD(customers, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	bins, err := clv.CalibrationHoldout(bg, customers, 7)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, b := range bins[:3] {
		fmt.Printf("%s repeat purchases: %4d customers, predicted %.2f, actual %.2f\n", b.Label, b.Customers, b.Predicted, b.Actual)
	}

	dir, err := os.MkdirTemp("", "clv")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	write := func(name string, draw func(f *os.File) error) {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			fmt.Println(err)
			return
		}
		defer f.Close()
		if err := draw(f); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("wrote", name)
	}
	opts := clv.PlotOptions{Model: "BG/NBD"}
	write("holdout.svg", func(f *os.File) error { return clv.WriteCalibrationHoldoutSVG(f, bins, opts) })

	// Customers of age 39 weeks with 0..20 repeat purchases and recencies
	// 0, 3, …, 39 weeks.
	expected, err := clv.ExpectedPurchasesMatrix(bg, 1, 39, 20, 14)
	if err != nil {
		fmt.Println(err)
		return
	}
	alive, err := clv.ProbabilityAliveMatrix(bg, 39, 20, 14)
	if err != nil {
		fmt.Println(err)
		return
	}
	write("expected.svg", func(f *os.File) error { return expected.WriteSVG(f, opts) })
	write("alive.svg", func(f *os.File) error { return alive.WriteSVG(f, opts) })
	// Output:
	// 0 repeat purchases: 1411 customers, predicted 0.23, actual 0.24
	// 1 repeat purchases:  439 customers, predicted 0.52, actual 0.70
	// 2 repeat purchases:  214 customers, predicted 1.04, actual 1.39
	// wrote holdout.svg
	// wrote expected.svg
	// wrote alive.svg
}

// Plot the survival curve of a fitted sBG model with the observed cohort.
func ExampleSBG_WriteSurvivalSVG() {
	survivors := []float64{1000, 631, 468, 382, 326, 289, 262, 241}
	m, _, err := clv.FitSBG(survivors, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	path := filepath.Join(os.TempDir(), "sbg_survival.svg")
	f, err := os.Create(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.Remove(path)
	defer f.Close()
	if err := m.WriteSurvivalSVG(f, 12, survivors, clv.PlotOptions{Model: "sBG"}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("wrote sbg_survival.svg")
	// Output:
	// wrote sbg_survival.svg
}
