package numeric

import (
	"errors"
	"math"
	"testing"
)

const eulerGamma = 0.57721566490153286061

func relErr(got, want float64) float64 {
	if want == 0 {
		return math.Abs(got)
	}
	return math.Abs(got-want) / math.Abs(want)
}

func TestDigamma(t *testing.T) {
	tests := []struct {
		x, want float64
	}{
		{1, -eulerGamma},
		{0.5, -eulerGamma - 2*math.Ln2},
		{2, 1 - eulerGamma},
		{10, 2.251752589066721107647456163885851537211808918028330369},
		{1e-3, -1000.5755719318103005},
		{-0.5, 0.03648997397857652056},
		{123.456, 4.8118293238289900},
	}
	for _, tc := range tests {
		if got := Digamma(tc.x); relErr(got, tc.want) > 1e-12 {
			t.Errorf("Digamma(%v) = %.17g, want %.17g", tc.x, got, tc.want)
		}
	}
	// Recurrence and agreement with a numerical derivative of ln Γ.
	for _, x := range []float64{0.013, 0.37, 1.9, 7.5, 31, 2500} {
		if got, want := Digamma(x+1)-Digamma(x), 1/x; math.Abs(got-want) > 1e-14*math.Max(1, want) {
			t.Errorf("ψ(%v+1) − ψ(%v) = %v, want %v", x, x, got, want)
		}
		h := 1e-5 * x
		num := (LogGamma(x+h) - LogGamma(x-h)) / (2 * h)
		if math.Abs(Digamma(x)-num) > 1e-6*math.Max(1, math.Abs(num)) {
			t.Errorf("Digamma(%v) = %v, numerical derivative %v", x, Digamma(x), num)
		}
	}
	for _, x := range []float64{0, -1, -7, math.NaN()} {
		if got := Digamma(x); !math.IsNaN(got) {
			t.Errorf("Digamma(%v) = %v, want NaN", x, got)
		}
	}
}

func TestTrigamma(t *testing.T) {
	tests := []struct{ x, want float64 }{
		{1, math.Pi * math.Pi / 6},
		{0.5, math.Pi * math.Pi / 2},
		{2, math.Pi*math.Pi/6 - 1},
		{1e-3, 1000001.6425331959},
		{10, 0.10516633568168576},
		{123.456, 0.008132945834278194},
	}
	for _, tc := range tests {
		if got := Trigamma(tc.x); relErr(got, tc.want) > 1e-13 {
			t.Errorf("Trigamma(%v) = %.17g, want %.17g", tc.x, got, tc.want)
		}
	}
	// Recurrence and agreement with a numerical derivative of ψ.
	for _, x := range []float64{0.013, 0.37, 1.9, 7.5, 9.99, 31, 2500} {
		if got, want := Trigamma(x)-Trigamma(x+1), 1/(x*x); math.Abs(got-want) > 1e-11*want {
			t.Errorf("ψ₁(%v) − ψ₁(%v+1) = %v, want %v", x, x, got, want)
		}
		h := 1e-5 * x
		num := (Digamma(x+h) - Digamma(x-h)) / (2 * h)
		if relErr(Trigamma(x), num) > 1e-6 {
			t.Errorf("Trigamma(%v) = %v, numerical derivative %v", x, Trigamma(x), num)
		}
	}
	for _, x := range []float64{0, -1, -0.5, math.NaN()} {
		if got := Trigamma(x); !math.IsNaN(got) {
			t.Errorf("Trigamma(%v) = %v, want NaN", x, got)
		}
	}
}

func TestLogBeta(t *testing.T) {
	for _, tc := range []struct{ a, b float64 }{{0.5, 0.5}, {1, 1}, {2.5, 3.25}, {0.01, 7}, {20, 30}} {
		want := math.Log(math.Gamma(tc.a) * math.Gamma(tc.b) / math.Gamma(tc.a+tc.b))
		if got := LogBeta(tc.a, tc.b); math.Abs(got-want) > 1e-12*math.Max(1, math.Abs(want)) {
			t.Errorf("LogBeta(%v, %v) = %v, want %v", tc.a, tc.b, got, want)
		}
	}
	// Large arguments must not overflow: B(n, n) ≈ sqrt(2π) n^(-1/2) 2^(1-2n)... check via symmetry and recurrence.
	a, b := 1e4, 2.5e4
	if got, want := LogBeta(a+1, b)-LogBeta(a, b), math.Log(a/(a+b)); math.Abs(got-want) > 1e-9 {
		t.Errorf("LogBeta recurrence at large arguments: %v, want %v", got, want)
	}
	if got := LogBeta(-1, 2); !math.IsNaN(got) {
		t.Errorf("LogBeta(-1, 2) = %v, want NaN", got)
	}
}

func TestLogSumExp(t *testing.T) {
	tests := []struct{ a, b, want float64 }{
		{0, 0, math.Ln2},
		{1000, 1000, 1000 + math.Ln2},
		{-1000, -1000, -1000 + math.Ln2},
		{math.Inf(-1), 3, 3},
		{5, math.Inf(-1), 5},
		{-745, 0, math.Exp(-745)},
	}
	for _, tc := range tests {
		if got := LogSumExp(tc.a, tc.b); relErr(got, tc.want) > 1e-15 {
			t.Errorf("LogSumExp(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
	for _, x := range []float64{-800, -30, -1e-10, 0, 1e-10, 2, 40, 800} {
		want := math.Log1p(math.Exp(x))
		if x > 30 {
			want = x + math.Exp(-x)
		}
		if got := Log1pExp(x); relErr(got, want) > 1e-14 {
			t.Errorf("Log1pExp(%v) = %v, want %v", x, got, want)
		}
	}
	if got := LogDiffExp(math.Log(5), math.Log(3)); relErr(got, math.Log(2)) > 1e-14 {
		t.Errorf("LogDiffExp(ln5, ln3) = %v, want ln2", got)
	}
	if got := LogDiffExp(0, -1e-12); relErr(got, math.Log(1e-12)) > 1e-9 {
		t.Errorf("LogDiffExp near-equal = %v", got)
	}
	if got := LogDiffExp(1, 2); !math.IsNaN(got) {
		t.Errorf("LogDiffExp(1, 2) = %v, want NaN", got)
	}
}

func TestHyp2F1(t *testing.T) {
	tests := []struct {
		name       string
		a, b, c, z float64
		want       float64
		tol        float64
	}{
		{"log z=-5", 1, 1, 2, -5, math.Log(6) / 5, 1e-13},
		{"log z=-0.5", 1, 1, 2, -0.5, math.Log(1.5) / 0.5, 1e-14},
		{"log z=0.3", 1, 1, 2, 0.3, -math.Log(0.7) / 0.3, 1e-14},
		{"log z=0.95 (integer c-a-b)", 1, 1, 2, 0.95, -math.Log(0.05) / 0.95, 1e-13},
		{"log z=0.999 (integer c-a-b)", 1, 1, 2, 0.999, -math.Log(0.001) / 0.999, 1e-12},
		{"binomial z=-10", 0.3, 2.5, 2.5, -10, math.Pow(11, -0.3), 1e-13},
		{"binomial z=0.5", 0.3, 2.5, 2.5, 0.5, math.Pow(0.5, -0.3), 1e-14},
		{"binomial z=0.95", 0.3, 2.5, 2.5, 0.95, math.Pow(0.05, -0.3), 1e-12},
		{"binomial z=0.9999", 0.3, 2.5, 2.5, 0.9999, math.Pow(1e-4, -0.3), 1e-12},
		{"binomial large a", 7.3, 2.5, 2.5, 0.97, math.Pow(0.03, -7.3), 1e-11},
		{"asin", 0.5, 0.5, 1.5, 0.99 * 0.99, math.Asin(0.99) / 0.99, 1e-13},
		{"atan z=-9", 0.5, 1, 1.5, -9, math.Atan(3) / 3, 1e-13},
		{"polynomial", -2, 1.5, 3.5, 0.97, 1 - 2*1.5*0.97/3.5 + 1.5*2.5*0.97*0.97/(3.5*4.5), 1e-14},
		{"polynomial z=-3", -2, 1.5, 3.5, -3, 1 + 2*1.5*3/3.5 + 1.5*2.5*9/(3.5*4.5), 1e-14},
		{"gauss z=1", 0.4, 0.7, 2.3, 1, math.Gamma(2.3) * math.Gamma(1.2) / (math.Gamma(1.9) * math.Gamma(1.6)), 1e-13},
		{"z=0", 3, 4, 5, 0, 1, 0},
		// Reference values computed with mpmath.hyp2f1 at 30 digits.
		{"bgnbd-like", 0.2426, 2.4258, 2.2187, 0.95, 2.4429625964210370702, 1e-12},
		{"negative c-a-b", 3.2426, 5.4258, 6.2187, 0.99, 149266.11013357735975, 1e-11},
		{"negative b", 0.5, -0.3, 0.8, 0.97, 0.67113944964402950785, 1e-12},
		{"sign change", 1.3, 2.7, 1.1, -50, -0.00059245523861497362073, 1e-10},
		{"z near 1", 2.5, 1.5, 4.2, 0.999999, 22.952839605151514761, 1e-11},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Hyp2F1(tc.a, tc.b, tc.c, tc.z)
			if err != nil {
				t.Fatalf("Hyp2F1(%v, %v; %v; %v): %v", tc.a, tc.b, tc.c, tc.z, err)
			}
			if relErr(got, tc.want) > tc.tol {
				t.Errorf("Hyp2F1(%v, %v; %v; %v) = %.17g, want %.17g (rel err %.2g)",
					tc.a, tc.b, tc.c, tc.z, got, tc.want, relErr(got, tc.want))
			}
		})
	}
}

// The series (z ≤ 0.9) and the 1−z transformation (z > 0.9) must agree at
// the switch-over point.
func TestHyp2F1Continuity(t *testing.T) {
	for _, p := range [][3]float64{{0.7, 1.3, 2.6}, {0.2426, 2.4258, 2.2187}, {5.2, 3.1, 4.4}, {1.5, -0.3, 0.8}} {
		lo, err1 := Hyp2F1(p[0], p[1], p[2], 0.9)
		hi, err2 := Hyp2F1(p[0], p[1], p[2], math.Nextafter(0.9, 1))
		if err1 != nil || err2 != nil {
			t.Fatalf("%v: errors %v, %v", p, err1, err2)
		}
		if relErr(hi, lo) > 1e-11 {
			t.Errorf("2F1%v discontinuous at 0.9: %.17g vs %.17g", p, lo, hi)
		}
	}
}

func TestHyp2F1Errors(t *testing.T) {
	tests := []struct {
		name       string
		a, b, c, z float64
		want       error
	}{
		{"c pole", 1, 1, -1, 0.5, ErrDomain},
		{"c zero", 1, 1, 0, 0.5, ErrDomain},
		{"z > 1", 1, 1, 2, 1.5, ErrDomain},
		{"divergent at 1", 1, 1, 2, 1, ErrDomain},
		{"NaN", math.NaN(), 1, 2, 0.5, ErrDomain},
		{"Inf z", 1, 1, 2, math.Inf(-1), ErrDomain},
		{"overflow", 400, 400, 0.5, 0.9, ErrNoConvergence},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Hyp2F1(tc.a, tc.b, tc.c, tc.z)
			if !errors.Is(err, tc.want) {
				t.Errorf("Hyp2F1(%v, %v; %v; %v) = %v, %v; want error %v", tc.a, tc.b, tc.c, tc.z, got, err, tc.want)
			}
		})
	}
}

func rosenbrock(x, g []float64) float64 {
	a, b := 1-x[0], x[1]-x[0]*x[0]
	if g != nil {
		g[0] = -2*a - 400*x[0]*b
		g[1] = 200 * b
	}
	return a*a + 100*b*b
}

func TestBFGS(t *testing.T) {
	tests := []struct {
		name string
		f    Objective
		x0   []float64
		want []float64
	}{
		{"rosenbrock", rosenbrock, []float64{-1.2, 1}, []float64{1, 1}},
		{"quadratic", func(x, g []float64) float64 {
			// ½ xᵀAx − bᵀx, A = [[4,1],[1,3]], b = [1,2] → x* = A⁻¹b = [1/11, 7/11]
			if g != nil {
				g[0] = 4*x[0] + x[1] - 1
				g[1] = x[0] + 3*x[1] - 2
			}
			return 0.5*(4*x[0]*x[0]+2*x[0]*x[1]+3*x[1]*x[1]) - x[0] - 2*x[1]
		}, []float64{10, -10}, []float64{1.0 / 11, 7.0 / 11}},
		{"barrier", func(x, g []float64) float64 {
			// x − 2 ln x, infeasible for x ≤ 0; minimum at 2.
			if x[0] <= 0 {
				return math.Inf(1)
			}
			if g != nil {
				g[0] = 1 - 2/x[0]
			}
			return x[0] - 2*math.Log(x[0])
		}, []float64{0.01}, []float64{2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := BFGS(tc.f, tc.x0, &Settings{GradTol: 1e-9})
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.want {
				if math.Abs(res.X[i]-tc.want[i]) > 1e-6 {
					t.Errorf("x[%d] = %v, want %v (result %+v)", i, res.X[i], tc.want[i], res)
				}
			}
		})
	}
}

func TestBFGSErrors(t *testing.T) {
	_, err := BFGS(rosenbrock, []float64{-1.2, 1}, &Settings{MaxIterations: 3})
	if !errors.Is(err, ErrNoConvergence) {
		t.Errorf("3 iterations on Rosenbrock: err = %v, want ErrNoConvergence", err)
	}
	nan := func(x, g []float64) float64 { return math.NaN() }
	if _, err := BFGS(nan, []float64{1}, nil); !errors.Is(err, ErrNoConvergence) {
		t.Errorf("NaN objective: err = %v, want ErrNoConvergence", err)
	}
	// Unbounded below: the line search keeps expanding and iterations run out.
	lin := func(x, g []float64) float64 {
		if g != nil {
			g[0] = -1
		}
		return -x[0]
	}
	if _, err := BFGS(lin, []float64{0}, &Settings{MaxIterations: 20}); !errors.Is(err, ErrNoConvergence) {
		t.Errorf("unbounded objective: err = %v, want ErrNoConvergence", err)
	}
	if _, err := BFGS(lin, nil, nil); !errors.Is(err, ErrDomain) {
		t.Errorf("empty x0: err = %v, want ErrDomain", err)
	}
}

func TestNelderMead(t *testing.T) {
	res, err := NelderMead(rosenbrock, []float64{-1.2, 1}, &Settings{FuncTol: 1e-14, XTol: 1e-9})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(res.X[0]-1) > 1e-5 || math.Abs(res.X[1]-1) > 1e-5 {
		t.Errorf("Nelder–Mead Rosenbrock minimum at %v, want [1 1]", res.X)
	}
	// 4-d separable quadratic with a zero starting coordinate.
	quad := func(x, _ []float64) float64 {
		var s float64
		for i, v := range x {
			d := v - float64(i+1)
			s += float64(i+1) * d * d
		}
		return s
	}
	res, err = NelderMead(quad, []float64{0, 0.5, -1, 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range res.X {
		if math.Abs(v-float64(i+1)) > 1e-4 {
			t.Errorf("quadratic x[%d] = %v, want %d", i, v, i+1)
		}
	}
	if _, err := NelderMead(rosenbrock, []float64{-1.2, 1}, &Settings{MaxIterations: 10}); !errors.Is(err, ErrNoConvergence) {
		t.Errorf("10 evaluations: err = %v, want ErrNoConvergence", err)
	}
}

func TestHessianAndCholesky(t *testing.T) {
	h, err := Hessian(rosenbrock, []float64{1, 1}, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{802, -400, -400, 200}
	for i := range want {
		if math.Abs(h[i]-want[i]) > 1e-4 {
			t.Errorf("Hessian[%d] = %v, want %v", i, h[i], want[i])
		}
	}
	l, err := Cholesky(h, 2, 1e-12)
	if err != nil {
		t.Fatal(err)
	}
	// L Lᵀ must reproduce the matrix.
	for i := range 2 {
		for j := range 2 {
			var s float64
			for k := range 2 {
				s += l[i*2+k] * l[j*2+k]
			}
			if math.Abs(s-h[i*2+j]) > 1e-9 {
				t.Errorf("(L Lᵀ)[%d][%d] = %v, want %v", i, j, s, h[i*2+j])
			}
		}
	}
	for _, a := range [][]float64{{1, 2, 2, 1}, {1, 0, 0, 0}, {0, 0, 0, 0}, {1, 1, 1, 1}} {
		if _, err := Cholesky(a, 2, 1e-10); !errors.Is(err, ErrDomain) {
			t.Errorf("Cholesky(%v): err = %v, want ErrDomain", a, err)
		}
	}
}

func TestLogHyp2F1(t *testing.T) {
	tests := []struct {
		name       string
		a, b, c, z float64
	}{
		{"small z", 0.7, 1.3, 2.6, 0.4},
		{"switch point", 0.7, 1.3, 2.6, 0.9},
		{"transform, c-a-b>0", 0.7, 1.3, 2.6, 0.97},
		{"transform, c-a-b<0", 3.2426, 5.4258, 6.2187, 0.99},
		{"pareto-like", 3.2, 1.6, 4.2, 0.995},
		{"integer c-a-b", 1, 1, 2, 0.95},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, err := Hyp2F1(tc.a, tc.b, tc.c, tc.z)
			if err != nil {
				t.Fatal(err)
			}
			got, err := LogHyp2F1(tc.a, tc.b, tc.c, tc.z)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-math.Log(want)) > 1e-12*math.Max(1, math.Abs(got)) {
				t.Errorf("LogHyp2F1 = %.17g, ln Hyp2F1 = %.17g", got, math.Log(want))
			}
		})
	}
	// Beyond the float64 range: 2F1(a, b; b; z) = (1−z)^(−a).
	got, err := LogHyp2F1(400, 2.5, 2.5, 0.95)
	if want := -400 * math.Log(0.05); err != nil || relErr(got, want) > 1e-12 {
		t.Errorf("LogHyp2F1(400, 2.5; 2.5; 0.95) = %v, %v; want %v", got, err, want)
	}
	got, err = LogHyp2F1(2000, 2.5, 2.5, 0.5)
	if want := 2000 * math.Ln2; err != nil || relErr(got, want) > 1e-12 {
		t.Errorf("LogHyp2F1(2000, 2.5; 2.5; 0.5) = %v, %v; want %v", got, err, want)
	}
	for _, bad := range [][4]float64{{-1, 1, 1, 0.5}, {1, 1, 1, 1}, {1, 1, 1, -0.1}, {1, math.NaN(), 1, 0.5}} {
		if _, err := LogHyp2F1(bad[0], bad[1], bad[2], bad[3]); !errors.Is(err, ErrDomain) {
			t.Errorf("LogHyp2F1%v: err = %v, want ErrDomain", bad, err)
		}
	}
}

func TestCentralDifference(t *testing.T) {
	f := CentralDifference(func(x []float64) float64 { return rosenbrock(x, nil) }, 0)
	g := make([]float64, 2)
	want := make([]float64, 2)
	for _, x := range [][]float64{{-1.2, 1}, {0.3, 0.8}, {2, 4}} {
		f(x, g)
		rosenbrock(x, want)
		for i := range g {
			if math.Abs(g[i]-want[i]) > 1e-6*math.Max(1, math.Abs(want[i])) {
				t.Errorf("at %v: grad[%d] = %v, want %v", x, i, g[i], want[i])
			}
		}
	}
	res, err := BFGS(f, []float64{-1.2, 1}, nil)
	if err != nil || math.Abs(res.X[0]-1) > 1e-5 || math.Abs(res.X[1]-1) > 1e-5 {
		t.Errorf("BFGS with numerical gradients: %v, %v", res.X, err)
	}
}

func TestLogGammaRatio(t *testing.T) {
	// Γ(x+1)/Γ(x) = x and Γ(x+a+1)/Γ(x+a) = x+a, at every scale; the
	// difference of the two log-gamma values loses these past 10^12.
	// (Where the function takes that difference, it may be off by what
	// float64 cannot hold of ln Γ(x+a), about x ln x.)
	for _, x := range []float64{0.5, 3, 1e3, 1e4, 1e7, 1e9, 1e12, 1e15, 1e16, 1e18} {
		if got, want := LogGammaRatio(x, 1, 0), math.Log(x); math.Abs(got-want) > 1e-13*math.Max(1, math.Abs(want)) {
			t.Errorf("LogGammaRatio(%g, 1, 0) = %.17g, want ln x = %.17g", x, got, want)
		}
		for _, a := range []float64{0.343, -0.4, 2.783, 900} {
			step := LogGammaRatio(x, a+1, 0.5) - LogGammaRatio(x, a, 0.5)
			tol := 1e-12*math.Max(1, math.Abs(math.Log(x+a))) + 4e-16*LogGamma(x+a+1)
			if want := math.Log(x + a); math.Abs(step-want) > tol {
				t.Errorf("LogGammaRatio(%g, %g+1, ½) − LogGammaRatio(%g, %g, ½) = %.17g, want ln(x+a) = %.17g", x, a, x, a, step, want)
			}
		}
	}
	// The series and the difference agree where both hold (the
	// difference to about 10^-16 of ln Γ(x), 3·10^8 here).
	for _, ab := range [][2]float64{{1, 0.657}, {0, -0.343}, {3.5, 1000}, {-999, 2}} {
		x := 2e7
		series, direct := LogGammaRatio(x, ab[0], ab[1]), LogGamma(x+ab[0])-LogGamma(x+ab[1])
		if math.Abs(series-direct) > 2e-7 {
			t.Errorf("at x = 2e7, a = %g, b = %g: series %.17g, lgamma difference %.17g", ab[0], ab[1], series, direct)
		}
	}
}
