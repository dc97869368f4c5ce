package numeric

import (
	"math"
	"testing"
)

// TestSpecialPrecision: values where the special functions lost digits
// with no error, against mpmath at 60–120 digits: LogBeta with one large
// argument (its two large log-gammas cancelled), LogGammaRatio with a and
// b close below its asymptotic range, Digamma of large or near-integer
// negative x (π·x was rounded before its tangent), and LogGamma of a
// subnormal x (math.Log is wrong there on amd64).
func TestSpecialPrecision(t *testing.T) {
	check := func(name string, got, want, tol float64) {
		t.Helper()
		if math.Abs(got-want) > tol*math.Abs(want) {
			t.Errorf("%s = %.17g, want %.17g (relative error %.2g)", name, got, want, math.Abs(got-want)/math.Abs(want))
		}
	}
	for _, c := range []struct{ a, b, want float64 }{
		{1, 1e17, -39.143946580898777}, // was 0
		{0.1, 1e15, -1.2011649877568628},
		{1, 1e15, -34.538776394910685},
		{10, 1e17, -378.6376383289063}, // was −512
		{1, 1e12, -27.631021115928548},
		{0.1, 1e8, 0.41064457778896925},
		{0.5, 1e8, -8.6379754278014826},
		{1e8, 0.5, -8.6379754278014826}, // either order
	} {
		check("LogBeta", LogBeta(c.a, c.b), c.want, 1e-12)
	}
	for _, c := range []struct{ x, a, b, want float64 }{
		{9999, 1e-10, 0, 9.2101903611418546e-10}, // was 1e-2 off
		{1000, 1e-10, 0, 6.9072551956488623e-10},
		{50, 1, 1 + 1e-9, -3.9219899979446735e-09},
		{500, 2.0000001, 2, 6.2176037629971256e-07},
	} {
		check("LogGammaRatio", LogGammaRatio(c.x, c.a, c.b), c.want, 1e-12)
	}
	for _, c := range []struct{ x, want float64 }{
		{-4503599627370495.5, 36.04365338911715609}, // was 40.74
		{-1000000000000000.5, 34.53877639491068626},
		{-1000000000000.25, 30.772613769519091},
		{-1000000000.5, 20.723265837946411},
		{-10000000002.5, 23.025850930240457},
		{-0.9999999999, -9999999172.1735741},
		{-4.999999999, -999999915.55351818},
	} {
		check("Digamma", Digamma(c.x), c.want, 1e-9)
	}
	check("LogGamma(5e-324)", LogGamma(5e-324), 744.44007192138126, 1e-15)
	check("Log(1e-310)", Log(1e-310), math.Log(1e-300)-10*math.Ln10, 1e-15)
}
