package storetest

import (
	"testing"
	"time"
)

// A gap past what time.Duration holds is given in years, not as the
// saturated minimum duration. (Found by an audit.)
func TestGapMessage(t *testing.T) {
	w := time.Date(2025, 2, 1, 3, 4, 5, 600000789, time.UTC)
	if got := gap(w, time.Time{}); got != "about -2024 years" {
		t.Errorf("gap to the zero time = %q", got)
	}
	if got := gap(w, w.Add(-90*time.Minute)); got != "-1h30m0s" {
		t.Errorf("gap of 90 minutes = %q", got)
	}
}
