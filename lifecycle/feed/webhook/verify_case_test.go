package webhook_test

import (
	"net/http"
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
