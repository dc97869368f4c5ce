package store

import "math/bits"

// chunks is a list in chunks that are never copied: chunk k holds 8<<k
// elements (8, 16, 32, …), so the list takes at most about twice the
// memory its elements need, as a slice grown by append does, but adding
// one never moves the others. A shard's records and the change feed are
// kept so: a slice's growth copied every record of the shard (or every
// entry of the feed), with a write barrier for each of their pointers
// while the garbage collector ran, which took a third of the time of
// recording a new customer. Element i is in chunk bits.Len(i+8)-4.
type chunks[T any] struct {
	c [][]T
	n int
}

// list is a shard's dense list of records.
type list = chunks[record]

// locate returns the chunk and offset of element i.
func locate(i int) (chunk, off int) {
	j := uint(i) + 8
	k := bits.Len(j) - 4
	return k, int(j - 8<<k)
}

// at returns element i, which must be below len.
func (l *chunks[T]) at(i int) *T {
	k, off := locate(i)
	return &l.c[k][off]
}

// len returns the number of elements.
func (l *chunks[T]) len() int { return l.n }

// push appends a zero element and returns it, for the caller to fill in
// place (copying a whole element in would take a write barrier for each
// of its pointers while the garbage collector runs).
func (l *chunks[T]) push() *T {
	k, off := locate(l.n)
	if k == len(l.c) {
		l.c = append(l.c, make([]T, 8<<k))
	}
	l.n++
	return &l.c[k][off] // zero: made so, or zeroed by pop
}

// pop removes the last element.
func (l *chunks[T]) pop() {
	l.n--
	var zero T
	*l.at(l.n) = zero
}

// all yields every element, in order.
func (l *chunks[T]) all(yield func(*T) bool) {
	n := l.n
	for k := 0; n > 0; k++ {
		c := l.c[k][:min(n, 8<<k)]
		for i := range c {
			if !yield(&c[i]) {
				return
			}
		}
		n -= len(c)
	}
}
