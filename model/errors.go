package model

import "errors"

// Sentinel errors; errors from this package wrap one of them (test with
// [errors.Is]).
var (
	// ErrInvalidModel is wrapped by every error [Builder.Build] returns, by
	// [Register] refusing a nil or malformed model, and by the comparison
	// functions when a model panics or answers an undeclared stage.
	ErrInvalidModel = errors.New("model: invalid model")
	// ErrUnknownModel is wrapped by [Lookup] for a name no model was
	// registered under.
	ErrUnknownModel = errors.New("model: unknown model")
	// ErrDuplicateModel is wrapped by [Register] for a name already taken.
	ErrDuplicateModel = errors.New("model: duplicate model name")
)
