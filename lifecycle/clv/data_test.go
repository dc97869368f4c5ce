package clv

import (
	"bufio"
	"encoding/csv"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// testdata returns the path of a reference data file shipped in
// testdata/ (see testdata/README.md for where each comes from).
func testdata(name string) string {
	return filepath.Join("testdata", name)
}

// readCSV reads a CSV file with a header row into records keyed by column
// name. CRLF line ends and a missing final newline are accepted.
func readCSV(tb testing.TB, path string) []map[string]string {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	header, err := r.Read()
	if err != nil {
		tb.Fatal(err)
	}
	var out []map[string]string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		row := make(map[string]string, len(header))
		for i, h := range header {
			row[strings.TrimSpace(h)] = strings.TrimSpace(rec[i])
		}
		out = append(out, row)
	}
	return out
}

func atof(tb testing.TB, s string) float64 {
	tb.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

func atoi(tb testing.TB, s string) int {
	tb.Helper()
	v, err := strconv.Atoi(s)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// cdnowSummary loads cdnow_customers_summary_with_transactions.csv as
// customers (Frequency, Recency, T, MonetaryValue = zbar).
func cdnowSummary(tb testing.TB) []Customer {
	tb.Helper()
	rows := readCSV(tb, testdata("cdnow_customers_summary_with_transactions.csv"))
	cs := make([]Customer, len(rows))
	for i, r := range rows {
		cs[i] = Customer{
			ID:            r["ID"],
			Frequency:     atoi(tb, r["x"]),
			Recency:       atof(tb, r["t_x"]),
			T:             atof(tb, r["T"]),
			MonetaryValue: atof(tb, r["zbar"]),
		}
	}
	return cs
}

// gammaRand draws from Gamma(shape, rate) with the Marsaglia–Tsang method.
func gammaRand(rng *rand.Rand, shape, rate float64) float64 {
	if shape < 1 {
		// Boost: X·U^(1/shape) with X ~ Gamma(shape+1).
		return gammaRand(rng, shape+1, rate) * math.Pow(rng.Float64(), 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		if math.Log(u) < 0.5*x*x+d-d*v+d*math.Log(v) {
			return d * v / rate
		}
	}
}

func betaRand(rng *rand.Rand, a, b float64) float64 {
	x := gammaRand(rng, a, 1)
	return x / (x + gammaRand(rng, b, 1))
}

// simulateBGNBD draws n customers from the BG/NBD model m. Each customer's
// T is drawn uniformly from [tMin, tMax]. If grid > 0, Recency and T are
// floored to multiples of 1/grid (e.g. grid 7 gives day resolution in weeks),
// mimicking real data and making many rows identical.
func simulateBGNBD(rng *rand.Rand, m BGNBD, n int, tMin, tMax, grid float64) []Customer {
	cs := make([]Customer, n)
	for i := range cs {
		T := tMin + (tMax-tMin)*rng.Float64()
		if grid > 0 {
			T = math.Floor(T*grid) / grid
		}
		lambda := gammaRand(rng, m.R, m.Alpha)
		p := betaRand(rng, m.A, m.B)
		var x int
		var tx, t float64
		for {
			t += rng.ExpFloat64() / lambda
			if t > T {
				break
			}
			x++
			tx = t
			if rng.Float64() < p {
				break
			}
		}
		if grid > 0 {
			tx = math.Floor(tx*grid) / grid
		}
		cs[i] = Customer{ID: strconv.Itoa(i), Frequency: x, Recency: tx, T: T}
	}
	return cs
}

// simulateGammaGamma sets MonetaryValue of each repeat customer to the mean
// of Frequency spends drawn from the Gamma-Gamma model m.
func simulateGammaGamma(rng *rand.Rand, m GammaGamma, cs []Customer) {
	for i := range cs {
		x := cs[i].Frequency
		if x == 0 {
			cs[i].MonetaryValue = 0
			continue
		}
		nu := gammaRand(rng, m.Q, m.V)
		var s float64
		for range x {
			s += gammaRand(rng, m.P, nu)
		}
		cs[i].MonetaryValue = s / float64(x)
	}
}
