package funnel_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/funnel"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

func segCustomers() []*lifecycle.Customer {
	mk := func(id string, st lifecycle.Transition, events ...lifecycle.Event) *lifecycle.Customer {
		c := &lifecycle.Customer{ID: id, Stage: st.To, Since: st.At, History: []lifecycle.Transition{st}, Version: 1}
		for i := range events {
			events[i].CustomerID = id
			events[i].ID = id + string(rune('a'+i))
			events[i].Time = t0.Add(time.Duration(i) * time.Hour) // in the order given
			c.Facts.Add(&events[i])
		}
		return c
	}
	ev := func(t lifecycle.EventType) lifecycle.Event { return lifecycle.Event{Type: t} }
	order := func(amt int64) lifecycle.Event {
		return lifecycle.Event{Type: lifecycle.OrderCompleted, Amount: amt, Currency: "EUR"}
	}
	score := func(s string) lifecycle.Event {
		return lifecycle.Event{Type: lifecycle.SurveyAnswered, Attrs: map[string]string{"score": s}}
	}
	return []*lifecycle.Customer{
		mk("loyal-beauty", lifecycle.Transition{To: model.Loyalty}, order(5000), ev("shop.beauty_purchased"), ev("shop.beauty_purchased")),
		mk("loyal-other", lifecycle.Transition{To: model.Loyalty}, order(9000)),
		mk("risk-ticket", lifecycle.Transition{To: model.Acquisition}, order(100), ev(lifecycle.TicketOpened), ev(lifecycle.TicketResolved), ev(lifecycle.TicketOpened), score("3")),
		mk("risk-solved", lifecycle.Transition{To: model.Acquisition}, order(100), ev(lifecycle.TicketOpened), ev(lifecycle.TicketResolved), score("9")),
		mk("new", lifecycle.Transition{To: model.Reach}),
	}
}

func TestSegments(t *testing.T) {
	tests := []struct {
		name string
		seg  funnel.Segment
		want []string
	}{
		{"loyal beauty buyers", funnel.All(funnel.InStage(model.Loyalty), funnel.HasEvent("shop.beauty_purchased", 1)), []string{"loyal-beauty"}},
		{"at risk with an open ticket", funnel.All(funnel.InStage(model.Acquisition), funnel.OpenTicket()), []string{"risk-ticket"}},
		{"two beauty purchases", funnel.HasEvent("shop.beauty_purchased", 2), []string{"loyal-beauty"}},
		{"three beauty purchases", funnel.HasEvent("shop.beauty_purchased", 3), nil},
		{"spent at least 50 EUR", funnel.SpentAtLeast("EUR", 5000), []string{"loyal-beauty", "loyal-other"}},
		{"spent in USD", funnel.SpentAtLeast("USD", 1), nil},
		{"detractors", funnel.ScoreBelow(7), []string{"risk-ticket"}},
		{"not loyal", funnel.Not(funnel.InStage(model.Loyalty)), []string{"new", "risk-solved", "risk-ticket"}},
		{"any", funnel.Any(funnel.InStage(model.Reach), funnel.ScoreBelow(5)), []string{"new", "risk-ticket"}},
	}
	ctx := context.Background()
	s := store.NewMemory()
	for _, c := range segCustomers() {
		if err := s.Put(ctx, c, 0); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for id, err := range tc.seg.IDs(ctx, s) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, id)
			}
			slices.Sort(got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.seg.Name, diff)
			}
		})
	}
}

func TestSegmentNames(t *testing.T) {
	got := funnel.All(funnel.InStage(model.Loyalty, model.Retention), funnel.Not(funnel.OpenTicket())).Name
	if want := "(stage in (loyalty, retention)) and (not (open ticket))"; got != want {
		t.Errorf("Name = %q, want %q", got, want)
	}
}

func TestSegmentWithoutMatch(t *testing.T) {
	for _, seg := range []funnel.Segment{{Name: "x"}, funnel.Not(funnel.Segment{}), funnel.All(funnel.OpenTicket(), funnel.Segment{})} {
		n := 0
		for _, err := range seg.IDs(context.Background(), store.NewMemory()) {
			n++
			if !errors.Is(err, funnel.ErrInvalidInput) {
				t.Errorf("%q: error = %v, want ErrInvalidInput", seg.Name, err)
			}
		}
		if n != 1 {
			t.Errorf("%q: yielded %d times, want one error", seg.Name, n)
		}
	}
}

// Segments and model rules mean the same thing. An open ticket is the
// last ticket_opened after the last ticket_resolved, as in model.After
// and the six-stage model: a customer who opened two tickets and then
// resolved one has none open (the old funnel counted opened > resolved
// and said one was). All() and Any() of nothing are errors, as
// model.All() and model.Any() are (the old funnel matched everyone and
// no one).
func TestSegmentsMeanWhatRulesMean(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	c := &lifecycle.Customer{ID: "c", Stage: model.Acquisition, Since: at, Version: 1, AsOf: at.Add(3 * time.Hour)}
	for i, ty := range []lifecycle.EventType{lifecycle.TicketOpened, lifecycle.TicketOpened, lifecycle.TicketResolved} {
		c.Facts.Add(&lifecycle.Event{ID: string(rune('a' + i)), CustomerID: "c", Type: ty, Time: at.Add(time.Duration(i) * time.Hour)})
	}
	open := model.After(lifecycle.TicketOpened, lifecycle.TicketResolved)
	if open.Holds(&c.Facts, c.AsOf) {
		t.Fatal("model: a ticket is open")
	}
	for _, seg := range []funnel.Segment{funnel.OpenTicket(), funnel.Where(open)} {
		if seg.Match(c) {
			t.Errorf("%s matches a customer whose last ticket was resolved", seg.Name)
		}
	}

	for _, seg := range []funnel.Segment{funnel.All(), funnel.Any(), funnel.Not(funnel.All()), funnel.All(funnel.InStage(model.Reach), funnel.Any())} {
		n := 0
		for _, err := range seg.Filter(funnel.Customers([]*lifecycle.Customer{c})) {
			n++
			if !errors.Is(err, funnel.ErrInvalidInput) || !strings.Contains(err.Error(), "of no segments") {
				t.Errorf("%q: error = %v, want ErrInvalidInput naming the empty combination", seg.Name, err)
			}
		}
		if n != 1 {
			t.Errorf("%q: yielded %d times, want one error", seg.Name, n)
		}
		if _, err := funnel.New(model.SterneCutler().Stages(), funnel.Only(seg)); !errors.Is(err, funnel.ErrInvalidInput) {
			t.Errorf("New(Only(%q)) = %v, want ErrInvalidInput", seg.Name, err)
		}
	}
}

// Where turns any model rule into a segment, evaluated at the customer's
// classification time; a malformed rule is an error wherever the segment
// is used, as Build would report it.
func TestWhere(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	mk := func(id string, asOf time.Time, orders ...time.Time) *lifecycle.Customer {
		c := &lifecycle.Customer{ID: id, Stage: model.Conversion, Since: at, Version: 1, AsOf: asOf}
		for i, o := range orders {
			c.Facts.Add(&lifecycle.Event{ID: id + string(rune('a'+i)), CustomerID: id, Type: lifecycle.OrderCompleted, Time: o, Amount: 100, Currency: "EUR"})
		}
		return c
	}
	const day = 24 * time.Hour
	cs := []*lifecycle.Customer{
		mk("recent", at, at.Add(-10*day), at.Add(-5*day)),
		mk("lapsing", at, at.Add(-200*day), at.Add(-100*day)),
		mk("once", at, at.Add(-100*day)),
	}
	lapsing := funnel.Where(model.All(model.Orders(2), model.Not(model.Within(90*day, lifecycle.OrderCompleted))))
	var got []string
	for c, err := range lapsing.Filter(funnel.Customers(cs)) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, c.ID)
	}
	if diff := cmp.Diff([]string{"lapsing"}, got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", lapsing.Name, diff)
	}
	if want := "all(orders >= 2, not(within(order_completed, 90d)))"; lapsing.Name != want {
		t.Errorf("Name = %q, want %q", lapsing.Name, want)
	}

	for _, seg := range []funnel.Segment{
		funnel.Where(model.Count("order_complete", 1)), // a typo: not a valid type
		funnel.Where(model.Rule{}),
		funnel.HasEvent("order_complete", 1),
		funnel.SpentAtLeast("eur", 100),
		funnel.SpentAtLeast("EUR", 0),
		funnel.ScoreBelow(11),
		funnel.Not(funnel.Where(model.Score(12))),
	} {
		n := 0
		for _, err := range seg.Filter(funnel.Customers(cs)) {
			n++
			if !errors.Is(err, funnel.ErrInvalidInput) || !errors.Is(err, model.ErrInvalidModel) {
				t.Errorf("%q: error = %v, want ErrInvalidInput wrapping model.ErrInvalidModel", seg.Name, err)
			}
		}
		if n != 1 {
			t.Errorf("%q: yielded %d times, want one error", seg.Name, n)
		}
	}
}

// TestScoreBelowOutOfRange: ScoreBelow with n outside 1..10 is an error
// wrapping ErrInvalidInput and model.ErrInvalidModel, as for any malformed
// rule (ScoreBelow(0)'s wrapped only ErrInvalidInput; found by an audit).
func TestScoreBelowOutOfRange(t *testing.T) {
	g := model.SterneCutler().Stages()
	for _, n := range []int{-3, 0, 11} {
		_, err := funnel.New(g, funnel.Only(funnel.ScoreBelow(n)))
		if !errors.Is(err, funnel.ErrInvalidInput) || !errors.Is(err, model.ErrInvalidModel) {
			t.Errorf("ScoreBelow(%d): error %v; want one wrapping ErrInvalidInput and model.ErrInvalidModel", n, err)
		}
	}
}
