package clv_test

import (
	"fmt"

	"github.com/clmkit/clm/lifecycle/clv"
)

// Fit the shifted-beta-geometric model to the "regular" cohort of Fader &
// Hardie (2007) and project retention and residual lifetime.
func ExampleFitSBG() {
	survivors := []float64{1000, 631, 468, 382, 326, 289, 262, 241}
	m, info, err := clv.FitSBG(survivors, nil)
	if err != nil {
		panic(err)
	}
	fmt.Printf("alpha=%.3f (se %.3f) beta=%.3f (se %.3f)\n", m.Alpha, info.Estimates[0].StdErr, m.Beta, info.Estimates[1].StdErr)
	s, _ := m.Survival(12)
	r, _ := m.RetentionRate(12)
	derl, _ := m.DERL(0.10, 4)
	fmt.Printf("S(12)=%.3f r(12)=%.3f DERL(10%%, 4 renewals)=%.2f periods\n", s[12], r, derl)
	// Output:
	// alpha=0.704 (se 0.066) beta=1.182 (se 0.152)
	// S(12)=0.170 r(12)=0.945 DERL(10%, 4 renewals)=5.89 periods
}

// Predict with the BG/BB parameters Fader, Hardie & Shang (2010) estimated
// on their donation data (FitBGBB takes []DiscreteCustomer, with Count the
// number of donors sharing a history): a donor who gave in 3 of the 6
// years, the last time in year 4.
func ExampleBGBB_ProbabilityAlive() {
	m := clv.BGBB{Alpha: 1.204, Beta: 0.750, Gamma: 0.657, Delta: 2.783}
	c := clv.DiscreteCustomer{Frequency: 3, Recency: 4, Periods: 6}
	alive, _ := m.ProbabilityAlive(c)
	next, _ := m.ConditionalExpectedPurchases(5, c)
	fmt.Printf("P(alive)=%.3f, expected donations in the next 5 years=%.3f\n", alive, next)
	// Output:
	// P(alive)=0.439, expected donations in the next 5 years=1.034
}

// Every fit reports standard errors; its Summary renders as text or CSV.
func ExampleFitInfo_Summary() {
	_, info, err := clv.FitSBG([]float64{1000, 869, 743, 653, 593, 551, 517, 491}, nil)
	if err != nil {
		panic(err)
	}
	s := info.Summary()
	fmt.Printf("%s: %d parameters, n=%d, LL=%.1f, AIC=%.1f\n", s.Model, len(s.Estimates), s.N, s.LogLikelihood, s.AIC)
	for _, e := range s.Estimates {
		fmt.Printf("%s %.3f ± %.3f\n", e.Name, e.Value, e.StdErr)
	}
	// Output:
	// sBG: 2 parameters, n=1000, LL=-1611.2, AIC=3226.3
	// alpha 0.668 ± 0.104
	// beta 3.806 ± 0.786
}
