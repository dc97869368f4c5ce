package flywheel_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/clmkit/clm/flywheel"
	"github.com/clmkit/clm/model"
)

// WithModel with a nil pointer of a model type is refused up front, naming
// the option, as WithStore's is (it failed at the first record with
// lifecycle.ErrNoTracker).
func TestWithModelTypedNil(t *testing.T) {
	_, err := flywheel.Agent(context.Background(), flywheel.LiteratureExample(), flywheel.WithModel((*model.Custom)(nil)))
	if !errors.Is(err, flywheel.ErrInvalidParams) || !strings.Contains(err.Error(), "WithModel") {
		t.Errorf("Agent(WithModel(nil *model.Custom)) = %v; want ErrInvalidParams naming WithModel", err)
	}
}
