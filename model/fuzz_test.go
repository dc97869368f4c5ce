package model_test

import (
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
)

// FuzzStage folds fuzzed events into facts and checks that every built-in
// answers a declared stage without panicking, at any time.
func FuzzStage(f *testing.F) {
	f.Add([]byte{11, 0, 11, 30, 12, 31, 15, 40, 17, 41}, int64(50))
	f.Add([]byte{1, 0, 1, 1, 1, 2, 8, 3, 11, 4}, int64(-1000))
	f.Add([]byte{13, 0, 14, 255, 22, 7}, int64(1<<40))
	types := lifecycle.StandardTypes()
	models := []lifecycle.Model{model.SterneCutler(), model.SixStage(), model.FiveStage(),
		model.SixStage(model.LapseAfter(0)), model.FiveStage(model.NurtureAfter(-1))}
	f.Fuzz(func(t *testing.T, data []byte, nowDays int64) {
		var facts lifecycle.Facts
		for i := 0; i+1 < len(data); i += 2 {
			typ := lifecycle.EventType("fuzz.custom")
			if int(data[i]) < len(types) {
				typ = types[data[i]]
			}
			e := lifecycle.Event{Type: typ, Time: t0.Add(time.Duration(data[i+1]) * 24 * time.Hour), Amount: int64(data[i+1]) * 100, Currency: "EUR",
				Attrs: map[string]string{lifecycle.ScoreAttr: "7"}}
			facts.Add(&e)
		}
		now := t0.Add(time.Duration(nowDays%(1<<20)) * 24 * time.Hour)
		for _, m := range models {
			if s := m.Stage(&facts, now); !m.Stages().Has(s) {
				t.Fatalf("%s returned undeclared stage %q", m.Name(), s)
			}
		}
	})
}
