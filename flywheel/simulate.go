package flywheel

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/clmkit/clm/lifecycle"
)

// Metric names one per-rotation output of a simulation.
type Metric int

// The per-rotation metrics. The five funnel counts (Engaged, Acquired,
// NewCustomers, Retained, NewAdvocates) are the customers who reached each
// stage of the flywheel model during the rotation.
const (
	PaidProspects      Metric = iota // prospects bought through paid channels
	ReferredProspects                // prospects referred by advocates (new referrals)
	Engaged                          // all prospects: PaidProspects + ReferredProspects (reached engage)
	Acquired                         // prospects who became leads (reached acquire)
	NewCustomers                     // first orders (reached nurture)
	Retained                         // second orders (reached retain)
	NewAdvocates                     // customers who became advocates
	Advocates                        // advocates still advocating at the end of the rotation (waiting out the lag or referring)
	ReferringAdvocates               // advocates who referred during the rotation
	NewReferrals                     // referred prospects who became customers: the referral credits given
	Customers                        // cumulative customers (first orders) up to the end of the rotation
	ViralK                           // effective viral coefficient: NewReferrals ÷ Customers at the end of the previous rotation (NaN when that is 0)
	Spend                            // paid spend: PaidProspects × SpendPerProspect
	AcquisitionCost                  // blended acquisition cost: Spend ÷ NewCustomers (NaN when there are none)

	// NumMetrics is the number of metrics.
	NumMetrics int = iota
)

var metricNames = [NumMetrics]string{
	"paid_prospects", "referred_prospects", "engaged", "acquired", "new_customers", "retained",
	"new_advocates", "advocates", "referring_advocates", "new_referrals", "customers", "k", "spend", "cac",
}

// String returns the metric's snake_case name, as used in CSV headers.
func (m Metric) String() string {
	if m < 0 || int(m) >= NumMetrics {
		return fmt.Sprintf("Metric(%d)", int(m))
	}
	return metricNames[m]
}

// AllMetrics returns every metric in order.
func AllMetrics() []Metric {
	out := make([]Metric, NumMetrics)
	for i := range out {
		out[i] = Metric(i)
	}
	return out
}

// Mode says how a [Result] was computed.
type Mode string

// The simulation modes.
const (
	ModeExpected   Mode = "expected"    // the deterministic recurrence of expected values
	ModeMonteCarlo Mode = "monte-carlo" // many random runs, with means and percentile bands
	ModeAgent      Mode = "agent"       // one run of per-customer events through a Tracker
)

// Stat summarises one metric in one rotation. In expected-value and agent
// modes Mean is the value, StdErr is 0 and Quantiles is nil. In Monte Carlo
// mode the statistics are over the runs whose value is a number (ViralK and
// AcquisitionCost are NaN in runs where they are undefined); N counts those
// runs.
type Stat struct {
	Mean float64
	// StdErr is the standard error of Mean: the sample standard deviation
	// over √N (0 when N is 1; NaN, as Mean is, when N is 0). The mean's 95%
	// confidence interval is Mean ± 1.96·StdErr.
	StdErr float64
	// Quantiles holds the percentiles named by [Result.Quantiles], in the
	// same order (type-7 interpolation, as R's default).
	Quantiles []float64
	// N is the number of runs the statistics are over.
	N int
}

// Rotation holds the metrics of one rotation.
type Rotation struct {
	// N is the rotation number, from 1.
	N int
	// Stats is indexed by [Metric].
	Stats [NumMetrics]Stat
}

// Mean returns the mean of metric m in this rotation (NaN when m is not a
// [Metric], or r is nil).
func (r *Rotation) Mean(m Metric) float64 {
	if r == nil || m < 0 || int(m) >= NumMetrics {
		return math.NaN()
	}
	return r.Stats[m].Mean
}

// Result is a simulation's output, one [Rotation] per simulated rotation.
type Result struct {
	Mode   Mode
	Params Params
	// Runs is the number of Monte Carlo runs (1 in the other modes).
	Runs int
	// Seed is the seed of the random streams (0 in expected-value mode).
	Seed uint64
	// Quantiles are the percentile levels of each [Stat.Quantiles], in
	// (0, 1); nil except in Monte Carlo mode.
	Quantiles []float64
	Rotations []Rotation
}

// Rotation returns rotation n, counted from 1 as in [Rotation.N]
// (Rotation(5) is Rotations[4]). An n outside 1..len(Rotations) is an
// error wrapping [ErrInvalidParams].
func (r *Result) Rotation(n int) (*Rotation, error) {
	if r == nil {
		return nil, fmt.Errorf("%w: nil result", ErrInvalidParams)
	}
	if n < 1 || n > len(r.Rotations) {
		return nil, fmt.Errorf("%w: rotation %d, the result has rotations 1 to %d", ErrInvalidParams, n, len(r.Rotations))
	}
	return &r.Rotations[n-1], nil
}

// Series returns the mean of metric m in each rotation (NaN throughout
// when m is not a [Metric]; nil for a nil Result, which has no rotations).
func (r *Result) Series(m Metric) []float64 {
	if r == nil {
		return nil
	}
	out := make([]float64, len(r.Rotations))
	for i := range r.Rotations {
		out[i] = r.Rotations[i].Mean(m)
	}
	return out
}

// drawer makes the random draws of a run, or returns expectations when r
// is nil; inflow draws the paid prospects (nil: Poisson).
type drawer struct {
	r      *rand.Rand
	inflow Inflow
}

func (d drawer) paid(mean float64) (float64, error) {
	if d.r == nil {
		return mean, nil
	}
	return drawPaid(d.inflow, d.r, mean)
}

func (d drawer) bin(n, p float64) float64 {
	if d.r == nil {
		return n * p
	}
	return binomial(d.r, n, p)
}

func (d drawer) poi(mean float64) float64 {
	if d.r == nil {
		return mean
	}
	return poisson(d.r, mean)
}

// run simulates one run of p, writing rotation t's metric m to
// out[m*rotations+t]. ring must have length p.Lag.
func run(p *Params, d drawer, ring []float64, out []float64) error {
	clear(ring)
	n := p.Rotations
	var pool, waiting, customers float64
	for t := 0; t < n; t++ {
		slot := t % p.Lag
		// The cohort that became advocates Lag rotations ago starts referring.
		starting := ring[slot]
		ring[slot] = 0
		waiting -= starting
		referring := pool + starting
		paid, err := d.paid(p.PaidProspects)
		if err != nil {
			return fmt.Errorf("rotation %d: %w", t+1, err)
		}
		referred := d.poi(p.Referrals * referring)
		aP := d.bin(paid, p.Conversion[EngageToAcquire])
		aR := d.bin(referred, p.ReferredConversion)
		nP := d.bin(aP, p.Conversion[AcquireToNurture])
		nR := d.bin(aR, p.Conversion[AcquireToNurture])
		// From here on paid and referred customers share the same
		// probabilities, and only the totals are reported: one draw each.
		retained := d.bin(nP+nR, p.Conversion[NurtureToRetain])
		newAdv := d.bin(retained, p.Conversion[RetainToAdvocate])
		ring[slot] = newAdv
		waiting += newAdv
		pool = d.bin(referring, 1-p.AdvocateChurn)
		newCust := nP + nR
		k := math.NaN()
		if customers > 0 {
			k = nR / customers
		}
		customers += newCust
		spend := paid * p.SpendPerProspect
		cac := math.NaN()
		if newCust > 0 {
			cac = spend / newCust
		}
		vals := [NumMetrics]float64{
			PaidProspects:      paid,
			ReferredProspects:  referred,
			Engaged:            paid + referred,
			Acquired:           aP + aR,
			NewCustomers:       newCust,
			Retained:           retained,
			NewAdvocates:       newAdv,
			Advocates:          pool + waiting,
			ReferringAdvocates: referring,
			NewReferrals:       nR,
			Customers:          customers,
			ViralK:             k,
			Spend:              spend,
			AcquisitionCost:    cac,
		}
		if !(customers+paid+referred+referring <= MaxPopulation) {
			return fmt.Errorf("%w: rotation %d: population passed 2^50 (customers %g, paid prospects %g, referred prospects %g, referring advocates %g)", ErrDiverged, t+1, customers, paid, referred, referring)
		}
		for m, v := range vals {
			out[m*n+t] = v
		}
	}
	return nil
}

// Expected runs the deterministic recurrence of expected values: every
// binomial draw replaced by n·p and every Poisson draw by its mean. Because
// every count is linear in the previous rotation's counts, the result is
// the exact expectation of the Monte Carlo counts; ViralK and
// AcquisitionCost are the ratios of expected values. It returns an error
// wrapping [ErrInvalidParams] for invalid p and [ErrDiverged] when the
// population passes [MaxPopulation].
func Expected(p Params) (*Result, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	n := p.Rotations
	out := make([]float64, NumMetrics*n)
	if err := run(&p, drawer{}, make([]float64, p.Lag), out); err != nil {
		return nil, err
	}
	res := &Result{Mode: ModeExpected, Params: p, Runs: 1, Rotations: make([]Rotation, n)}
	for t := range n {
		res.Rotations[t].N = t + 1
		for m := range NumMetrics {
			res.Rotations[t].Stats[m] = Stat{Mean: out[m*n+t], N: 1}
		}
	}
	return res, nil
}

// MonteCarloOption is an option [MonteCarlo] reads: [Runs], [Seed],
// [Workers], [Quantiles], [Progress], [PaidInflow].
//
// [MonteCarlo], [Agent] and [Sweep] each take their own option type, so
// that an option a function does not read is a compile error, never
// ignored: MonteCarlo(ctx, p, WithStore(st)) does not compile. An option
// several of them read satisfies each of their types ([Option], [RunOption]).
// A nil option is skipped.
type MonteCarloOption interface{ monteCarlo(*settings) }

// AgentOption is an option [Agent] reads: [Seed], [PaidInflow],
// [WithModel], [WithStore], [StartAt], [Every], [MaxEvents].
type AgentOption interface{ agent(*settings) }

// SweepOption is an option [Sweep] reads: [SweepMode] and, for a Monte
// Carlo sweep only, [Runs], [Seed], [Workers], [Progress] and
// [PaidInflow] (Sweep returns an error wrapping [ErrInvalidParams] when
// one of these is given to an expected-value sweep, which would not read
// it).
type SweepOption interface{ sweep(*settings) }

// Option is an option [MonteCarlo], [Agent] and [Sweep] all read: [Seed]
// and [PaidInflow].
type Option interface {
	MonteCarloOption
	AgentOption
	SweepOption
}

// RunOption is an option [MonteCarlo] and Monte Carlo [Sweep]s read:
// [Runs], [Workers] and [Progress].
type RunOption interface {
	MonteCarloOption
	SweepOption
}

// The concrete option types, one per set of readers. name is the
// option's function name, for errors.
type (
	everyOpt struct {
		name string
		set  func(*settings)
	}
	runOpt   everyOpt
	mcOpt    everyOpt
	agentOpt everyOpt
	sweepOpt everyOpt
)

func (o everyOpt) monteCarlo(s *settings) { s.use(o.name, o.set) }
func (o everyOpt) agent(s *settings)      { s.use(o.name, o.set) }
func (o everyOpt) sweep(s *settings)      { s.use(o.name, o.set) }
func (o runOpt) monteCarlo(s *settings)   { s.use(o.name, o.set) }
func (o runOpt) sweep(s *settings)        { s.use(o.name, o.set) }
func (o mcOpt) monteCarlo(s *settings)    { s.use(o.name, o.set) }
func (o agentOpt) agent(s *settings)      { s.use(o.name, o.set) }
func (o sweepOpt) sweep(s *settings)      { s.use(o.name, o.set) }

// use applies an option and notes its name.
func (s *settings) use(name string, set func(*settings)) {
	set(s)
	if !slices.Contains(s.given, name) {
		s.given = append(s.given, name)
	}
}

type settings struct {
	given     []string // the names of the options given, in order
	runs      int
	seed      uint64
	workers   int
	quantiles []float64
	progress  func(done, total int)
	inflow    Inflow
	sweepMode Mode
	agent     agentSettings
}

// Defaults of the Monte Carlo options.
const (
	// DefaultRuns is the number of Monte Carlo runs: 1,000.
	DefaultRuns = 1000
	// MaxCells bounds runs × rotations × [NumMetrics], the number of values
	// a Monte Carlo simulation keeps for its percentiles (8 bytes each):
	// 2²⁸, which is 2 GiB.
	MaxCells = 1 << 28
)

// DefaultQuantiles are the percentile levels of Monte Carlo bands: 5%, 50%
// and 95%.
func DefaultQuantiles() []float64 { return []float64{0.05, 0.5, 0.95} }

// Runs sets the number of Monte Carlo runs (default [DefaultRuns]; at least
// 1, and runs × rotations × NumMetrics at most [MaxCells]).
func Runs(n int) RunOption { return runOpt{"Runs", func(s *settings) { s.runs = n }} }

// Seed sets the seed of the random streams (default 0). Monte Carlo run i
// draws from rand.New(rand.NewPCG(seed, mix(i))), where mix(i) is
// SplitMix64's output for the state i (i plus the golden gamma
// 0x9e3779b97f4a7c15, then its finaliser), so its numbers depend on the
// seed and i only:
// results are identical for the same seed whatever the number of workers.
func Seed(seed uint64) Option { return everyOpt{"Seed", func(s *settings) { s.seed = seed }} }

// Workers sets how many goroutines share the Monte Carlo runs (default 0:
// runtime.GOMAXPROCS(0); never more than the blocks of runs they claim,
// up to 64 runs each). It changes only the speed, never the results.
func Workers(n int) RunOption { return runOpt{"Workers", func(s *settings) { s.workers = n }} }

// Quantiles sets the percentile levels of the Monte Carlo bands, each
// strictly between 0 and 1 (default [DefaultQuantiles]). They are kept in
// the order given. Two levels whose CSV columns would share a name (see
// [Result.WriteCSV]: equal levels, or levels whose percents agree to the
// name's digits) are an error wrapping [ErrInvalidParams].
func Quantiles(q ...float64) MonteCarloOption {
	q = slices.Clone(q)
	return mcOpt{"Quantiles", func(s *settings) { s.quantiles = slices.Clone(q) }}
}

// Progress sets a function called as Monte Carlo runs finish, with the
// number done and the total: about every 1% of the runs and once at the
// end. Calls come from worker goroutines but never at the same time, and
// done increases from call to call. After a panic in f, f is not called
// again, and the runs end with an error wrapping [ErrInvalidParams] (a
// run's own error, if one fails, comes first). In a [Sweep], done and total count the
// runs of every grid point.
func Progress(f func(done, total int)) RunOption {
	return runOpt{"Progress", func(s *settings) { s.progress = f }}
}

// newSettings returns the settings after opts, each applied by set (nil
// options skipped).
func newSettings[O any](opts []O, set func(O, *settings)) settings {
	s := settings{runs: DefaultRuns, quantiles: DefaultQuantiles(), sweepMode: ModeExpected}
	s.agent = defaultAgentSettings()
	for _, o := range opts {
		if any(o) != nil { // a nil option is skipped, as everywhere in clm
			set(o, &s)
		}
	}
	return s
}

func (s *settings) validateMC(p *Params) error {
	if s.runs < 1 {
		return invalidf("Runs", s.runs, "must be at least 1")
	}
	if cells := float64(s.runs) * float64(p.Rotations) * float64(NumMetrics); cells > MaxCells {
		return invalidf("Runs", s.runs, fmt.Sprintf("with %d rotations keeps %g values, more than MaxCells (2^28)", p.Rotations, cells))
	}
	if s.workers < 0 {
		return invalidf("Workers", s.workers, "must not be negative")
	}
	names := make(map[string]int, len(s.quantiles))
	for i, q := range s.quantiles {
		if !(q > 0 && q < 1) {
			return invalidf(fmt.Sprintf("Quantiles[%d]", i), q, "must be strictly between 0 and 1")
		}
		name := quantileName(q)
		if j, ok := names[name]; ok {
			return invalidf(fmt.Sprintf("Quantiles[%d]", i), q, fmt.Sprintf("names the same CSV column (%s) as Quantiles[%d] = %s", name, j, formatValue(s.quantiles[j])))
		}
		names[name] = i
	}
	return nil
}

// mix is one SplitMix64 step from the state i (the golden gamma added,
// then the finaliser), used to derive each run's stream.
func mix(i uint64) uint64 {
	z := i + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// MonteCarlo runs the simulation many times with binomial and Poisson
// draws (the paid prospects from the [PaidInflow] distribution, Poisson by
// default) and returns, per rotation and metric, the mean, its standard
// error and the percentile bands. Options read: [Runs], [Seed], [Workers],
// [Quantiles], [Progress], [PaidInflow]. The results depend only on p, the
// seed, the number of runs, the inflow and the quantile levels.
//
// It returns [lifecycle.ErrNilContext] for a nil ctx, and stops early
// with the context's error when ctx is cancelled, with an
// error wrapping [ErrInvalidParams] for invalid parameters or options, and
// with [ErrDiverged] when a run's population passes [MaxPopulation] (the
// error of the lowest such run, whatever the number of workers).
func MonteCarlo(ctx context.Context, p Params, opts ...MonteCarloOption) (*Result, error) {
	if ctx == nil {
		return nil, lifecycle.ErrNilContext
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	s := newSettings(opts, MonteCarloOption.monteCarlo)
	if err := s.validateMC(&p); err != nil {
		return nil, err
	}
	vals, workers, err := simulateRuns(ctx, &p, &s)
	if err != nil {
		return nil, err
	}
	runs, n := s.runs, p.Rotations
	series := NumMetrics * n
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	res := &Result{Mode: ModeMonteCarlo, Params: p, Runs: runs, Seed: s.seed,
		Quantiles: slices.Clone(s.quantiles), Rotations: make([]Rotation, n)}
	for t := range n {
		res.Rotations[t].N = t + 1
	}
	// Summaries, shared out in tiles of series: a worker gathers a tile's
	// values run by run (a blocked transpose) and summarises each series on
	// its own, so the result does not depend on the number of workers.
	const tile = 32
	tiles := (series + tile - 1) / tile
	next.Store(0)
	for range min(workers, tiles) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]float64, tile*runs)
			for {
				k := int(next.Add(1) - 1)
				if k >= tiles {
					return
				}
				j0 := k * tile
				nt := min(tile, series-j0)
				for i := range runs {
					row := vals[i*series+j0 : i*series+j0+nt]
					for j, v := range row {
						buf[j*runs+i] = v
					}
				}
				for j := range nt {
					m, t := (j0+j)/n, (j0+j)%n
					res.Rotations[t].Stats[m] = summarise(buf[j*runs:(j+1)*runs], res.Quantiles)
				}
			}
		}()
	}
	wg.Wait()
	return res, nil
}

// summarise computes the statistics of xs (which it reorders), skipping NaN.
func summarise(xs []float64, qs []float64) Stat {
	// Move NaNs to the end, keeping the run order of the others for the
	// sums.
	k := 0
	var sum float64
	for _, x := range xs {
		if !math.IsNaN(x) {
			xs[k] = x
			k++
			sum += x
		}
	}
	xs = xs[:k]
	st := Stat{N: k, Mean: math.NaN(), StdErr: math.NaN()}
	if k == 0 {
		st.Quantiles = make([]float64, len(qs))
		for i := range st.Quantiles {
			st.Quantiles[i] = math.NaN()
		}
		return st
	}
	mean := sum / float64(k)
	var ss float64
	for _, x := range xs {
		d := x - mean
		ss += d * d
	}
	st.Mean = mean
	st.StdErr = 0
	if k > 1 {
		st.StdErr = math.Sqrt(ss/float64(k-1)) / math.Sqrt(float64(k))
	}
	st.Quantiles = make([]float64, len(qs))
	for i, q := range qs {
		st.Quantiles[i] = quantile(xs, q)
	}
	return st
}

// quantile returns the type-7 quantile of xs (no NaN), reordering xs.
func quantile(xs []float64, q float64) float64 {
	h := float64(len(xs)-1) * q
	lo := int(math.Floor(h))
	a := selectK(xs, lo)
	if lo+1 >= len(xs) {
		return a
	}
	b := slices.Min(xs[lo+1:])
	return a + (h-float64(lo))*(b-a)
}

// selectK partially sorts xs so that xs[k] is its k-th smallest element,
// everything before it no larger and everything after no smaller, and
// returns xs[k]. It is Hoare's quickselect with a median-of-three pivot.
func selectK(xs []float64, k int) float64 {
	lo, hi := 0, len(xs)-1
	for hi > lo {
		mid := lo + (hi-lo)/2
		if xs[mid] < xs[lo] {
			xs[mid], xs[lo] = xs[lo], xs[mid]
		}
		if xs[hi] < xs[lo] {
			xs[hi], xs[lo] = xs[lo], xs[hi]
		}
		if xs[hi] < xs[mid] {
			xs[hi], xs[mid] = xs[mid], xs[hi]
		}
		pivot := xs[mid]
		i, j := lo, hi
		for i <= j {
			for xs[i] < pivot {
				i++
			}
			for xs[j] > pivot {
				j--
			}
			if i <= j {
				xs[i], xs[j] = xs[j], xs[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return xs[k]
		}
	}
	return xs[k]
}

// simulateRuns runs the Monte Carlo runs of p and returns their values,
// vals[i*NumMetrics*Rotations + m*Rotations + t] being metric m in
// rotation t of run i, and the number of workers used.
func simulateRuns(ctx context.Context, p *Params, s *settings) ([]float64, int, error) {
	runs, n := s.runs, p.Rotations
	workers := s.workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	// Runs claimed at a time: at most 64, and at most 1% of the runs so
	// that progress is reported about every 1%. No more workers than
	// blocks: the others would find no work.
	block := int64(max(1, min(64, runs/100)))
	workers = min(workers, (runs+int(block)-1)/int(block))
	series := NumMetrics * n
	// vals[i*series+m*n+t] is metric m in rotation t of run i: each run
	// writes one contiguous row.
	vals := make([]float64, series*runs)
	var (
		next     atomic.Int64
		failed   atomic.Bool
		mu       sync.Mutex
		done     int
		lastPct  = -1
		firstErr error
		errRun   int
		progErr  error // a panic of Progress: returned when no run fails, so that the error does not depend on the workers either
		wg       sync.WaitGroup
	)
	// fail keeps the error of the lowest run. A worker checks failed only
	// before claiming a block and runs a claimed block to its end (or its
	// own failure), so every run below the lowest failing one runs: the
	// error does not depend on the number of workers.
	fail := func(i int, err error) {
		mu.Lock()
		if firstErr == nil || i < errRun {
			firstErr, errRun = err, i
		}
		mu.Unlock()
		failed.Store(true)
	}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ring := make([]float64, p.Lag)
			pcg := rand.NewPCG(0, 0)
			r := rand.New(pcg)
			for {
				if failed.Load() {
					return
				}
				i0 := int(next.Add(block) - block)
				if i0 >= runs {
					return
				}
				if err := ctx.Err(); err != nil {
					fail(i0, err)
					return
				}
				nb := min(int(block), runs-i0)
				for i := i0; i < i0+nb; i++ {
					pcg.Seed(s.seed, mix(uint64(i)))
					if err := run(p, drawer{r, s.inflow}, ring, vals[i*series:(i+1)*series]); err != nil {
						fail(i, fmt.Errorf("run %d: %w", i, err))
						return
					}
				}
				if s.progress != nil {
					mu.Lock()
					done += nb
					if pct := done * 100 / runs; progErr == nil && (pct != lastPct || done == runs) {
						lastPct = pct
						progErr = recovered("Progress", func() { s.progress(done, runs) }) // (once it panics, not called again)
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, 0, firstErr
	}
	if progErr != nil {
		return nil, 0, progErr
	}
	return vals, workers, nil
}
