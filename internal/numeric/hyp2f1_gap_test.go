package numeric

import (
	"math"
	"testing"
)

// TestHyp2F1IntegerGap checks 2F1(a, b; c; 1−y) where c−a−b is an
// integer (the poles of A&S 15.3.6 cancel there): the limit form against
// the power series where that converges, and Hyp2F1Comp for y down to
// 1e-35 (z rounds to 1) against 15.3.6 just either side of the integer.
func TestHyp2F1IntegerGap(t *testing.T) {
	for _, p := range [][2]float64{{0.5, 0.24}, {0.76, 0.5}, {1, 1}, {2.5, 0.5}, {-0.5, 1.5}, {0.3, 2.7}} {
		for _, m := range []int{0, 1, 2, 3, -1, -2} {
			a, b := p[0], p[1]
			c := a + b + float64(m)
			if isNonPositiveInt(c) {
				continue
			}
			for _, y := range []float64{0.05, 1e-2, 1e-3, 2e-4} {
				want, err1 := hypSeries(a, b, c, 1-y)
				var got float64
				var err2 error
				if m >= 0 {
					got, err2 = hypIntegerGap(a, b, m, y)
				} else {
					f, _ := hypIntegerGap(c-a, c-b, -m, y)
					got = math.Pow(y, float64(m)) * f
				}
				if err1 != nil || err2 != nil || math.Abs(got-want) > 1e-12*math.Abs(want) {
					t.Errorf("a=%v b=%v m=%d y=%v: gap %v series %v (%v %v) rel %.2g", a, b, m, y, got, want, err1, err2, (got-want)/want)
				}
			}
			for _, y := range []float64{1e-5, 1e-9, 1e-20, 1e-35} {
				got, err := Hyp2F1Comp(a, b, c, y)
				lo, err1 := Hyp2F1Comp(a, b, c-2e-8, y)
				hi, err2 := Hyp2F1Comp(a, b, c+2e-8, y)
				if err != nil || err1 != nil || err2 != nil || math.Abs(got-(lo+hi)/2) > 1e-6*math.Abs(got) {
					t.Errorf("a=%v b=%v m=%d y=%v: %v; around it %v %v (%v %v %v)", a, b, m, y, got, lo, hi, err, err1, err2)
				}
			}
		}
	}
}
