package shop

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/funnel"
	"github.com/clmkit/clm/stage"
)

// customerView is the body of GET /v1/customers/{id}.
type customerView struct {
	ID        string                 `json:"id"`
	Model     string                 `json:"model"`
	Stage     stage.ID               `json:"stage"`
	StageName string                 `json:"stage_name"`
	Since     time.Time              `json:"since"`
	AsOf      time.Time              `json:"as_of"`
	Events    int64                  `json:"events"`
	Orders    int64                  `json:"orders"`
	Revenue   map[string]int64       `json:"revenue,omitempty"` // net, minor units per currency
	Facts     lifecycle.Facts        `json:"facts"`
	History   []lifecycle.Transition `json:"history"`
	Version   uint64                 `json:"version"`
	// PendingReferrer marks a record that holds referral credits but no
	// event of its own (see [lifecycle.Customer.PendingReferrer]): not a
	// customer yet, so without a stage and left out of every count.
	PendingReferrer bool `json:"pending_referrer,omitempty"`
}

func (s *Server) customerView(c *lifecycle.Customer) customerView {
	v := customerView{
		ID: c.ID, Model: s.t.Model().Name(), Stage: c.Stage, StageName: s.stageName(c.Stage),
		Since: c.Since, AsOf: c.AsOf, Events: c.Facts.Events(), Orders: c.Facts.Orders(),
		Facts: c.Facts, History: c.History, Version: c.Version, PendingReferrer: c.PendingReferrer(),
	}
	if v.History == nil {
		v.History = []lifecycle.Transition{}
	}
	for _, cur := range c.Facts.Currencies() {
		if v.Revenue == nil {
			v.Revenue = make(map[string]int64)
		}
		v.Revenue[cur] = c.Facts.Revenue(cur)
	}
	return v
}

func (s *Server) stageName(id stage.ID) string {
	if st, ok := s.graph.Lookup(id); ok {
		return st.Name
	}
	return string(id)
}

// lookup reads a customer; it returns an HTTP status and message on
// failure: 400 for an ID no event may carry (see [lifecycle.ValidateID]),
// 404 for one not stored.
func (s *Server) lookup(ctx context.Context, id string) (*lifecycle.Customer, int, string) {
	if err := lifecycle.ValidateID("customer_id", id); err != nil {
		msg := err.Error()
		if ve := (*lifecycle.ValidationError)(nil); errors.As(err, &ve) {
			msg = "customer ID " + strconv.Quote(ve.Value) + ": " + ve.Reason
		}
		return nil, http.StatusBadRequest, msg
	}
	c, err := s.t.Customer(ctx, id)
	switch {
	case errors.Is(err, lifecycle.ErrNotFound):
		return nil, http.StatusNotFound, "no customer " + strconv.Quote(id)
	case err != nil:
		s.log.ErrorContext(ctx, "shop: reading customer", "customer", id, "err", err)
		return nil, http.StatusInternalServerError, "reading the customer failed"
	}
	return c, http.StatusOK, ""
}

func (s *Server) getCustomer(w http.ResponseWriter, r *http.Request) {
	c, code, msg := s.lookup(r.Context(), r.PathValue("id"))
	if c == nil {
		kind := "not_found"
		switch code {
		case http.StatusBadRequest:
			kind = "bad_id"
		case http.StatusInternalServerError:
			kind = "store_failed"
		}
		writeError(w, code, kind, msg)
		return
	}
	writeJSON(w, http.StatusOK, s.customerView(c))
}

// report runs the funnel analysis over every stored customer.
func (s *Server) report(ctx context.Context) (*funnel.Report, error) {
	return funnel.AnalyzeStore(ctx, s.graph, s.t.Store(), funnel.Percentiles(50, 90))
}

// stagesView is the body of GET /v1/stages.
type stagesView struct {
	Model     string      `json:"model"`
	Customers int         `json:"customers"`
	Stages    []stageView `json:"stages"`
}

type stageView struct {
	ID        stage.ID `json:"id"`
	Name      string   `json:"name"`
	Summary   string   `json:"summary"`
	Action    string   `json:"action"`
	Customers int      `json:"customers"`
}

func (s *Server) getStages(w http.ResponseWriter, r *http.Request) {
	rep, err := s.report(r.Context())
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	v := stagesView{Model: s.t.Model().Name(), Customers: rep.Customers}
	for _, st := range s.graph.Stages() {
		ss, _ := rep.Stage(st.ID)
		v.Stages = append(v.Stages, stageView{ID: st.ID, Name: st.Name, Summary: st.Summary, Action: st.Action, Customers: ss.Current})
	}
	writeJSON(w, http.StatusOK, v)
}

// funnelView is the body of GET /v1/funnel.
type funnelView struct {
	Model     string            `json:"model"`
	Customers int               `json:"customers"`
	Stages    []funnelStageView `json:"stages"`
}

type funnelStageView struct {
	ID         stage.ID `json:"id"`
	Name       string   `json:"name"`
	Current    int      `json:"current"`    // customers in the stage now
	Reached    int      `json:"reached"`    // customers who ever reached it or a later stage
	Stopped    int      `json:"stopped"`    // customers whose furthest stage it is
	Conversion float64  `json:"conversion"` // next stage's reached ÷ this stage's reached
	DropOff    float64  `json:"drop_off"`   // stopped ÷ reached
	ToNext     durView  `json:"to_next"`    // from reaching this stage to reaching the next
	Stay       durView  `json:"stay"`       // completed stays in this stage
	Open       durView  `json:"open"`       // age of the stays still open
}

// durView summarises durations in seconds.
type durView struct {
	N             int     `json:"n"`
	MedianSeconds float64 `json:"median_seconds"`
	P90Seconds    float64 `json:"p90_seconds"`
	MeanSeconds   float64 `json:"mean_seconds"`
	MaxSeconds    float64 `json:"max_seconds"`
}

func durOf(d funnel.Dist) durView {
	p90, _ := d.Percentile(90)
	return durView{N: d.N, MedianSeconds: d.Median.Seconds(), P90Seconds: p90.Seconds(), MeanSeconds: d.Mean.Seconds(), MaxSeconds: d.Max.Seconds()}
}

func (s *Server) funnelView(rep *funnel.Report) funnelView {
	v := funnelView{Model: s.t.Model().Name(), Customers: rep.Customers}
	for _, st := range rep.Stages {
		v.Stages = append(v.Stages, funnelStageView{
			ID: st.Stage, Name: s.stageName(st.Stage), Current: st.Current, Reached: st.Reached, Stopped: st.Stopped,
			Conversion: st.Conversion, DropOff: st.StopRate,
			ToNext: durOf(st.ToNext), Stay: durOf(st.Stay), Open: durOf(st.Open),
		})
	}
	return v
}

func (s *Server) getFunnel(w http.ResponseWriter, r *http.Request) {
	rep, err := s.report(r.Context())
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.funnelView(rep))
}

func (s *Server) getWebhooks(w http.ResponseWriter, r *http.Request) {
	if s.hooks == nil {
		writeError(w, http.StatusNotFound, "not_configured", "no webhook URL is configured")
		return
	}
	writeJSON(w, http.StatusOK, s.webhooksView())
}

// webhooksView is the answer of GET /v1/webhooks and the dashboard's
// delivery table.
type webhooksView struct {
	URL  string `json:"url"`
	Name string `json:"name"`
	// State is "delivering" (this instance holds the lease), "standby"
	// (another instance does) or "stopped" (the receiver answered 410
	// Gone, or the service is stopping).
	State           string     `json:"state"`
	Holding         bool       `json:"holding"`
	Cursor          uint64     `json:"cursor"`
	Delivered       uint64     `json:"delivered"`
	Failures        uint64     `json:"failures"`
	StoreErrors     uint64     `json:"store_errors"`
	LeaseLosses     uint64     `json:"lease_losses"`
	Current         string     `json:"current,omitempty"`
	Attempts        int        `json:"attempts"`
	NextAttempt     *time.Time `json:"next_attempt,omitempty"`
	LagSeconds      float64    `json:"lag_seconds"`
	CaughtUpAt      *time.Time `json:"caught_up_at,omitempty"`
	LastDelivered   *time.Time `json:"last_delivered,omitempty"`
	LastDeliveredID string     `json:"last_delivered_id,omitempty"`
	LastError       string     `json:"last_error,omitempty"`
	LastErrorAt     *time.Time `json:"last_error_at,omitempty"`
	Owner           string     `json:"owner"`
	// Lag is the lag for people, for the dashboard.
	Lag time.Duration `json:"-"`
}

func (s *Server) webhooksView() webhooksView {
	st := s.hooks()
	now := s.now()
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		t = t.UTC()
		return &t
	}
	state := "stopped"
	switch {
	case st.Running && st.Holding:
		state = "delivering"
	case st.Running:
		state = "standby"
	}
	lag := st.Lag(now)
	return webhooksView{
		URL: s.endpoint, Name: st.Name, Owner: st.Owner, State: state, Holding: st.Holding,
		Cursor: uint64(st.Cursor), Delivered: st.Delivered, Failures: st.Failures,
		StoreErrors: st.StoreErrors, LeaseLosses: st.LeaseLosses,
		Current: st.Current, Attempts: st.Attempts, NextAttempt: opt(st.NextAttempt),
		LagSeconds: lag.Seconds(), Lag: lag, CaughtUpAt: opt(st.CaughtUpAt),
		LastDelivered: opt(st.LastDelivered), LastDeliveredID: st.LastDeliveredID,
		LastError: st.LastError, LastErrorAt: opt(st.LastErrorAt),
	}
}

func (s *Server) storeFailed(w http.ResponseWriter, r *http.Request, err error) {
	s.log.ErrorContext(r.Context(), "shop: reading the store", "path", r.URL.Path, "err", err)
	writeError(w, http.StatusInternalServerError, "store_failed", "reading the store failed")
}
