package typeindex

import (
	"strings"
	"testing"
)

// TestFind: each name gets its own slot unless it is short or its slot
// is taken, in which case the slot is marked.
func TestFind(t *testing.T) {
	names := []string{"order_completed", "tip", "site_visited"}
	// A name with order_completed's slot.
search:
	for b := byte('a'); b <= 'z'; b++ {
		for n := range 64 {
			c := string(b) + strings.Repeat("q", n) + "_order_completed"
			if Slot(c) == Slot(names[0]) {
				names = append(names, c)
				break search
			}
		}
	}
	if len(names) != 4 {
		t.Fatal("no name collides with order_completed")
	}
	l := Find(names)
	if l.Slots[0] != Slot(names[0]) || l.Slots[2] != Slot(names[2]) {
		t.Errorf("slots %v", l.Slots)
	}
	if l.Slots[1] != -1 || l.Slots[3] != -1 || !l.Marked[Slot(names[0])] {
		t.Errorf("short or colliding names placed: slots %v, marked %v", l.Slots, l.Marked[Slot(names[0])])
	}
	if f := Free(l); f < 0 || f == l.Slots[0] || f == l.Slots[2] {
		t.Errorf("Free = %d", f)
	}
}

// TestAlias: every slot has an alias of its own, which is no valid event
// type (it holds NUL bytes).
func TestAlias(t *testing.T) {
	seen := map[string]bool{}
	for s := range Size {
		a := Alias(s)
		if got := Slot(a); got != s {
			t.Errorf("Alias(%d) = %q has slot %d", s, a, got)
		}
		if seen[a] || a[1] != 0 {
			t.Errorf("Alias(%d) = %q", s, a)
		}
		seen[a] = true
	}
	var full Layout
	for s := range Size {
		full.Slots = append(full.Slots, s)
	}
	if f := Free(&full); f != -1 {
		t.Errorf("Free of a full table = %d", f)
	}
}
