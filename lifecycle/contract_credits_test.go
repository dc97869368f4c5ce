package lifecycle_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

func TestContractConcurrentCredits(t *testing.T) {
	ctx := context.Background()
	for _, plain := range []bool{false, true} {
		mem := store.NewMemory()
		var st lifecycle.Store = mem
		if plain {
			st = rvPlain{mem}
		}
		h := &rvHookLog{}
		tr := lifecycle.NewTracker(model.SterneCutler(), st, lifecycle.WithClock(rvClock), lifecycle.WithHook(h.hook))
		if _, err := tr.Record(ctx, rvEv("v", "ref", lifecycle.SiteVisited, rvT0.Add(-1000*time.Hour))); err != nil {
			t.Fatal(err)
		}
		var evs []lifecycle.Event
		for i := 0; i < 40; i++ {
			kid := fmt.Sprintf("kid%02d", i)
			o := rvOrder("o1", kid, rvT0.Add(-time.Duration(100-i)*time.Hour))
			o.ReferrerID = "ref"
			o2 := rvOrder("o0", kid, rvT0.Add(-time.Duration(200-i)*time.Hour)) // earlier order, no referrer
			evs = append(evs, o, o, o2)
		}
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := len(evs) - 1 - w; i >= 0; i -= 8 {
					if _, err := tr.Record(ctx, evs[i]); err != nil {
						t.Error(err)
					}
				}
			}(w)
		}
		wg.Wait()
		ref, err := mem.Get(ctx, "ref")
		if err != nil {
			t.Fatal(err)
		}
		if len(ref.Facts.Referrals) != 40 {
			t.Errorf("plain=%v: %d credits", plain, len(ref.Facts.Referrals))
		}
		for i, r := range ref.Facts.Referrals {
			want := rvT0.Add(-time.Duration(200-i) * time.Hour)
			if r.Customer != fmt.Sprintf("kid%02d", i) || !r.At.Equal(want) {
				t.Errorf("plain=%v: credit %d %+v, want at %v", plain, i, r, want)
			}
		}
		if ref.Facts.Events() != 41 || ref.Seen.Len() != 1 || !ref.AsOf.Equal(rvT0.Add(-1000*time.Hour)) {
			t.Errorf("plain=%v: events %d seen %d asof %v", plain, ref.Facts.Events(), ref.Seen.Len(), ref.AsOf)
		}
		rvCheckHooks(t, fmt.Sprintf("credits plain=%v", plain), h, mem)
	}
}

func TestContractLongIDCredit(t *testing.T) {
	ctx := context.Background()
	tr, st := rvTracker(t)
	long := strings.Repeat("é", 128) // 256 bytes
	if _, err := tr.Record(ctx, rvOrder("v", "r1", rvT0.Add(-300*24*time.Hour))); err != nil {
		t.Fatal(err)
	}
	o := rvOrder(strings.Repeat("i", 256), long, rvT0.Add(-time.Hour))
	o.ReferrerID = "r1"
	if _, err := tr.Record(ctx, o); err != nil {
		t.Fatal(err)
	}
	r, _ := st.Get(ctx, "r1")
	if len(r.Facts.Referrals) != 1 || r.Facts.Referrals[0].Customer != long {
		t.Fatalf("credit %+v", r.Facts.Referrals)
	}
	last := r.History[len(r.History)-1]
	if last.Cause != lifecycle.ReferralEventID(long) || len(last.Cause) != lifecycle.MaxCauseLen {
		t.Errorf("cause %q (len %d)", last.Cause, len(last.Cause))
	}
	c, _ := st.Get(ctx, long)
	if !c.HasSeen(o.ID) || c.ID != long {
		t.Error("long customer")
	}
}
