package clv

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Summary is the table of a fit: one row per parameter (estimate, standard
// error, 95 % interval) and the fit statistics. [FitInfo.Summary] builds
// it. It renders as aligned text ([Summary.String], [Summary.WriteTo]) and
// as CSV ([Summary.WriteCSV]).
type Summary struct {
	Model         string     // model name, as in FitInfo.Model
	Estimates     []Estimate // one row per parameter
	LogLikelihood float64    // maximised log-likelihood
	AIC, BIC      float64    // −2LL + 2k and −2LL + k ln n
	N             int        // number of customers
}

// String renders the summary as an aligned text table: a header line with
// the model and n, then the columns parameter, estimate, std. error, the
// natural-scale interval (low, high) and the log-scale interval, then a
// line with log-likelihood, AIC and BIC.
func (s Summary) String() string {
	var b strings.Builder
	model := s.Model
	if model == "" {
		model = "model"
	}
	fmt.Fprintf(&b, "%s fit, n = %d\n", model, s.N)
	rows := [][]string{{"parameter", "estimate", "std.err", "95% low", "95% high", "log-scale low", "log-scale high"}}
	for _, e := range s.Estimates {
		rows = append(rows, []string{e.Name, g6(e.Value), g6(e.StdErr), g6(e.Low), g6(e.High), g6(e.LogLow), g6(e.LogHigh)})
	}
	width := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], len(c))
		}
	}
	for _, r := range rows {
		for i, c := range r {
			if i == 0 {
				fmt.Fprintf(&b, "%-*s", width[i], c)
			} else {
				fmt.Fprintf(&b, "  %*s", width[i], c)
			}
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "log-likelihood %s  AIC %s  BIC %s\n", g6(s.LogLikelihood), g6(s.AIC), g6(s.BIC))
	return b.String()
}

// WriteTo writes [Summary.String] to w.
func (s Summary) WriteTo(w io.Writer) (int64, error) {
	if w == nil {
		return 0, invalidf("Summary.WriteTo: w is a nil io.Writer")
	}
	n, err := io.WriteString(w, s.String())
	return int64(n), err
}

// WriteCSV writes the summary as CSV with a header row: model, parameter,
// estimate, std_err, low, high, log_low, log_high, log_likelihood, aic,
// bic, n — one row per parameter, the fit statistics repeated on each row
// (a tidy long form). Numbers use the shortest representation that reads
// back exactly.
func (s Summary) WriteCSV(w io.Writer) error {
	if w == nil {
		return invalidf("Summary.WriteCSV: w is a nil io.Writer")
	}
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"model", "parameter", "estimate", "std_err", "low", "high", "log_low", "log_high", "log_likelihood", "aic", "bic", "n"}); err != nil {
		return err
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for _, e := range s.Estimates {
		if err := cw.Write([]string{s.Model, e.Name, f(e.Value), f(e.StdErr), f(e.Low), f(e.High), f(e.LogLow), f(e.LogHigh),
			f(s.LogLikelihood), f(s.AIC), f(s.BIC), strconv.Itoa(s.N)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func g6(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
