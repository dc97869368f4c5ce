package storetest

import (
	"testing"

	"github.com/clmkit/clm/store"
)

func TestSeenCasesOnMemory(t *testing.T) {
	for i, c := range SeenCases() {
		t.Run(c.Name, func(t *testing.T) {
			if err := runCase(c, store.NewMemory(), "seen"+string(rune('a'+i))+"-"); err != nil {
				t.Error(err)
			}
		})
	}
}
