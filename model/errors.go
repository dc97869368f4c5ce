package model

import (
	"errors"

	"github.com/clmkit/clm/lifecycle"
)

// Sentinel errors; errors from this package wrap one of them (test with
// [errors.Is]).
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
