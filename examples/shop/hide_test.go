package main

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/clmkit/clm/lifecycle"
)

// hideSecrets hides the endpoint's query and fragment also where an error
// quotes the URL, as url.Error does: with '"' or '\' in the query, the
// quoted form differs from the raw one. (Found by an audit.)
func TestHideSecretsQuotedURL(t *testing.T) {
	for _, raw := range []string{
		`http://h.example/hook?token=ab"SECRET`,
		`http://h.example/hook?token=ab\SECRET`,
		`http://h.example/hook?token=SECRET#frag"SECRET`,
		`http://h.example/hook?token=SECRET`,
	} {
		deliver := hideSecrets(raw, func(context.Context, lifecycle.Change) error {
			return &url.Error{Op: "Post", URL: raw, Err: errors.New("connection refused")}
		})
		err := deliver(context.Background(), lifecycle.Change{})
		if err == nil || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%s: error %v shows the secret", raw, err)
		}
		if !strings.Contains(err.Error(), "h.example/hook?…") {
			t.Errorf("%s: error %v does not show the endpoint", raw, err)
		}
		var ue *url.Error
		if !errors.As(err, &ue) {
			t.Errorf("%s: error %v does not unwrap to the url.Error", raw, err)
		}
	}
}
