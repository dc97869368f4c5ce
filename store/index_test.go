package store

import (
	"hash/maphash"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestShardIndex puts, finds and deletes customers of one shard in a
// random churn over 3,000 IDs, against a map (the table grows, and deletes
// shift entries back and move the last record): every ID is found where
// the list holds it, and none that was deleted.
func TestShardIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	s := &shard{idx: index{seed: maphash.MakeSeed()}}
	want := map[string]bool{}
	for step := range 20_000 {
		id := "c" + strconv.Itoa(r.IntN(3000))
		h := hashID(s.idx.seed, id)
		_, there := s.get(h, id)
		if there != want[id] {
			t.Fatalf("step %d: get(%q) found %v; want %v", step, id, there, want[id])
		}
		switch {
		case !there:
			s.insert(h, &record{id: id})
			want[id] = true
		case r.IntN(2) == 0:
			s.remove(h, id)
			delete(want, id)
		}
		if step%997 == 0 || step == 19_999 {
			if len(s.list) != len(want) || s.idx.n != len(want) {
				t.Fatalf("step %d: %d records, %d entries; want %d", step, len(s.list), s.idx.n, len(want))
			}
			for i := range s.list {
				id := s.list[i].id
				if p := s.idx.get(hashID(s.idx.seed, id), id, s.list); p != i || !want[id] {
					t.Fatalf("step %d: %q at %d, index says %d (want it stored: %v)", step, id, i, p, want[id])
				}
			}
			if s.idx.n*4 > len(s.idx.slots)*3 {
				t.Fatalf("step %d: %d entries in %d slots", step, s.idx.n, len(s.idx.slots))
			}
		}
	}
}
