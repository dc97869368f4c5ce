package model

import (
	"slices"
	"testing"

	"github.com/clmkit/clm/lifecycle"
)

// TestKinds: every standard event type has its bit, under its own slot,
// so that a type added to lifecycle's vocabulary and not here fails this
// test instead of being read as a custom type.
func TestKinds(t *testing.T) {
	std := lifecycle.StandardTypes()
	if len(kindOrder) != len(std) {
		t.Errorf("model knows %d standard types, lifecycle has %d", len(kindOrder), len(std))
	}
	slots := map[int]lifecycle.EventType{}
	for _, ty := range std {
		if !slices.Contains(kindOrder, ty) {
			t.Errorf("standard type %q has no kind in model (add a k constant and a kindOrder entry)", ty)
		}
		s := slot(ty)
		if other, dup := slots[s]; dup {
			t.Errorf("%q and %q share slot %d: change the multipliers in slot and summarize", other, ty, s)
		}
		slots[s] = ty
		if e := kinds[s]; e.t != ty || len(ty) < 4 {
			t.Errorf("slot %d of %q holds %q", s, ty, e.t)
		}
	}
	for ty, k := range map[lifecycle.EventType]kind{
		lifecycle.AdImpression: kAdImpression, lifecycle.OrderCompleted: kOrderCompleted,
		lifecycle.SubscriptionRenewed: kSubscriptionRenewed, lifecycle.ReferralConverted: kReferralConverted,
		lifecycle.SubscriptionStarted: kSubscriptionStarted,
	} {
		if got := kinds[slot(ty)].k; got != k {
			t.Errorf("%q has bit %b, want %b", ty, got, k)
		}
	}
	// Short custom types are skipped, never read out of range.
	var f lifecycle.Facts
	f.Tallies = []lifecycle.Tally{{Type: "x", Count: 1}, {Type: "ab", Count: 2}, {Type: "a.b", Count: 3}}
	if s := summarize(&f); s.has != 0 {
		t.Errorf("short custom types gave bits %b", s.has)
	}
}
