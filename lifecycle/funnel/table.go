package funnel

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Table is a rectangular rendering of a report: a header row and data
// rows of strings. Counts are integers, rates are fractions with four
// decimals ("0.4286"), durations are Go durations rounded to the second
// ("26h3m0s", readable by [time.ParseDuration]) and empty distributions
// are "".
type Table struct {
	Header []string
	Rows   [][]string
}

// WriteCSV writes the header and rows as CSV, as encoding/csv writes it:
// quoted as RFC 4180 says, each record ending in a line feed ("\n", not
// RFC 4180's CRLF).
func (t Table) WriteCSV(w io.Writer) error {
	if w == nil {
		return fmt.Errorf("%w: Table.WriteCSV: w is a nil io.Writer", ErrInvalidInput)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(t.Header); err != nil {
		return err
	}
	if err := cw.WriteAll(t.Rows); err != nil {
		return err
	}
	return cw.Error()
}

// String renders the table as aligned plain text: columns separated by two
// spaces, the first column left-aligned and the others right-aligned, no
// trailing spaces, one line per row (a cell with a control character or a
// line or paragraph separator — Unicode Cc, Zl, Zp: a line break or a tab,
// say — is shown quoted as a Go string literal: "line\nbreak";
// [Table.WriteCSV] writes cells as they are).
func (t Table) String() string {
	width := make([]int, len(t.Header))
	all := make([][]string, 0, 1+len(t.Rows))
	for _, r := range append([][]string{t.Header}, t.Rows...) {
		if slices.ContainsFunc(r, hasControl) {
			r = slices.Clone(r)
			for i, c := range r {
				if hasControl(c) {
					r[i] = strconv.Quote(c)
				}
			}
		}
		all = append(all, r)
	}
	for _, r := range all {
		for i, c := range r {
			if i >= len(width) {
				width = append(width, 0)
			}
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	for _, r := range all {
		var line strings.Builder
		for i, c := range r {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			switch {
			case i == 0:
				line.WriteString(c + pad)
			default:
				line.WriteString("  " + pad + c)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
	return b.String()
}

// hasControl reports whether s holds a control character or a line or
// paragraph separator (U+2028, U+2029), which would break a line.
func hasControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.In(r, unicode.Cc, unicode.Zl, unicode.Zp) }) >= 0
}

func rate(x float64) string { return strconv.FormatFloat(x, 'f', 4, 64) }

func dur(d time.Duration) string {
	r := d.Round(time.Second)
	if r%time.Second != 0 { // rounding past the largest Duration gives it unrounded
		r = d.Truncate(time.Second)
	}
	return r.String()
}

// Table renders the funnel's counts and rates, one row per stage in graph
// order, with columns stage, current, entered, reached, stopped,
// conversion, stop_rate, to_next_median and stay_median (the last two ""
// when empty). When a stage is off the path (see [StageStats]), a kind
// column follows stage, holding each stage's [stage.Kind] ("path",
// "decline", "exit", "win-back"); a plain funnel has none.
func (f *Funnel) Table() Table {
	kinds := false
	for _, s := range f.Stages {
		kinds = kinds || s.Kind.OffPath()
	}
	t := Table{Header: []string{"stage", "current", "entered", "reached", "stopped", "conversion", "stop_rate", "to_next_median", "stay_median"}}
	if kinds {
		t.Header = slices.Insert(t.Header, 1, "kind")
	}
	for _, s := range f.Stages {
		row := []string{
			string(s.Stage), strconv.Itoa(s.Current), strconv.Itoa(s.Entered), strconv.Itoa(s.Reached),
			strconv.Itoa(s.Stopped), rate(s.Conversion), rate(s.StopRate), median(s.ToNext), median(s.Stay),
		}
		if kinds {
			row = slices.Insert(row, 1, s.Kind.String())
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func median(d Dist) string {
	if d.N == 0 {
		return ""
	}
	return dur(d.Median)
}

// TimeTable renders the funnel's durations in long form: one row per stage
// and measure (to_next, from_start, stay, open, in that order), with
// columns stage, measure, n, min, one column per requested percentile
// named like "p50", median, max and mean. The percentile columns are read
// from the funnel's distributions, and an empty [Dist] carries none, so a
// funnel whose every distribution is empty (no customer, or none with a
// duration) has no percentile columns.
func (f *Funnel) TimeTable() Table {
	ps := percentilesOf(f)
	t := Table{Header: []string{"stage", "measure", "n", "min"}}
	for _, p := range ps {
		t.Header = append(t.Header, "p"+strconv.FormatFloat(p, 'f', -1, 64))
	}
	t.Header = append(t.Header, "median", "max", "mean")
	for _, s := range f.Stages {
		for _, m := range []struct {
			name string
			d    Dist
		}{{"to_next", s.ToNext}, {"from_start", s.FromStart}, {"stay", s.Stay}, {"open", s.Open}} {
			row := []string{string(s.Stage), m.name, strconv.Itoa(m.d.N)}
			if m.d.N == 0 {
				row = append(row, make([]string, len(ps)+4)...)
			} else {
				row = append(row, dur(m.d.Min))
				for _, p := range ps {
					v, _ := m.d.Percentile(p)
					row = append(row, dur(v))
				}
				row = append(row, dur(m.d.Median), dur(m.d.Max), dur(m.d.Mean))
			}
			t.Rows = append(t.Rows, row)
		}
	}
	return t
}

// percentilesOf returns the percentiles requested for f's distributions,
// read from the first non-empty one.
func percentilesOf(f *Funnel) []float64 {
	for _, s := range f.Stages {
		for _, d := range []Dist{s.ToNext, s.FromStart, s.Stay, s.Open} {
			if d.N > 0 {
				ps := make([]float64, len(d.Percentiles))
				for i, q := range d.Percentiles {
					ps[i] = q.P
				}
				return ps
			}
		}
	}
	return nil
}

// Table renders the report's counts and rates like [Funnel.Table], with a
// leading cohort column: the total's rows first, labelled "(all)", then
// each cohort's rows under its key ("(none)" for the empty key; a key that
// is itself "(all)" or "(none)", or starts with a double quote, is written
// quoted as Go quotes it, `"(all)"`, so that it
// reads apart from the labels).
func (r *Report) Table() Table {
	t := r.Funnel.Table()
	out := Table{Header: append([]string{"cohort"}, t.Header...)}
	add := func(key string, t Table) {
		for _, row := range t.Rows {
			out.Rows = append(out.Rows, append([]string{key}, row...))
		}
	}
	add("(all)", t)
	for i := range r.Cohorts {
		key := r.Cohorts[i].Key
		switch {
		case key == "":
			key = "(none)"
		case key == "(all)" || key == "(none)" || strings.HasPrefix(key, `"`):
			// Quoted, as is a key that starts with a quote, so that no
			// two cohorts share a label.
			key = strconv.Quote(key)
		}
		add(key, r.Cohorts[i].Funnel.Table())
	}
	return out
}

// Measure selects the figure a [RetentionTable.Matrix] shows.
type Measure uint8

const (
	// ActiveShare is Active[k] ÷ Customers.
	ActiveShare Measure = iota + 1
	// RepeatedShare is Repeated[k] ÷ Customers.
	RepeatedShare
	// RetainedShare is Retained[k] ÷ Customers.
	RetainedShare
	// RevenueAmount is Revenue[k] in minor units.
	RevenueAmount
)

// String returns "active", "repeated", "retained" or "revenue".
func (m Measure) String() string {
	switch m {
	case ActiveShare:
		return "active"
	case RepeatedShare:
		return "repeated"
	case RetainedShare:
		return "retained"
	case RevenueAmount:
		return "revenue"
	}
	return fmt.Sprintf("Measure(%d)", uint8(m))
}

// Matrix renders one measure as the classic triangle: one row per cohort
// with columns cohort, customers, total_revenue and k0, k1, … up to the
// longest cohort; cells past a cohort's last observed period, and every
// cell of a measure the table lacks, are "".
func (t *RetentionTable) Matrix(m Measure) Table {
	width := 0
	for _, c := range t.Cohorts {
		width = max(width, len(c.Retained))
	}
	out := Table{Header: []string{"cohort", "customers", "total_revenue"}}
	for k := range width {
		out.Header = append(out.Header, "k"+strconv.Itoa(k))
	}
	for _, c := range t.Cohorts {
		row := []string{c.Key, strconv.Itoa(c.Customers), strconv.FormatInt(c.TotalRevenue, 10)}
		for k := range width {
			row = append(row, cell(&c, m, k))
		}
		out.Rows = append(out.Rows, row)
	}
	return out
}

func cell(c *RetentionCohort, m Measure, k int) string {
	share := func(xs []int) string {
		if k >= len(xs) || c.Customers == 0 {
			return ""
		}
		return rate(float64(xs[k]) / float64(c.Customers))
	}
	switch m {
	case ActiveShare:
		return share(c.Active)
	case RepeatedShare:
		return share(c.Repeated)
	case RetainedShare:
		return share(c.Retained)
	case RevenueAmount:
		if k < len(c.Revenue) {
			return strconv.FormatInt(c.Revenue[k], 10)
		}
	}
	return ""
}

// Table renders every measure in long form: one row per cohort and period
// k, with columns cohort, customers, k, active, repeated, retained and
// revenue (counts; "" for a measure the table lacks).
func (t *RetentionTable) Table() Table {
	out := Table{Header: []string{"cohort", "customers", "k", "active", "repeated", "retained", "revenue"}}
	ints := func(xs []int, k int) string {
		if k < len(xs) {
			return strconv.Itoa(xs[k])
		}
		return ""
	}
	for _, c := range t.Cohorts {
		for k := range c.Retained {
			rev := ""
			if k < len(c.Revenue) {
				rev = strconv.FormatInt(c.Revenue[k], 10)
			}
			out.Rows = append(out.Rows, []string{c.Key, strconv.Itoa(c.Customers), strconv.Itoa(k),
				ints(c.Active, k), ints(c.Repeated, k), ints(c.Retained, k), rev})
		}
	}
	return out
}
