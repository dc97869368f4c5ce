package store

import "hash/maphash"

// index maps the customer IDs of a shard to their positions in its dense
// list of records: open addressing with linear probing over 64-bit words,
// each the upper 32 bits of the ID's hash (the tag) and the position plus
// one (0 marks a free slot). It replaces a map[string]int: the hash is the
// one that chose the shard (computed once per call, not twice), a look-up
// reads one word and then the record it names (which the caller reads
// anyway) to compare IDs, and it takes 8 bytes a slot instead of a map
// entry's 24 and more. The tag also chooses the slot, so growing the
// table or closing a gap never hashes an ID again. The caller holds the
// shard's lock.
type index struct {
	slots []uint64
	n     int
}

// hashID returns the hash of a customer ID; its lowest 6 bits choose the
// shard and its upper 32 bits are the tag, which chooses the slot.
func hashID(seed maphash.Seed, id string) uint64 { return maphash.String(seed, id) }

// home returns the slot where the probe for a tag (an entry's upper 32
// bits, or a hash's) starts.
func (x *index) home(tag uint64) int { return int(tag) & (len(x.slots) - 1) }

// find returns the slot of id (whose hash is h) and its position in list,
// or the free slot that ends its probe and -1.
func (x *index) find(h uint64, id string, l *list) (slot, pos int) {
	if len(x.slots) == 0 {
		return -1, -1
	}
	tag := h >> 32
	mask := len(x.slots) - 1
	for i := x.home(tag); ; i = (i + 1) & mask {
		e := x.slots[i]
		if e == 0 {
			return i, -1
		}
		if e>>32 == tag {
			if p := int(uint32(e)) - 1; l.at(p).id() == id {
				return i, p
			}
		}
	}
}

// get returns the position of id, or -1.
func (x *index) get(h uint64, id string, l *list) int {
	_, p := x.find(h, id, l)
	return p
}

// add records that id, which is not in the index, is at position pos.
func (x *index) add(h uint64, id string, pos int, l *list) {
	if (x.n+1)*4 > len(x.slots)*3 {
		x.grow()
	}
	slot, _ := x.find(h, id, l)
	x.slots[slot] = h>>32<<32 | uint64(pos+1)
	x.n++
}

// grow doubles the table (at least 8 slots) and puts every entry back.
func (x *index) grow() {
	old := x.slots
	x.slots = make([]uint64, max(8, 2*len(old)))
	mask := len(x.slots) - 1
	for _, e := range old {
		if e == 0 {
			continue
		}
		i := x.home(e >> 32)
		for x.slots[i] != 0 {
			i = (i + 1) & mask
		}
		x.slots[i] = e
	}
}

// move records that the entry of id (hash h) is now at position pos.
func (x *index) move(h uint64, id string, pos int, l *list) {
	slot, _ := x.find(h, id, l)
	x.slots[slot] = h>>32<<32 | uint64(pos+1)
}

// remove deletes the entry in slot, shifting back the entries after it
// that its removal would cut off from their home slot.
func (x *index) remove(slot int) {
	mask := len(x.slots) - 1
	x.slots[slot] = 0
	x.n--
	hole := slot
	for i := (slot + 1) & mask; x.slots[i] != 0; i = (i + 1) & mask {
		e := x.slots[i]
		home := x.home(e >> 32)
		// e may fill the hole unless its home lies cyclically in (hole, i].
		if (i-home)&mask >= (i-hole)&mask {
			x.slots[hole], x.slots[i] = e, 0
			hole = i
		}
	}
}
