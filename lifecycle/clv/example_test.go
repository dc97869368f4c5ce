package clv_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/clmkit/clm/lifecycle/clv"
)

// Summarise a small transaction log and score the customers with the BG/NBD
// and Gamma-Gamma parameters published for the CDNOW data set.
func Example() {
	d := func(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }
	txs := []clv.Transaction{
		{CustomerID: "ann", Time: d("2024-01-02"), Amount: 30},
		{CustomerID: "ann", Time: d("2024-02-10"), Amount: 25},
		{CustomerID: "ann", Time: d("2024-02-10"), Amount: 10}, // same day: one purchase of 35
		{CustomerID: "ann", Time: d("2024-06-20"), Amount: 45},
		{CustomerID: "bob", Time: d("2024-01-15"), Amount: 12},
		{CustomerID: "bob", Time: d("2024-01-29"), Amount: 18},
		{CustomerID: "bob", Time: d("2024-02-05"), Amount: 15},
		{CustomerID: "cy", Time: d("2024-03-01"), Amount: 60},
	}
	customers, err := clv.Summarize(txs, clv.SummaryOptions{
		Period:         clv.Day,
		Unit:           clv.Week,
		CalibrationEnd: d("2024-06-30"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	bg := clv.BGNBD{R: 0.2426, Alpha: 4.4135, A: 0.7929, B: 2.4258}
	gg := clv.GammaGamma{P: 6.249, Q: 3.745, V: 15.448}
	for _, c := range customers {
		alive, _ := bg.ProbabilityAlive(c)
		next, _ := bg.ConditionalExpectedPurchases(52, c)
		value, _ := clv.LifetimeValue(bg, gg, c, clv.ValueOptions{Months: 12, MonthlyDiscountRate: 0.01})
		fmt.Printf("%-4s x=%d t_x=%5.2f T=%5.2f  P(alive)=%.3f  purchases/52w=%.2f  12-month value=%6.2f\n",
			c.ID, c.Frequency, c.Recency, c.T, alive, next, value)
	}
	// Output:
	// ann  x=2 t_x=24.29 T=25.71  P(alive)=0.795  purchases/52w=2.28  12-month value= 84.18
	// bob  x=2 t_x= 3.00 T=23.86  P(alive)=0.177  purchases/52w=0.53  12-month value=  9.98
	// cy   x=0 t_x= 0.00 T=17.29  P(alive)=1.000  purchases/52w=0.45  12-month value= 15.02
}

// Fit the BG/NBD model to customers simulated from known parameters. With
// r = a = 1 the gamma and beta draws reduce to inverse-CDF transforms of
// uniforms: λ ~ Exponential(α) and p = 1 − (1−u)^(1/b).
func ExampleFitBGNBD() {
	rng := rand.New(rand.NewPCG(1, 2))
	const alpha, b = 8.0, 3.0
	customers := make([]clv.Customer, 5000)
	for i := range customers {
		T := 26 + 26*rng.Float64() // weeks since the first purchase
		lambda := -math.Log(1-rng.Float64()) / alpha
		p := 1 - math.Pow(1-rng.Float64(), 1/b)
		c := clv.Customer{T: T}
		for t := 0.0; ; {
			t += -math.Log(1-rng.Float64()) / lambda
			if t > T {
				break
			}
			c.Frequency++
			c.Recency = t
			if rng.Float64() < p {
				break
			}
		}
		customers[i] = c
	}
	m, info, err := clv.FitBGNBD(customers, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("true:      r=1.00 alpha=%.2f a=1.00 b=%.2f\n", alpha, b)
	fmt.Printf("estimated: r=%.2f alpha=%.2f a=%.2f b=%.2f (%d customers)\n", m.R, m.Alpha, m.A, m.B, info.Customers)
	// Output:
	// true:      r=1.00 alpha=8.00 a=1.00 b=3.00
	// estimated: r=1.02 alpha=7.92 a=0.93 b=2.72 (5000 customers)
}
