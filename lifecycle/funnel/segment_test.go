package funnel_test

import (
	"context"
	"errors"
	"slices"
	"testing"

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
			events[i].Time = t0
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
		mk("risk-ticket", lifecycle.Transition{To: model.Acquisition}, order(100), ev(lifecycle.TicketOpened), ev(lifecycle.TicketOpened), ev(lifecycle.TicketResolved), score("3")),
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
		{"empty all matches everyone", funnel.All(), []string{"loyal-beauty", "loyal-other", "new", "risk-solved", "risk-ticket"}},
		{"empty any matches no one", funnel.Any(), nil},
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
