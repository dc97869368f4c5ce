package store

import (
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
)

// TestSymbolsNumberEachNameOnce: every name gets one number, the same at
// every look-up, from any goroutine, and names maps it back; the table
// refuses names past maxSymbols without changing the numbers given.
func TestSymbolsNumberEachNameOnce(t *testing.T) {
	y := newSymbols()
	id, ok := y.id("")
	require.True(t, ok)
	require.Zero(t, id, "the empty string is 0")
	const n, workers = 3000, 4
	got := make([][]uint32, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			ids := make([]uint32, n)
			// Each worker adds and looks up in its own order, so that
			// additions and look-ups of the same names race.
			step := []int{7, 11, 13, 17}[w] // prime to n: every name
			for k := range 3 * n {
				i := (k*step + w) % n
				id, ok := y.id("name-" + strconv.Itoa(i))
				if !ok {
					t.Errorf("name %d refused", i)
					return
				}
				if ids[i] != 0 && ids[i] != id {
					t.Errorf("name %d numbered %d, then %d", i, ids[i], id)
					return
				}
				ids[i] = id
			}
			got[w] = ids
		})
	}
	wg.Wait()
	names := *y.names.Load()
	require.Len(t, names, n+1)
	seen := make(map[uint32]bool, n)
	for i := range n {
		id := got[0][i]
		for w := 1; w < workers; w++ {
			require.Equal(t, id, got[w][i], "name %d", i)
		}
		require.False(t, seen[id], "number %d given twice", id)
		seen[id] = true
		require.Equal(t, "name-"+strconv.Itoa(i), names[id])
		again, ok := y.id("name-" + strconv.Itoa(i))
		require.True(t, ok)
		require.Equal(t, id, again)
	}
	for i := len(names); i < maxSymbols; i++ {
		_, ok := y.id("more-" + strconv.Itoa(i))
		require.True(t, ok)
	}
	_, ok = y.id("one too many")
	require.False(t, ok, "a full table refuses a new name")
	for i := range n {
		id, ok := y.id("name-" + strconv.Itoa(i))
		require.True(t, ok, "a full table still numbers the names it has")
		require.Equal(t, got[0][i], id)
	}
}

// TestSymbolsCanonical: a standard event type is kept as the library's
// own constant, any other name as a copy of the caller's bytes.
func TestSymbolsCanonical(t *testing.T) {
	y := newSymbols()
	buf := []byte(string(lifecycle.OrderCompleted))
	id, ok := y.id(string(buf))
	require.True(t, ok)
	name := (*y.names.Load())[id]
	require.Equal(t, string(lifecycle.OrderCompleted), name)
	other := []byte("custom_type")
	id, ok = y.id(string(other))
	require.True(t, ok)
	other[0] = 'X'
	require.Equal(t, "custom_type", (*y.names.Load())[id])
}

// BenchmarkSymbolsID looks up names the table has, as encoding a customer
// does for each tally, sum and transition.
func BenchmarkSymbolsID(b *testing.B) {
	y := newSymbols()
	names := []string{"reach", "acquisition", "conversion", "retention", "loyalty",
		string(lifecycle.OrderCompleted), string(lifecycle.SiteVisited), "EUR", "USD", "product_viewed"}
	for _, s := range names {
		y.id(s)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, ok := y.id(names[i]); !ok {
			b.Fatal("refused")
		}
		i++
		if i == len(names) {
			i = 0
		}
	}
}
