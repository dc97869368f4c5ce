package flywheel_test

import (
	"context"
	"fmt"
	"os"
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
	tab, err := flywheel.Sweep(context.Background(), base, flywheel.CrossoverRotation(),
		[]flywheel.Axis{{Param: flywheel.ParamReferrals, Values: []float64{0.5, 1, 2, 4}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = tab.WriteCSV(os.Stdout)
	// Output:
	// referrals,crossover_rotation
	// 0.5,16
	// 1,9
	// 2,5
	// 4,4
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
