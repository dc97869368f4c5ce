// Command quickstart records a realistic stream of shop events for a few
// dozen customers with the in-memory store and the Sterne–Cutler model, then
// prints how many customers sit in each stage and one customer's history.
//
//	go run ./examples/quickstart [-customers N] [-seed S]
//
// It needs no set-up: no database, no configuration. The stream comes from
// lifecycle/shopsim, seeded with -seed (default 1), so every run with the
// same flags prints the same figures. It uses only the public API and the
// standard library, so it can be copied out of the repository as it is.
// -h lists the flags.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/shopsim"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

func main() {
	flag.Usage = func() {
		fmt.Fprint(flag.CommandLine.Output(), "usage: quickstart [flags]\n\n"+
			"Records a year of generated shop events for a few dozen customers and prints\n"+
			"how many sit in each stage and the busiest customer's stage history.\n\nflags:\n")
		flag.PrintDefaults()
	}
	customers := flag.Int("customers", 40, "number of customers in the generated stream (1 to 100000)")
	seed := flag.Uint64("seed", 1, "seed of the generated stream")
	flag.Parse() // -h prints the usage and exits 0; a bad flag or value exits 2
	if flag.NArg() > 0 {
		usageError("unexpected arguments %q", flag.Args())
	}
	if *customers < 1 || *customers > 100_000 {
		usageError("-customers %d: must be from 1 to 100000", *customers)
	}
	if err := quickstart(context.Background(), os.Stdout, *customers, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// usageError reports an error in the command line and exits with status 2,
// as the flag package does for a flag it cannot parse.
func usageError(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "quickstart: "+format+"\n", args...)
	os.Exit(2)
}

// quickstart generates the stream, records it and prints the stage counts
// and the busiest customer's history.
func quickstart(ctx context.Context, w io.Writer, customers int, seed uint64) error {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(0, 0, 365)
	events := shopsim.Generate(shopsim.Config{Customers: customers, Start: start, Days: 365, Seed: seed})

	// The whole set-up: a model and a store.
	t := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory(),
		lifecycle.WithClock(func() time.Time { return end }))

	moves := 0
	for _, e := range events {
		res, err := t.Record(ctx, e)
		if err != nil {
			return err
		}
		if res.Moved {
			moves++
		}
	}
	// Time-based moves (buyers who lapse) are applied by a sweep.
	sweep, err := t.Sweep(ctx, end)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "recorded %d events for %d customers: %d stage changes, %d more at the end-of-period sweep\n\n",
		len(events), customers, moves, sweep.Moved)

	counts := map[string]int{}
	var busiest *lifecycle.Customer
	for c, err := range t.Store().Scan(ctx) {
		if err != nil {
			return err
		}
		counts[string(c.Stage)]++
		if busiest == nil || c.Facts.Events() > busiest.Facts.Events() ||
			(c.Facts.Events() == busiest.Facts.Events() && c.ID < busiest.ID) {
			busiest = c
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "stage\tcustomers\t")
	for _, s := range t.Model().Stages().Stages() {
		fmt.Fprintf(tw, "%s\t%d\t\n", s.ID, counts[string(s.ID)])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if busiest == nil {
		return nil
	}
	c := busiest
	fmt.Fprintf(w, "\ncustomer %s: %s since %s, %d events, %d net orders, revenue %.2f EUR\n",
		c.ID, c.Stage, c.Since.Format(time.DateOnly), c.Facts.Events(), c.Facts.Orders(), float64(c.Facts.Revenue("EUR"))/100)
	for _, tr := range c.History {
		from := string(tr.From)
		if from == "" {
			from = "(new)"
		}
		cause := tr.Cause
		if cause == "" {
			cause = "sweep"
		}
		fmt.Fprintf(w, "  %s  %-11s → %-11s  (%s)\n", tr.At.Format("2006-01-02 15:04"), from, tr.To, cause)
	}
	return nil
}
