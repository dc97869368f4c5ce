package clv_test

import (
	"errors"
	"testing"

	"github.com/clmkit/clm/lifecycle/clv"
)

// TestWriteNilWriter: every Write function and method refuses a nil
// io.Writer with an error wrapping ErrInvalidInput instead of panicking.
func TestWriteNilWriter(t *testing.T) {
	m := &clv.Matrix{Frequencies: []int{0, 1}, Recencies: []float64{0, 1}, Values: [][]float64{{1, 2}, {3, 4}}}
	bins := []clv.HoldoutBin{{Frequency: 0, Customers: 1, Actual: 1, Predicted: 1}}
	for name, write := range map[string]func() error{
		"Summary.WriteTo":            func() error { _, err := clv.Summary{}.WriteTo(nil); return err },
		"Summary.WriteCSV":           func() error { return clv.Summary{}.WriteCSV(nil) },
		"Matrix.WriteSVG":            func() error { return m.WriteSVG(nil, clv.PlotOptions{}) },
		"SBG.WriteSurvivalSVG":       func() error { return clv.SBG{Alpha: 1, Beta: 1}.WriteSurvivalSVG(nil, 5, nil, clv.PlotOptions{}) },
		"WriteCalibrationHoldoutSVG": func() error { return clv.WriteCalibrationHoldoutSVG(nil, bins, clv.PlotOptions{}) },
	} {
		if err := write(); !errors.Is(err, clv.ErrInvalidInput) {
			t.Errorf("%s(nil) = %v, want ErrInvalidInput", name, err)
		}
	}
}
