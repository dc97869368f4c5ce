package clv

import (
	"fmt"
	"math"
)

// rfmKey identifies identical calibration rows.
type rfmKey struct {
	x     int64
	tx, t float64
}

// rfmTable is an open-addressing hash table (linear probing) that counts
// identical (Frequency, Recency, T) rows. It is several times faster than a
// Go map with a struct key for the million-row case, where collapsing
// dominates the fit time.
type rfmTable struct {
	slots  []int32 // 1 + index into keys; 0 marks an empty slot
	keys   []rfmKey
	counts []float64
}

func (tb *rfmTable) hash(k rfmKey) uint64 {
	h := uint64(k.x)*0x9E3779B97F4A7C15 ^ math.Float64bits(k.tx)*0xBF58476D1CE4E5B9 ^ math.Float64bits(k.t)*0x94D049BB133111EB
	h ^= h >> 31
	h *= 0xD6E8FEB86659FD93
	h ^= h >> 32
	return h
}

func (tb *rfmTable) add(k rfmKey) {
	if 2*(len(tb.keys)+1) > len(tb.slots) {
		tb.grow()
	}
	mask := uint64(len(tb.slots) - 1)
	for h := tb.hash(k) & mask; ; h = (h + 1) & mask {
		s := tb.slots[h]
		if s == 0 {
			tb.keys = append(tb.keys, k)
			tb.counts = append(tb.counts, 1)
			tb.slots[h] = int32(len(tb.keys))
			return
		}
		if tb.keys[s-1] == k {
			tb.counts[s-1]++
			return
		}
	}
}

func (tb *rfmTable) grow() {
	n := max(1024, 2*len(tb.slots))
	tb.slots = make([]int32, n)
	mask := uint64(n - 1)
	for i, k := range tb.keys {
		h := tb.hash(k) & mask
		for tb.slots[h] != 0 {
			h = (h + 1) & mask
		}
		tb.slots[h] = int32(i + 1)
	}
}

// collapseCustomers validates the calibration rows of customers and counts
// identical ones. It also returns Σ Frequency and Σ T.
func collapseCustomers(customers []Customer) (tb *rfmTable, sumX, sumT float64, err error) {
	if len(customers) == 0 {
		return nil, 0, 0, invalidf("customers: empty")
	}
	tb = &rfmTable{}
	for i, c := range customers {
		if err := checkCustomer(c); err != nil {
			return nil, 0, 0, fmt.Errorf("customers[%d]: %w", i, err)
		}
		sumX += float64(c.Frequency)
		sumT += c.T
		// +0 turns a negative zero into +0 so the bit patterns compare equal.
		tb.add(rfmKey{int64(c.Frequency), c.Recency + 0, c.T + 0})
	}
	return tb, sumX, sumT, nil
}
