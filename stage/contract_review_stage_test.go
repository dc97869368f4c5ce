package stage_test

import (
	"strings"
	"testing"

	"github.com/clmkit/clm/stage"
)

// A review found OffPath true for kinds that are none of the four ("off
// the path: a Decline, an Exit or a WinBack"), and New silent about an
// unreachable stage whenever another stage's ID was a duplicate or empty
// (the package doc: New "reports every problem it finds").
func TestContractReviewOffPathAndUnreachable(t *testing.T) {
	for k, want := range map[stage.Kind]bool{stage.Path: false, stage.Decline: true, stage.Exit: true, stage.WinBack: true, 4: false, 255: false} {
		if got := k.OffPath(); got != want {
			t.Errorf("%v.OffPath() = %v, want %v", k, got, want)
		}
	}
	for _, dup := range []string{"b", ""} {
		stages := []stage.Stage{{ID: "a"}, {ID: "b"}, {ID: stage.ID(dup)}, {ID: "island"}}
		_, err := stage.New(stages, []stage.Edge{{From: "a", To: "b", Kind: stage.Advance}})
		if err == nil || !strings.Contains(err.Error(), `stage "island" cannot be reached`) {
			t.Errorf("with a stage ID %q twice or empty: New = %v, want the unreachable island reported", dup, err)
		}
		if err != nil && strings.Contains(err.Error(), `stage "b" cannot be reached`) {
			t.Errorf("New reports the reached b as unreachable: %v", err)
		}
	}
}
