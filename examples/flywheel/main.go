// Command flywheel simulates a customer flywheel and prints the rotation
// table; with -out it also writes DIR/flywheel.csv and DIR/flywheel.svg
// (a chart with Monte Carlo bands).
//
// Without flags it reproduces the literature's example (see
// flywheel.LiteratureExample): 100 engaged shoppers a rotation, every
// advocate bringing one prospect a rotation, about 47 more engaged shoppers
// by the fifth rotation.
//
//	go run ./examples/flywheel -out /tmp/fw
//	go run ./examples/flywheel -referrals 2 -churn 0.2 -rotations 24 -out /tmp/fw
//	go run ./examples/flywheel -help
//
// A long Monte Carlo run (say -runs 200000 -rotations 60) shows its progress
// on standard error: a bar on a terminal, a line every two seconds
// otherwise.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/clmkit/clm/examples/internal/cli"
	"github.com/clmkit/clm/flywheel"
)

func main() { cli.Main("flywheel", run) }

// paramHelp describes each simulator parameter for -help.
var paramHelp = map[string]string{
	flywheel.ParamRotations:          "number of rotations to simulate",
	flywheel.ParamPaidProspects:      "mean paid prospects per rotation",
	flywheel.ParamEngageToAcquire:    "probability an engaged (paid) prospect becomes a lead",
	flywheel.ParamAcquireToNurture:   "probability a lead places a first order",
	flywheel.ParamNurtureToRetain:    "probability a first-time buyer orders again",
	flywheel.ParamRetainToAdvocate:   "probability a repeat buyer becomes an advocate",
	flywheel.ParamReferredConversion: "probability a referred prospect becomes a lead",
	flywheel.ParamReferrals:          "mean prospects each referring advocate brings per rotation",
	flywheel.ParamAdvocateChurn:      "probability an advocate stops after each referring rotation (0: never)",
	flywheel.ParamLag:                "rotations from becoming an advocate to the first referral (≥ 1)",
	flywheel.ParamSpend:              "paid spend per paid prospect",
}

// run parses args, simulates and writes the table (and files with -out).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("flywheel", "Simulates a customer flywheel (expected values and Monte Carlo bands) and prints\n"+
		"one line per rotation. Defaults reproduce the literature's example.", stderr)
	p := flywheel.LiteratureExample()
	vals := map[string]*float64{}
	for _, name := range flywheel.ParamNames() {
		v, _ := p.Get(name)
		vals[name] = fs.Float64(name, v, paramHelp[name])
	}
	out := fs.String("out", "", "directory to write flywheel.csv and flywheel.svg into (created if missing)")
	runs := fs.Int("runs", 2000, "Monte Carlo runs (at least 1)")
	seed := fs.Uint64("seed", 1, "seed of the Monte Carlo streams")
	workers := fs.Int("workers", 0, "Monte Carlo workers (0: all cores)")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	for _, name := range flywheel.ParamNames() {
		// Each value is checked on its own, so the error names its flag.
		v, one := *vals[name], flywheel.LiteratureExample()
		err := one.Set(name, v)
		if err == nil {
			err = one.Validate()
		}
		if err == nil {
			err = p.Set(name, v)
		}
		if err != nil {
			return cli.Usagef("-%s %v: %w", name, v, err)
		}
	}
	if *runs < 1 {
		return cli.Usagef("-runs %d: must be at least 1", *runs)
	}
	if cells := float64(*runs) * float64(p.Rotations) * float64(flywheel.NumMetrics); cells > flywheel.MaxCells {
		return cli.Usagef("-runs %d with -rotations %d: the runs keep %g values, more than flywheel.MaxCells (2^28): give fewer runs or rotations", *runs, p.Rotations, cells)
	}
	if *workers < 0 {
		return cli.Usagef("-workers %d: must not be negative", *workers)
	}
	if *out != "" { // before the runs, which may take long
		if err := cli.OutDir("-out", *out, true, "flywheel.csv", "flywheel.svg"); err != nil {
			return err
		}
	}
	ev, err := flywheel.Expected(p)
	if err != nil {
		return err
	}
	bar := cli.StartProgress(stderr, "flywheel", "runs", int64(*runs), 2*time.Second)
	mc, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(*runs), flywheel.Seed(*seed), flywheel.Workers(*workers),
		flywheel.Progress(func(done, _ int) { bar.Set(int64(done)) }))
	bar.Stop()
	if err != nil {
		return err
	}
	if err := writeTable(stdout, p, ev, mc); err != nil {
		return err
	}
	if *out == "" {
		return nil
	}
	csvPath, svgPath := filepath.Join(*out, "flywheel.csv"), filepath.Join(*out, "flywheel.svg")
	if err := writeFile(csvPath, mc.WriteCSV); err != nil {
		return err
	}
	if err := writeFile(svgPath, func(w io.Writer) error { return mc.WriteSVG(w) }); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nwrote %s and %s\n", csvPath, svgPath)
	return nil
}

// writeTable prints the parameters and one line per rotation: expected
// values, with the Monte Carlo 5%–95% band for referred prospects and
// customers.
func writeTable(w io.Writer, p flywheel.Params, ev, mc *flywheel.Result) error {
	fmt.Fprintf(w, "flywheel: %d rotations, %g paid prospects a rotation, conversion %v (referred %g), %g referrals per advocate, churn %g, lag %d, spend %g per paid prospect\n",
		p.Rotations, p.PaidProspects, p.Conversion, p.ReferredConversion, p.Referrals, p.AdvocateChurn, p.Lag, p.SpendPerProspect)
	fmt.Fprintf(w, "advocate share %.5f, viral coefficient %.5f per rotation; Monte Carlo: %d runs, seed %d\n\n",
		p.AdvocateShare(false), p.ViralCoefficient(), mc.Runs, mc.Seed)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "rotation\tpaid\treferred\t(5–95%)\tengaged\tnew cust.\tadvocates\tcustomers\t(5–95%)\tK\tCAC\t")
	for i, r := range ev.Rotations {
		m := mc.Rotations[i]
		ref, cust := m.Stats[flywheel.ReferredProspects], m.Stats[flywheel.Customers]
		fmt.Fprintf(tw, "%d\t%.1f\t%.1f\t%s\t%.1f\t%.1f\t%.1f\t%.1f\t%s\t%.3f\t%.2f\t\n", r.N,
			r.Mean(flywheel.PaidProspects), r.Mean(flywheel.ReferredProspects), band(ref),
			r.Mean(flywheel.Engaged), r.Mean(flywheel.NewCustomers), r.Mean(flywheel.Advocates),
			r.Mean(flywheel.Customers), band(cust), r.Mean(flywheel.ViralK), r.Mean(flywheel.AcquisitionCost))
	}
	return tw.Flush()
}

func band(s flywheel.Stat) string {
	if len(s.Quantiles) < 3 {
		return "-"
	}
	return fmt.Sprintf("%.0f–%.0f", s.Quantiles[0], s.Quantiles[len(s.Quantiles)-1])
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}
