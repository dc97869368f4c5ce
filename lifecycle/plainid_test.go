package lifecycle

import "testing"

// TestPlainIDAgrees checks checkID's one-pass fast path (plainID) against
// the full rule: every ASCII byte at the start, inside and at the end of an
// ID is accepted by both or refused, and whatever plainID accepts the full
// rule accepts.
func TestPlainIDAgrees(t *testing.T) {
	for b := range 0x100 {
		c := string([]byte{byte(b)})
		for _, id := range []string{c, c + "x", "x" + c, "x" + c + "x"} {
			fast := plainID(id)
			err := ValidateID("id", id)
			if fast && err != nil {
				t.Fatalf("plainID(%q) accepts an ID ValidateID refuses: %v", id, err)
			}
			if b < 0x80 && !fast && err == nil {
				t.Fatalf("plainID(%q) refuses an ASCII ID ValidateID accepts", id)
			}
		}
	}
}
