package model_test

import (
	"errors"
	"testing"

	"github.com/clmkit/clm/model"
)

// A name that is not valid UTF-8 or holds a control, format or separator
// character is refused: "\u200bsterne-cutler" would look like the
// built-in in Lookup's list of names.
func TestRegisterRefusesUnprintableNames(t *testing.T) {
	for _, name := range []string{"\u200bsterne-cutler", "a\xffb", "a\x00b", "a\u2028b", "a\tb"} {
		if err := model.Register(name, model.SterneCutler()); !errors.Is(err, model.ErrInvalidModel) {
			t.Errorf("Register(%q) = %v; want ErrInvalidModel", name, err)
		}
		if _, err := model.Lookup(name); err == nil {
			t.Errorf("Lookup(%q) found a model", name)
		}
	}
	if err := model.Register("sterne-cutler-ünïcode", model.SterneCutler()); err != nil && !errors.Is(err, model.ErrDuplicateModel) { // (duplicate: -count > 1)
		t.Errorf("a name with letters outside ASCII: %v", err)
	}
}
