// Package typeindex lays out the look-up tables of the standard event
// vocabulary: lifecycle (EventType.Standard and Kind) and model (the
// built-ins' one-pass summary) each keep their own table, so that each
// look-up stays in its package and inlines, and both build it at init
// with [Find] from lifecycle's one vocabulary table.
//
// A name of at least 4 bytes goes to slot [Slot] of a table of [Size]
// slots, a hash of its length, its first byte and its fourth byte from
// the end with constant multipliers (a few instructions: the look-ups
// write it out). Names that cannot have a slot of their own (a name
// whose slot another name took first, a name shorter than 4 bytes) are
// not refused: lifecycle finds them by a linear search when a look-up
// lands on a marked slot, model reads them as an [Alias] in a free slot.
// Every standard type has a slot of its own today; lifecycle's
// TestVocabularyPlaced names the types a new one collides with, so that
// the multipliers can be changed if the slower path ever matters.
package typeindex

// Size is the number of slots of a table. Alias relies on it being 64.
const Size = 64

// Slot returns the slot of name, which must be at least 4 bytes long.
func Slot(name string) int {
	return (len(name) + int(name[0])*5 + int(name[len(name)-4])<<3) & (Size - 1)
}

// Layout is a table's layout for a list of names.
type Layout struct {
	// Slots[i] is the slot of name i, or -1 when the name is looked up
	// by the slow path.
	Slots []int
	// Marked[s] reports that a name on the slow path has slot s: a
	// look-up that lands on s and finds another name there must search
	// the slow path.
	Marked [Size]bool
}

// Find returns the layout of names, which must be distinct: each name
// takes its slot unless an earlier name has it.
func Find(names []string) *Layout {
	l := &Layout{Slots: make([]int, len(names))}
	var taken [Size]bool
	for i, name := range names {
		if len(name) < 4 {
			l.Slots[i] = -1
			continue
		}
		s := Slot(name)
		if taken[s] {
			l.Slots[i] = -1
			l.Marked[s] = true
			continue
		}
		taken[s] = true
		l.Slots[i] = s
	}
	return l
}

// Free returns a slot no name of l has, or -1 when every slot is taken.
// The slots of names on the slow path are not free.
func Free(l *Layout) int {
	var taken [Size]bool
	for _, s := range l.Slots {
		if s >= 0 {
			taken[s] = true
		}
	}
	for s, t := range taken {
		if !t && !l.Marked[s] {
			return s
		}
	}
	return -1
}

// Alias returns a name of 5 bytes whose slot is slot and which no valid
// event type can equal (it holds NUL bytes): a table gives a name on the
// slow path an alias in a free slot, and reads the name as its alias.
func Alias(slot int) string {
	// (5 + c*5) & 63 == slot, with 13 the inverse of 5 modulo 64.
	c := 128 + ((slot-5)*13%Size+Size)%Size
	return string([]byte{byte(c), 0, 0, 0, 0})
}
