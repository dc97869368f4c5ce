package store_test

import (
	"testing"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store"
	"github.com/clmkit/clm/store/storetest"
)

func TestMemoryConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) lifecycle.Store { return store.NewMemory() })
}

func TestMemoryTestStore(t *testing.T) {
	s := store.NewMemory()
	if err := storetest.TestStore(s); err != nil {
		t.Fatal(err)
	}
	// Running it again on the same, now non-empty store must also pass.
	if err := storetest.TestStore(s); err != nil {
		t.Fatal(err)
	}
}
