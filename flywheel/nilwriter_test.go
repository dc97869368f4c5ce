package flywheel_test

import (
	"context"
	"errors"
	"testing"

	"github.com/clmkit/clm/flywheel"
)

// TestWriteNilWriter: every Write method refuses a nil io.Writer with an
// error wrapping ErrInvalidParams instead of panicking.
func TestWriteNilWriter(t *testing.T) {
	p := flywheel.LiteratureExample()
	p.Rotations = 8
	r, err := flywheel.Expected(p)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := flywheel.Sweep(context.Background(), p,
		[]flywheel.Outcome{flywheel.CustomersAfter(4)},
		[]flywheel.Axis{{Param: flywheel.ParamReferrals, Values: []float64{0.5, 1}}, {Param: flywheel.ParamLag, Values: []float64{1, 2}}})
	if err != nil {
		t.Fatal(err)
	}
	outcome := tab.Grids[0].Outcome
	for name, write := range map[string]func() error{
		"Result.WriteCSV":       func() error { return r.WriteCSV(nil) },
		"Result.WriteSVG":       func() error { return r.WriteSVG(nil) },
		"Table.WriteCSV":        func() error { return tab.WriteCSV(nil) },
		"Table.WriteHeatmapSVG": func() error { return tab.WriteHeatmapSVG(nil, outcome) },
		"Table.WriteLinesSVG":   func() error { return tab.WriteLinesSVG(nil, outcome) },
	} {
		if err := write(); !errors.Is(err, flywheel.ErrInvalidParams) {
			t.Errorf("%s(nil) = %v, want ErrInvalidParams", name, err)
		}
	}
}
