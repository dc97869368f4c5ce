package shop

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/funnel"
	"github.com/clmkit/clm/stage"
)

//go:embed dashboard.html
var dashboardHTML string

var dashboardTemplate = template.Must(template.New("dashboard").Funcs(template.FuncMap{
	"dur":   fmtDur,
	"pct":   func(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" },
	"money": fmtMoney,
	"time":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"add":   func(a, b int) int { return a + b },
	"month": func(t time.Time) string { return t.UTC().Format("Jan 2006") },
	"day":   func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	"pctn": func(f float64) string {
		if math.IsNaN(f) {
			return "—"
		}
		return strconv.FormatFloat(100*f, 'f', 1, 64) + "%"
	},
	"num": func(f float64, prec int) string {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return "—"
		}
		return strconv.FormatFloat(f, 'f', prec, 64)
	},
}).Parse(dashboardHTML))

// Geometry of the funnel chart, in SVG user units.
const (
	chartLabelW = 150 // stage names
	chartBarW   = 460 // the longest bar
	chartCountW = 170 // counts right of the bars
	chartRowH   = 52
	chartTop    = 10
)

type dashboardData struct {
	Model     string
	Customers int
	Generated time.Time
	Chart     chart
	Stages    []dashStage
	Convs     []conversion
	Query     string
	Customer  *customerView
	Missing   string // lookup message when the customer is not shown
	Status    int    // the lookup's HTTP status when the customer is not shown
	Hooks     *webhooksView
	Panels    *stagePanels
	Retention *retentionPanel
	Risk      *riskPanel
	Flywheel  *flywheelPanel
}

type chart struct {
	Width, Height int
	LabelW        int
	Rows          []chartRow
}

type chartRow struct {
	ID               string
	Name             string
	Current, Reached int
	Y, TextY         int
	CurrentW         string // bar widths, formatted
	ReachedW         string
	CountX           int
}

type dashStage struct {
	Name  string
	Stay  funnel.Dist
	Open  funnel.Dist
	Curr  int
	Entrd int
}

type conversion struct {
	From, To   string
	Reached    int
	Next       int
	Conversion float64
	DropOff    float64
	ToNext     funnel.Dist
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	rep, err := s.report(r.Context())
	if err != nil {
		s.log.ErrorContext(r.Context(), "shop: dashboard: reading the store", "err", err)
		http.Error(w, "reading the store failed", http.StatusInternalServerError)
		return
	}
	panels, err := s.stagePanels(r.Context())
	if err != nil {
		s.log.ErrorContext(r.Context(), "shop: dashboard: reading the store", "err", err)
		http.Error(w, "reading the store failed", http.StatusInternalServerError)
		return
	}
	fly, err := s.flywheelPanel(r.Context())
	if err != nil {
		s.log.ErrorContext(r.Context(), "shop: dashboard: reading the store", "err", err)
		http.Error(w, "reading the store failed", http.StatusInternalServerError)
		return
	}
	d := dashboardData{Model: s.t.Model().Name(), Customers: rep.Customers, Generated: s.now(), Panels: panels,
		Retention: s.retentionPanel(r.Context(), panels), Risk: s.riskPanel(r.Context(), panels), Flywheel: fly}
	d.Chart = buildChart(rep, s.stageName)
	for i, st := range rep.Stages {
		d.Stages = append(d.Stages, dashStage{Name: s.stageName(st.Stage), Stay: st.Stay, Open: st.Open, Curr: st.Current, Entrd: st.Entered})
		if i+1 < len(rep.Stages) {
			next := rep.Stages[i+1]
			d.Convs = append(d.Convs, conversion{
				From: s.stageName(st.Stage), To: s.stageName(next.Stage),
				Reached: st.Reached, Next: next.Reached,
				Conversion: st.Conversion, DropOff: st.StopRate, ToNext: st.ToNext,
			})
		}
	}
	if s.hooks != nil {
		v := s.webhooksView()
		d.Hooks = &v
	}
	if q := r.URL.Query().Get("customer"); q != "" {
		d.Query = strings.ToValidUTF8(q, "\uFFFD") // echoed in a UTF-8 page
		c, code, msg := s.lookup(r.Context(), q)
		if c != nil {
			v := s.customerView(c)
			d.Customer = &v
		} else {
			d.Missing, d.Status = msg, code
			if code == http.StatusNotFound {
				d.Missing = "No customer with ID " + strconv.Quote(q) + "."
			}
		}
	}
	var buf bytes.Buffer
	if err := s.page.Execute(&buf, d); err != nil {
		s.log.ErrorContext(r.Context(), "shop: rendering the dashboard", "err", err)
		http.Error(w, "rendering the dashboard failed", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	if d.Status != 0 {
		w.WriteHeader(d.Status) // as the API answers: 400 for a bad ID, 404 for an unknown one
	}
	_, _ = w.Write(buf.Bytes())
}

// buildChart lays out the funnel: per stage, a pale bar for the customers
// who reached it and a dark bar for those in it now, both scaled to the
// largest Reached.
func buildChart(rep *funnel.Report, name func(stage.ID) string) chart {
	c := chart{LabelW: chartLabelW, Width: chartLabelW + chartBarW + chartCountW, Height: chartTop*2 + chartRowH*len(rep.Stages)}
	max := 1
	for _, st := range rep.Stages {
		if st.Reached > max {
			max = st.Reached
		}
	}
	width := func(n int) (string, float64) {
		w := float64(chartBarW) * float64(n) / float64(max)
		if n > 0 && w < 2 {
			w = 2 // a customer or two stays visible
		}
		return strconv.FormatFloat(w, 'f', 1, 64), w
	}
	for i, st := range rep.Stages {
		cw, _ := width(st.Current)
		rw, rwf := width(st.Reached)
		y := chartTop + i*chartRowH
		c.Rows = append(c.Rows, chartRow{
			ID: string(st.Stage), Name: name(st.Stage), Current: st.Current, Reached: st.Reached,
			Y: y + 6, TextY: y + 6 + 24, CurrentW: cw, ReachedW: rw,
			CountX: chartLabelW + int(rwf) + 10,
		})
	}
	return c
}

// fmtDur prints a duration for people: "45s", "12m", "5h 20m", "3d 4h".
func fmtDur(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
}

// fmtMoney prints minor units as a decimal in major units with the code:
// 7499, "EUR" → "74.99 EUR".
func fmtMoney(amount int64, cur string) string {
	exp := lifecycle.MinorUnits(cur)
	neg := amount < 0
	if neg {
		amount = -amount
	}
	s := strconv.FormatInt(amount, 10)
	if exp > 0 {
		for len(s) <= exp {
			s = "0" + s
		}
		s = s[:len(s)-exp] + "." + s[len(s)-exp:]
	}
	if neg {
		s = "-" + s
	}
	return s + " " + cur
}
