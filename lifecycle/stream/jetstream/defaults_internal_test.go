package jetstream

import (
	"math"
	"testing"
	"time"
)

// The default StandbyDelay, twice PinnedTTL, saturates instead of
// wrapping negative for a PinnedTTL past half the longest Duration.
func TestStandbyDelayDefaultSaturates(t *testing.T) {
	for _, ttl := range []time.Duration{math.MaxInt64/2 + 1, math.MaxInt64} {
		cfg, err := Config{Partitions: 1, PinnedTTL: ttl}.withDefaults()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.StandbyDelay < ttl {
			t.Errorf("PinnedTTL %v: default StandbyDelay %v; want at least the TTL, not negative", ttl, cfg.StandbyDelay)
		}
	}
	cfg, err := Config{Partitions: 1, PinnedTTL: 3 * time.Second}.withDefaults()
	if err != nil || cfg.StandbyDelay != 6*time.Second {
		t.Errorf("PinnedTTL 3s: StandbyDelay %v, %v; want 6s", cfg.StandbyDelay, err)
	}
}
