package model

import (
	"errors"

	"github.com/clmkit/clm/internal/clip"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
)

// Sentinel errors (test with [errors.Is]). The builder's and the
// registry's errors, and the comparison functions' errors about a model,
// wrap one of them; the comparison functions also return the errors of
// package lifecycle and of the store they read, as each one's doc says
// ([lifecycle.ErrInvalidCustomer] for a nil customer, say, or the
// context's error).
var (
	// ErrInvalidModel is wrapped by every error [Builder.Build] returns, by
	// [Register] refusing a nil or malformed model, and by the comparison
	// functions when a model panics or answers an undeclared stage. It is
	// [lifecycle.ErrInvalidModel] (one sentinel for the Tracker, modeltest
	// and this package).
	ErrInvalidModel = lifecycle.ErrInvalidModel
	// ErrUnknownModel is wrapped by [Lookup] for a name no model was
	// registered under.
	ErrUnknownModel = errors.New("model: unknown model")
	// ErrDuplicateModel is wrapped by [Register] for a name already taken.
	ErrDuplicateModel = errors.New("model: duplicate model name")
)

// cut returns v as an error message quotes it: a string (a name, a
// stage ID, an event type) past 64 bytes as its first 64 or fewer and
// "…", and any other value, such as a plugin's panic value, as fmt
// prints it, so cut.
func cut(v any) string {
	switch s := v.(type) {
	case stage.ID:
		return clip.String(string(s))
	case lifecycle.EventType:
		return clip.String(string(s))
	}
	return clip.Value(v)
}
