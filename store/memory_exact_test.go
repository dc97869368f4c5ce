package store_test

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store"
)

func exactJSON(t *testing.T, c *lifecycle.Customer) string {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// store.Memory's doc: "What Put stores, Get returns exactly, except that
// empty slices come back nil: a customer the compact form cannot hold
// exactly ... is kept as is."
func TestMemoryExactHostile(t *testing.T) {
	ctx := context.Background()
	utc := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	cases := map[string]func(c *lifecycle.Customer){
		"plain":       func(c *lifecycle.Customer) {},
		"fixed zone":  func(c *lifecycle.Customer) { c.Since = utc.In(time.FixedZone("X", 3*3600+30*60)) },
		"zone secs":   func(c *lifecycle.Customer) { c.AsOf = utc.In(time.FixedZone("", 1172)) },
		"year 1600":   func(c *lifecycle.Customer) { c.Facts.First = time.Date(1600, 1, 1, 0, 0, 0, 1, time.UTC) },
		"year 2300":   func(c *lifecycle.Customer) { c.Due = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC) },
		"never":       func(c *lifecycle.Customer) { c.Due = lifecycle.Never },
		"neg count":   func(c *lifecycle.Customer) { c.Facts.Tallies[0].Count = -3 },
		"big count":   func(c *lifecycle.Customer) { c.Facts.Tallies[0].Count = math.MaxInt64 },
		"long id":     func(c *lifecycle.Customer) { c.ID = strings.Repeat("i", 300) },
		"long cause":  func(c *lifecycle.Customer) { c.History[0].Cause = strings.Repeat("c", 70000) },
		"legacy seen": func(c *lifecycle.Customer) { c.Seen.Add(lifecycle.LegacyKeyOf("old")) },
		"nul id":      func(c *lifecycle.Customer) { c.ID = "a\x00b" },
		"bad utf8":    func(c *lifecycle.Customer) { c.ID = "a\xffb"; c.Stage = "st\xff" },
		"max amount":  func(c *lifecycle.Customer) { c.Facts.Sums[0].Amount = math.MaxInt64 },
		"score":       func(c *lifecycle.Customer) { c.Facts.Score, c.Facts.ScoreAt = 10, utc },
	}
	for name, mod := range cases {
		t.Run(name, func(t *testing.T) {
			m := store.NewMemory()
			c := &lifecycle.Customer{
				ID: "c1", Stage: "conversion", Since: utc, AsOf: utc, Due: utc.Add(time.Hour), Version: 1,
				Facts: lifecycle.Facts{
					First: utc, Last: utc,
					Tallies:    []lifecycle.Tally{{Type: lifecycle.OrderCompleted, Count: 1, First: utc, Last: utc}},
					Sums:       []lifecycle.Sum{{Type: lifecycle.OrderCompleted, Currency: "EUR", Amount: 4999}},
					ReferredBy: "r1", ReferredAt: utc,
				},
				History: []lifecycle.Transition{{To: "conversion", At: utc, Cause: "e1"}},
			}
			c.Seen.Add(lifecycle.KeyOf("e1"))
			mod(c)
			want := exactJSON(t, c)
			if err := m.Put(ctx, c, c.Version-1); err != nil {
				t.Skipf("Put refused: %v", err)
			}
			got, err := m.Get(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if g := exactJSON(t, got); g != want {
				t.Errorf("Get differs from Put:\n put %s\n got %s", want, g)
			}
			// Load and Scan too.
			var l lifecycle.Customer
			if err := m.Load(ctx, c.ID, &l); err != nil || exactJSON(t, &l) != want {
				t.Errorf("Load differs: %v", err)
			}
			for s, err := range m.Scan(ctx) {
				if err != nil || exactJSON(t, s) != want {
					t.Errorf("Scan differs: %v", err)
				}
			}
		})
	}
}
