package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle/clv"
)

// examples/clv doc comment: model lines, top customers by 12-month value
// with P(alive), holdout totals, and holdout.svg drawn by the library.
func TestContractReviewOutExampleCLVOutputs(t *testing.T) {
	data := filepath.Join("..", "..", "lifecycle", "clv", "testdata", "CDNOW_sample.txt")
	runOnce := func() (string, []byte) {
		dir := t.TempDir()
		var out, errb bytes.Buffer
		if err := run(context.Background(), []string{"-data", data, "-out", dir}, &out, &errb); err != nil {
			t.Fatal(err, errb.String())
		}
		svg, err := os.ReadFile(filepath.Join(dir, "holdout.svg"))
		if err != nil {
			t.Fatal(err)
		}
		return strings.ReplaceAll(out.String(), dir, "DIR"), svg
	}
	o1, s1 := runOnce()
	o2, s2 := runOnce()
	if o1 != o2 || !bytes.Equal(s1, s2) {
		t.Error("two runs differ")
	}
	// The API.
	f, _ := os.Open(data)
	txs, err := clv.ReadCDNOW(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	cs, _ := clv.Summarize(txs, clv.SummaryOptions{Period: clv.Day, Unit: clv.Week, CalibrationEnd: time.Date(1997, 9, 30, 0, 0, 0, 0, time.UTC)})
	bg, _, err := clv.FitBGNBD(cs, nil)
	if err != nil {
		t.Fatal(err)
	}
	kept, _ := clv.ExcludeZeroSpend(cs)
	gg, _, err := clv.FitGammaGamma(kept, nil)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(o1, "\n")
	if lines[0] != fmt.Sprint(bg) || !strings.HasPrefix(lines[0], "bgnbd r=") || !strings.HasPrefix(lines[1], "gammagamma p=") || lines[1] != fmt.Sprint(gg) {
		t.Errorf("model lines %q %q", lines[0], lines[1])
	}
	type row struct {
		c       clv.Customer
		a, e, v float64
	}
	var rows []row
	var pred, act float64
	for _, c := range cs {
		a, _ := bg.ProbabilityAlive(c)
		e, _ := bg.ConditionalExpectedPurchases(c.HoldoutDuration, c)
		v, _ := clv.LifetimeValue(bg, gg, c, clv.ValueOptions{Months: 12, MonthlyDiscountRate: 0.01, Unit: clv.Week})
		rows = append(rows, row{c, a, e, v})
		pred += e
		act += float64(c.HoldoutFrequency)
	}
	slices.SortStableFunc(rows, func(x, y row) int {
		switch {
		case x.v > y.v:
			return -1
		case x.v < y.v:
			return 1
		}
		return 0
	})
	if lines[2] != "top 10 customers by expected 12-month value (1.0% monthly discount):" {
		t.Errorf("line %q", lines[2])
	}
	for i := 0; i < 10; i++ {
		r := rows[i]
		want := fmt.Sprintf("%6s %4d %7.2f %7.2f %8.3f %9.2f %9.2f", r.c.ID, r.c.Frequency, r.c.Recency, r.c.T, r.a, r.e, r.v)
		if lines[4+i] != want {
			t.Errorf("row %d %q, API %q", i, lines[4+i], want)
		}
	}
	if want := fmt.Sprintf("holdout %.2f weeks: predicted %.1f purchases, actual %.0f", cs[0].HoldoutDuration, pred, act); lines[14] != want {
		t.Errorf("%q, API %q", lines[14], want)
	}
	// holdout.svg
	var texts []string
	dec := xml.NewDecoder(bytes.NewReader(s1))
	var cur strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("holdout.svg: %v", err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			cur.Reset()
		case xml.CharData:
			cur.Write(e)
		case xml.EndElement:
			if e.Name.Local == "text" {
				texts = append(texts, cur.String())
			}
		}
	}
	for _, w := range []string{"actual", "predicted (BG/NBD)", "0", "1", "6", "7+", "Holdout purchases (39 weeks): BG/NBD prediction vs actual"} {
		if !slices.Contains(texts, w) {
			t.Errorf("holdout.svg lacks %q", w)
		}
	}
	if bytes.Contains(s1, []byte("NaN")) || bytes.Contains(s1, []byte("Inf")) {
		t.Error("NaN/Inf in holdout.svg")
	}
}
