package lifecycle_test

import (
	"encoding/json"
	"testing"

	"github.com/clmkit/clm/lifecycle"
)

// TestSegmentSnakeCase: FromSegment's snake_case form of a track call's
// event name, as its doc gives it: ASCII letters lower-cased, ASCII
// digits kept, every run of other characters between them one underscore
// and none at either end; a form that is a standard type name gets that
// type.
func TestSegmentSnakeCase(t *testing.T) {
	for name, want := range map[string]lifecycle.EventType{
		"Plan 2 Chosen":       "segment.plan_2_chosen",
		" Plan 2 Chosen!":     "segment.plan_2_chosen",
		"plan--2__chosen":     "segment.plan_2_chosen",
		" Order Completed":    lifecycle.OrderCompleted,
		"ORDER  COMPLETED\t":  lifecycle.OrderCompleted,
		"Trial Started":       "segment.trial_started",
		"Référence Vue":       "segment.r_f_rence_vue",
		"Referral Converted":  "segment.referral_converted",
		"3D Secure Completed": "segment.3d_secure_completed",
	} {
		data, _ := json.Marshal(map[string]string{"type": "track", "event": name, "userId": "u1", "messageId": "m1", "timestamp": "2026-03-01T10:00:00Z"})
		evs, err := lifecycle.FromSegment(data)
		if err != nil {
			t.Fatalf("FromSegment(%q): %v", name, err)
		}
		if evs[0].Type != want {
			t.Errorf("FromSegment(%q) type = %q, want %q", name, evs[0].Type, want)
		}
	}
}
