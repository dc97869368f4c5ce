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
// the list holds it, and none that was deleted; the list's chunks hold
// every record once, in order.
func TestShardIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	s := &shard{seed: maphash.MakeSeed()}
	want := map[string]bool{}
	for step := range 20_000 {
		id := "c" + strconv.Itoa(r.IntN(3000))
		h := hashID(s.seed, id)
		_, there := s.get(h, id)
		if there != want[id] {
			t.Fatalf("step %d: get(%q) found %v; want %v", step, id, there, want[id])
		}
		switch {
		case !there:
			r, _, err := s.insert(h, id)
			if err != nil {
				t.Fatal(err)
			}
			r.put(id, nil, nil) // the ID alone, the head of data
			want[id] = true
		case r.IntN(2) == 0:
			s.remove(h, id)
			delete(want, id)
		}
		if step%997 == 0 || step == 19_999 {
			if s.list.len() != len(want) || s.idx.n != len(want) {
				t.Fatalf("step %d: %d records, %d entries; want %d", step, s.list.len(), s.idx.n, len(want))
			}
			for i := range s.list.len() {
				id := s.list.at(i).id()
				if p := s.idx.get(hashID(s.seed, id), id, &s.list); p != i || !want[id] {
					t.Fatalf("step %d: %q at %d, index says %d (want it stored: %v)", step, id, i, p, want[id])
				}
			}
			i := 0
			for r := range s.list.all {
				if r != s.list.at(i) {
					t.Fatalf("step %d: all yields record %d at %p, at says %p", step, i, r, s.list.at(i))
				}
				i++
			}
			if i != len(want) {
				t.Fatalf("step %d: all yields %d records; want %d", step, i, len(want))
			}
			if s.idx.n*4 > len(s.idx.slots)*3 {
				t.Fatalf("step %d: %d entries in %d slots", step, s.idx.n, len(s.idx.slots))
			}
		}
	}
}
