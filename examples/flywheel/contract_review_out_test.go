package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clmkit/clm/flywheel"
)

// docs/flywheel.md: `go run ./examples/flywheel -out DIR` prints the
// rotation table (expected values, Monte Carlo 5–95% bands) and writes
// DIR/flywheel.csv and DIR/flywheel.svg; the same seed gives the same bytes.
func TestContractReviewOutExampleFlywheelOutputs(t *testing.T) {
	args := []string{"-referrals", "2", "-churn", "0.2", "-rotations", "24", "-runs", "500", "-seed", "3"}
	run1 := func(workers string) (string, []byte, []byte) {
		dir := filepath.Join(t.TempDir(), "o")
		var out, errb bytes.Buffer
		if err := run(context.Background(), append(append([]string{}, args...), "-workers", workers, "-out", dir), &out, &errb); err != nil {
			t.Fatal(err, errb.String())
		}
		c, _ := os.ReadFile(filepath.Join(dir, "flywheel.csv"))
		s, _ := os.ReadFile(filepath.Join(dir, "flywheel.svg"))
		return strings.ReplaceAll(out.String(), dir, "DIR"), c, s
	}
	o1, c1, s1 := run1("1")
	o2, c2, s2 := run1("2")
	if o1 != o2 || !bytes.Equal(c1, c2) || !bytes.Equal(s1, s2) {
		t.Error("same seed, different output")
	}
	// The API with the same parameters.
	p := flywheel.LiteratureExample()
	p.Referrals, p.AdvocateChurn, p.Rotations = 2, 0.2, 24
	ev, err := flywheel.Expected(p)
	if err != nil {
		t.Fatal(err)
	}
	mc, err := flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(500), flywheel.Seed(3))
	if err != nil {
		t.Fatal(err)
	}
	var c bytes.Buffer
	_ = mc.WriteCSV(&c)
	if !bytes.Equal(c.Bytes(), c1) {
		t.Error("flywheel.csv differs from MonteCarlo(...).WriteCSV with the same parameters")
	}
	var s bytes.Buffer
	_ = mc.WriteSVG(&s)
	if !bytes.Equal(s.Bytes(), s1) {
		t.Error("flywheel.svg differs from MonteCarlo(...).WriteSVG")
	}
	dec := xml.NewDecoder(bytes.NewReader(s1))
	for {
		if _, err := dec.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("flywheel.svg: %v", err)
		}
	}
	if !bytes.Contains(s1, []byte("<polygon")) {
		t.Error("flywheel.svg has no Monte Carlo bands")
	}
	// Table rows equal the API.
	lines := strings.Split(o1, "\n")
	hdr := -1
	for i, l := range lines {
		if strings.Contains(l, "rotation") && strings.Contains(l, "CAC") {
			hdr = i
		}
	}
	if hdr < 0 {
		t.Fatalf("no header:\n%s", o1)
	}
	wantHdr := []string{"rotation", "paid", "referred", "(5–95%)", "engaged", "new", "cust.", "advocates", "customers", "(5–95%)", "K", "CAC"}
	if strings.Join(strings.Fields(lines[hdr]), " ") != strings.Join(wantHdr, " ") {
		t.Errorf("header %q", lines[hdr])
	}
	for i, r := range ev.Rotations {
		m := mc.Rotations[i]
		rs, cs := m.Stats[flywheel.ReferredProspects].Quantiles, m.Stats[flywheel.Customers].Quantiles
		want := fmt.Sprintf("%d %.1f %.1f %.0f–%.0f %.1f %.1f %.1f %.1f %.0f–%.0f %.3f %.2f", r.N,
			r.Mean(flywheel.PaidProspects), r.Mean(flywheel.ReferredProspects), rs[0], rs[2],
			r.Mean(flywheel.Engaged), r.Mean(flywheel.NewCustomers), r.Mean(flywheel.Advocates),
			r.Mean(flywheel.Customers), cs[0], cs[2], r.Mean(flywheel.ViralK), r.Mean(flywheel.AcquisitionCost))
		got := strings.Join(strings.Fields(lines[hdr+1+i]), " ")
		if got != want {
			t.Errorf("rotation %d: printed %q, API %q", r.N, got, want)
		}
	}
	if !strings.Contains(o1, "wrote DIR/flywheel.csv and DIR/flywheel.svg") {
		t.Errorf("no wrote line:\n%s", o1)
	}
}
