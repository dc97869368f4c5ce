package model_test

import (
	"strconv"
	"time"

	"github.com/clmkit/clm/lifecycle"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// day returns t0 plus n days.
func day(n float64) time.Time { return t0.Add(time.Duration(n * float64(24*time.Hour))) }

// ev is a test event: a type on a day (after t0), with a survey score.
type ev struct {
	typ   lifecycle.EventType
	at    float64
	score int
}

func e(t lifecycle.EventType, at float64) ev { return ev{typ: t, at: at} }

func survey(at float64, score int) ev { return ev{typ: lifecycle.SurveyAnswered, at: at, score: score} }

// orders returns n orders, one every gap days from start.
func orders(n int, start, gap float64) []ev {
	var out []ev
	for i := 0; i < n; i++ {
		out = append(out, e(lifecycle.OrderCompleted, start+float64(i)*gap))
	}
	return out
}

func cat(parts ...[]ev) []ev {
	var out []ev
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// facts folds the events into facts, as a Tracker would.
func facts(evs ...ev) *lifecycle.Facts {
	f := new(lifecycle.Facts)
	for i, x := range evs {
		e := lifecycle.Event{ID: strconv.Itoa(i), CustomerID: "c", Type: x.typ, Time: day(x.at)}
		switch x.typ {
		case lifecycle.OrderCompleted, lifecycle.OrderRefunded, lifecycle.SubscriptionRenewed:
			e.Amount, e.Currency = 2500, "EUR"
		case lifecycle.SurveyAnswered:
			e.Attrs = map[string]string{lifecycle.ScoreAttr: strconv.Itoa(x.score)}
		}
		f.Add(&e)
	}
	return f
}
