package numeric

import (
	"errors"
	"math"
	"testing"
)

// Found by an audit: a polynomial 2F1 at z near −MaxFloat64 was NaN (its
// Pfaff factor overflowed to ∞ and met a 0) or +∞, with no error; one
// with a large c near z = 1 summed a billion terms for seconds and then
// said the result was not finite.
func TestHyp2F1AuditEdges(t *testing.T) {
	// 2F1(−2, −1; ½; z) = 1 + 4z (b = −1 ends the polynomial).
	if v, err := Hyp2F1(-2, -1, 0.5, -1e300); err != nil || v != 1-4e300 {
		t.Errorf("Hyp2F1(−2, −1; ½; −1e300) = %v, %v; want 1 − 4e300", v, err)
	}
	// 2F1(−1, 1e9; 1.5; −1e300) = 1 + (1e9/1.5)·1e300: past MaxFloat64.
	if v, err := Hyp2F1(-1, 1e9, 1.5, -1e300); !errors.Is(err, ErrNoConvergence) {
		t.Errorf("Hyp2F1(−1, 1e9; 1.5; −1e300) = %v, %v; want ErrNoConvergence (an overflow)", v, err)
	}
	// 2F1(½, ½; c; 1) = Σ ((½)_n)²/((c)_n n!) = 1 + 1/(4c) + 9/(32c(c+1))
	// + 75/(128c(c+1)(c+2)) + … (Gauss: Γ(c)Γ(c−1)/Γ(c−½)²).
	for _, c := range []float64{1e9, 1e6, 1e4} {
		want := 1 + 0.25/c + 9/(32*c*(c+1)) + 75/(128*c*(c+1)*(c+2))
		v, err := Hyp2F1(0.5, 0.5, c, 1-1e-16)
		if err != nil || math.Abs(v-want) > 1e-15 {
			t.Errorf("Hyp2F1(½, ½; %g; 1−1e-16) = %v, %v; want about %v", c, v, err, want)
		}
		v, err = Hyp2F1Comp(0.5, 0.5, c, 1e-20)
		if err != nil || math.Abs(v-want) > 1e-15 {
			t.Errorf("Hyp2F1Comp(½, ½; %g; 1e-20) = %v, %v; want about %v", c, v, err, want)
		}
	}
}
