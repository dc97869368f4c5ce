package flywheel_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/clmkit/clm/flywheel"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store"
)

// The literature's example: 100 engaged shoppers a rotation, every
// advocate bringing one prospect a rotation, and about 47 more engaged
// shoppers by the fifth rotation.
func Example() {
	p := flywheel.LiteratureExample()
	p.Rotations = 6
	res, err := flywheel.Expected(p)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("advocate share f = %.5f, viral coefficient = %.5f\n", p.AdvocateShare(false), p.ViralCoefficient())
	fmt.Println("rotation  paid  referred  engaged  advocates  customers")
	for _, r := range res.Rotations {
		fmt.Printf("%8d %5.0f %9.1f %8.1f %10.1f %10.1f\n", r.N, r.Mean(flywheel.PaidProspects), r.Mean(flywheel.ReferredProspects),
			r.Mean(flywheel.Engaged), r.Mean(flywheel.Advocates), r.Mean(flywheel.Customers))
	}
	// Output:
	// advocate share f = 0.10125, viral coefficient = 0.10125
	// rotation  paid  referred  engaged  advocates  customers
	//        1   100       0.0    100.0       10.1       33.8
	//        2   100      10.1    110.1       21.3       70.9
	//        3   100      21.3    121.3       33.6      111.8
	//        4   100      33.6    133.6       47.1      156.9
	//        5   100      47.1    147.1       62.0      206.6
	//        6   100      62.0    162.0       78.4      261.2
}

// Monte Carlo runs give percentile bands; the same seed gives the same
// numbers whatever the number of workers.
func ExampleMonteCarlo() {
	p := flywheel.LiteratureExample()
	p.Rotations = 5
	res, err := flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(2000), flywheel.Seed(42), flywheel.Workers(2))
	if err != nil {
		fmt.Println(err)
		return
	}
	r5 := res.Rotations[4].Stats[flywheel.ReferredProspects]
	fmt.Printf("referred prospects in rotation 5: mean %.1f ± %.1f, 5%%–95%%: %.0f–%.0f\n",
		r5.Mean, 1.96*r5.StdErr, r5.Quantiles[0], r5.Quantiles[2])
	// Output:
	// referred prospects in rotation 5: mean 47.5 ± 0.5, 5%–95%: 31–66
}

// A sweep over the referrals per advocate: the rotation in which referred
// prospects first outnumber paid ones.
func ExampleSweep() {
	base := flywheel.LiteratureExample()
	base.Rotations = 52
	tab, err := flywheel.Sweep(context.Background(), base,
		[]flywheel.Outcome{flywheel.CrossoverRotation(), flywheel.CustomersAfter(12)},
		[]flywheel.Axis{{Param: flywheel.ParamReferrals, Values: []float64{0.5, 1, 2, 4}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	cross, cust := tab.Grids[0], tab.Grids[1]
	fmt.Println("referrals  crossover  customers after 12")
	for i, x := range tab.X.Values {
		fmt.Printf("%9g %10.0f %19.1f\n", x, cross.Values[0][i], cust.Values[0][i])
	}
	// Output:
	// referrals  crossover  customers after 12
	//       0.5         16               539.2
	//         1          9               727.2
	//         2          5              1356.9
	//         4          4              4847.7
}

// Agent mode drives a real Tracker: the referrers of converted customers
// hold one referral_converted credit per referred customer.
func ExampleAgent() {
	ctx := context.Background()
	p := flywheel.LiteratureExample()
	p.Rotations = 4
	st := store.NewMemory()
	run, err := flywheel.Agent(ctx, p, flywheel.WithStore(st), flywheel.Seed(1),
		flywheel.StartAt(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), flywheel.Every(30*24*time.Hour))
	if err != nil {
		fmt.Println(err)
		return
	}
	var credits int64
	for c, err := range st.Scan(ctx) {
		if err != nil {
			fmt.Println(err)
			return
		}
		credits += c.Facts.Count(lifecycle.ReferralConverted)
	}
	var referred float64
	for _, r := range run.Result.Rotations {
		referred += r.Mean(flywheel.NewReferrals)
	}
	fmt.Println("customers in the store:", st.Len())
	fmt.Println("referred customers:", referred, "credits:", credits)
	// Output:
	// customers in the store: 464
	// referred customers: 29 credits: 29
}

// Measure reads the three rules of the flywheel from recorded customers.
func ExampleMeasure() {
	ctx := context.Background()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	st := store.NewMemory()
	tr := lifecycle.NewTracker(flywheel.Model(), st, lifecycle.WithClock(func() time.Time { return start.AddDate(1, 0, 0) }))
	order := func(id, cust string, day int) lifecycle.Event {
		return lifecycle.Event{ID: id, CustomerID: cust, Type: lifecycle.OrderCompleted, Time: start.AddDate(0, 0, day), Amount: 4000, Currency: "EUR"}
	}
	for _, e := range []lifecycle.Event{
		{ID: "v1", CustomerID: "ann", Type: lifecycle.SiteVisited, Time: start.AddDate(0, 0, 1)},
		order("o1", "ann", 2), order("o2", "ann", 9),
		{ID: "r1", CustomerID: "ann", Type: lifecycle.ReviewPosted, Time: start.AddDate(0, 0, 10)},
		{ID: "v2", CustomerID: "bob", Type: lifecycle.SiteVisited, Time: start.AddDate(0, 0, 3)},
		{ID: "v3", CustomerID: "cat", Type: lifecycle.SiteVisited, Time: start.AddDate(0, 0, 35), ReferrerID: "ann"},
		order("o3", "cat", 36),
		{ID: "v4", CustomerID: "dan", Type: lifecycle.SiteVisited, Time: start.AddDate(0, 0, 40)},
	} {
		if _, err := tr.Record(ctx, e); err != nil {
			fmt.Println(err)
			return
		}
	}
	m, err := flywheel.Measure(ctx, st, start, 30*24*time.Hour, 2, flywheel.WithSpend(200, 100))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range m.Rotations {
		fmt.Printf("rotation %d: prospects %d (referred %.0f%%), new customers %d, acquisition cost %.0f, engage→ %.2f\n",
			r.N, r.Prospects, 100*r.ReferredShare, r.NewCustomers, r.AcquisitionCost, r.Connected[0])
	}
	fmt.Printf("referred share trend %+.2f per rotation, cost trend %+.0f per rotation\n", m.ReferredShareTrend, m.AcquisitionCostTrend)
	// Output:
	// rotation 1: prospects 2 (referred 0%), new customers 1, acquisition cost 200, engage→ 0.50
	// rotation 2: prospects 2 (referred 50%), new customers 1, acquisition cost 100, engage→ 0.33
	// referred share trend +0.50 per rotation, cost trend -100 per rotation
}

// FitBass recovers the parameters of a Bass diffusion series.
func ExampleFitBass() {
	truth := flywheel.Bass{P: 0.03, Q: 0.38, M: 1000}
	fit, err := flywheel.FitBass(truth.Series(20))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("p = %.4f, q = %.4f, m = %.1f\n", fit.P, fit.Q, fit.M)
	// Output:
	// p = 0.0300, q = 0.3800, m = 1000.0
}

// Fit per-period adopters by the non-linear least squares of Srinivasan &
// Mason (1986) and read the peak.
func ExampleFitBassSales() {
	sales := flywheel.Bass{P: 0.01, Q: 0.4, M: 20000}.PeriodSales(12)
	fit, err := flywheel.FitBassSales(sales)
	if err != nil {
		panic(err)
	}
	fmt.Printf("p=%.4f q=%.3f m=%.0f R²=%.4f\n", fit.P, fit.Q, fit.M, fit.R2)
	fmt.Printf("peak at t*=%.2f with %.0f adopters per period\n", fit.PeakTime(), fit.M*fit.PeakDensity())
	// Output:
	// p=0.0100 q=0.400 m=20000 R²=1.0000
	// peak at t*=9.00 with 2101 adopters per period
}

// A Monte Carlo sweep of several outcomes at once, each with its standard
// error over the runs, drawn as a heatmap and as line charts with 95%
// error bars.
func ExampleTable_WriteHeatmapSVG() {
	base := flywheel.LiteratureExample()
	tab, err := flywheel.Sweep(context.Background(), base,
		[]flywheel.Outcome{flywheel.CustomersAfter(12), flywheel.MetricAt(flywheel.Advocates, 12)},
		[]flywheel.Axis{
			{Param: flywheel.ParamReferrals, Values: []float64{0.5, 1, 1.5, 2}},
			{Param: flywheel.ParamAdvocateChurn, Values: []float64{0, 0.25, 0.5}},
		},
		flywheel.SweepMode(flywheel.ModeMonteCarlo), flywheel.Runs(1000), flywheel.Seed(7),
		flywheel.PaidInflow(flywheel.ConstantInflow()))
	if err != nil {
		fmt.Println(err)
		return
	}
	g, err := tab.Grid("customers_after_12")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("referrals 1, churn 0: %.0f ± %.0f customers after 12 rotations\n", g.Values[0][1], 1.96*g.StdErr[0][1])

	dir, err := os.MkdirTemp("", "sweep")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	heat, err := os.Create(filepath.Join(dir, "heatmap.svg"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer heat.Close()
	if err := tab.WriteHeatmapSVG(heat, "customers_after_12"); err != nil {
		fmt.Println(err)
		return
	}
	lines, err := os.Create(filepath.Join(dir, "lines.svg"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer lines.Close()
	if err := tab.WriteLinesSVG(lines, "advocates_at_12"); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("wrote heatmap.svg and lines.svg")
	// Output:
	// referrals 1, churn 0: 728 ± 3 customers after 12 rotations
	// wrote heatmap.svg and lines.svg
}

// Rotations are looked up by number, from 1.
func ExampleResult_Rotation() {
	res, err := flywheel.Expected(flywheel.LiteratureExample())
	if err != nil {
		fmt.Println(err)
		return
	}
	r5, err := res.Rotation(5)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("rotation %d: %.1f engaged\n", r5.N, r5.Mean(flywheel.Engaged))
	_, err = res.Rotation(13)
	fmt.Println(err)
	// Output:
	// rotation 5: 147.1 engaged
	// flywheel: invalid parameters: rotation 13, the result has rotations 1 to 12
}

// The paid inflow: Poisson (the default), constant (no variance) or a
// caller's distribution drawn from the run's seeded stream.
func ExamplePaidInflow() {
	p := flywheel.LiteratureExample()
	p.Rotations = 3
	for _, in := range []struct {
		name string
		f    flywheel.Inflow
	}{
		{"poisson", flywheel.PoissonInflow()},
		{"constant", flywheel.ConstantInflow()},
		{"geometric", func(r *rand.Rand, mean float64) int { // a caller's distribution with the same mean
			n := 0
			for r.Float64() < mean/(1+mean) {
				n++
			}
			return n
		}},
	} {
		res, err := flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(1000), flywheel.Seed(1), flywheel.PaidInflow(in.f))
		if err != nil {
			fmt.Println(err)
			return
		}
		st := res.Rotations[0].Stats[flywheel.PaidProspects]
		fmt.Printf("%-9s paid prospects in rotation 1: mean %.1f, standard error %.2f\n", in.name, st.Mean, st.StdErr)
	}
	// Output:
	// poisson   paid prospects in rotation 1: mean 99.9, standard error 0.32
	// constant  paid prospects in rotation 1: mean 100.0, standard error 0.00
	// geometric paid prospects in rotation 1: mean 105.0, standard error 3.29
}
