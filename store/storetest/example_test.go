package storetest_test

import (
	"fmt"

	"github.com/clmkit/clm/store"
	"github.com/clmkit/clm/store/storetest"
)

// TestStore checks any lifecycle.Store outside the testing package and
// returns every rule it breaks. In a test, prefer storetest.Run:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) lifecycle.Store { return mystore.New(t) })
//	}
func ExampleTestStore() {
	err := storetest.TestStore(store.NewMemory())
	fmt.Println("store.Memory conforms:", err == nil)
	// Output:
	// store.Memory conforms: true
}
