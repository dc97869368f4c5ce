package shop_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/clmkit/clm/examples/shop/shop"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// FuzzPostEvents posts arbitrary bodies: the handler must answer with one
// of the documented codes and never panic (a panic would be a 500 here).
func FuzzPostEvents(f *testing.F) {
	for _, s := range []string{
		visit, order, track, "[" + visit + "," + order + "]", `{"batch":[` + track + `]}`,
		`{"type":"identify","userId":"c9","messageId":"i-1","timestamp":"2026-03-05T10:00:00Z"}`,
		`[{"id":"x"}]`, `{"batch":null}`, `[1,2]`, `{"type":"track","properties":{"total":"1e999"}}`, "",
	} {
		f.Add(s)
	}
	clock := func() time.Time { return now }
	srv := shop.New(lifecycle.NewTracker(model.SterneCutler(), store.NewMemory(), lifecycle.WithClock(clock)))
	f.Fuzz(func(t *testing.T, body string) {
		rec := do(t, srv, http.MethodPost, "/v1/events", jsonCT, body)
		switch rec.Code {
		case http.StatusAccepted, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		default:
			t.Fatalf("POST %q: status %d: %s", body, rec.Code, rec.Body)
		}
	})
}
