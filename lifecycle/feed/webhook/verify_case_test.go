package webhook_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle/feed/webhook"
)

// A header name held under two non-canonical spellings gives Verify one
// answer for one message: the values of the keys in byte order. It read
// whichever key the map yielded first, accepting the message on some
// calls and refusing it on others.
func TestVerifyHeaderSpellingsInKeyOrder(t *testing.T) {
	const secret = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	now := time.Unix(1_750_000_000, 0)
	body := []byte(`{"x":1}`)
	sig, err := webhook.Sign(secret, "msg_1", now, body)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		first, second string // ids under "WEBHOOK-ID" (sorts first) and "webhook-id"
		ok            bool
	}{{"msg_1", "msg_2", true}, {"msg_2", "msg_1", false}} {
		h := http.Header{
			"webhook-id":        {tc.second},
			"WEBHOOK-ID":        {tc.first},
			"webhook-timestamp": {"1750000000"},
			"webhook-signature": {sig},
		}
		for range 200 {
			if err := webhook.Verify(secret, h, body, now, 0); (err == nil) != tc.ok {
				t.Fatalf("WEBHOOK-ID %s, webhook-id %s: Verify = %v; want ok = %v", tc.first, tc.second, err, tc.ok)
			}
		}
	}
}

// A timestamp so far from now that the age overflows a Duration (a
// sender writing milliseconds) is refused with a positive age: the
// negated minimum Duration read "-2562047h47m16.854775808s in the future".
func TestVerifyFarTimestampAge(t *testing.T) {
	const secret = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	now := time.Unix(1_614_265_330, 0)
	body := []byte(`{"x":1}`)
	for ts, side := range map[string]string{"1614265330000": "in the future", "-9223372036": "old", "1614265940": "in the future", "1614264000": "old"} {
		h := http.Header{"webhook-id": {"msg_1"}, "webhook-timestamp": {ts}, "webhook-signature": {"v1,AAAA"}}
		err := webhook.Verify(secret, h, body, now, 0)
		if !errors.Is(err, webhook.ErrTimestamp) || strings.Contains(err.Error(), "is -") || !strings.Contains(err.Error(), side) {
			t.Errorf("timestamp %s: Verify = %v; want ErrTimestamp, a positive age %s", ts, err, side)
		}
	}
}
