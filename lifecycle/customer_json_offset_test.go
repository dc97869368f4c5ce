package lifecycle_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/clmkit/clm/lifecycle"
)

// Customer.UnmarshalJSON refuses an offset of 24 hours or more, which
// MarshalJSON cannot write: "+24:00" was read (time.Time's decoder takes
// it) into a customer that could not be written back.
func TestCustomerJSONOffset24h(t *testing.T) {
	for _, at := range []string{"2025-01-01T00:00:00+24:00", "2025-01-01T00:00:00-24:00", "2025-01-01T00:00:00+24:00:01"} {
		c := lifecycle.Customer{ID: "keep"}
		err := json.Unmarshal([]byte(`{"id":"c1","since":"`+at+`"}`), &c)
		if err == nil || !strings.Contains(err.Error(), "since") && !strings.Contains(err.Error(), at) {
			t.Errorf("since %s: err = %v; want it refused", at, err)
		}
		if c.ID != "keep" {
			t.Errorf("since %s: the customer changed on error: %+v", at, c)
		}
	}
	// The largest offsets it can write are read back.
	for _, at := range []string{"2025-01-01T00:00:00+23:59", "2025-01-01T00:00:00-23:59:59"} {
		var c lifecycle.Customer
		if err := json.Unmarshal([]byte(`{"id":"c1","since":"`+at+`"}`), &c); err != nil {
			t.Fatalf("since %s: %v", at, err)
		}
		out, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("since %s: read, but not written back: %v", at, err)
		}
		var back lifecycle.Customer
		if err := json.Unmarshal(out, &back); err != nil || !back.Since.Equal(c.Since) {
			t.Errorf("since %s: round trip gave %v, %v", at, back.Since, err)
		}
	}
}
