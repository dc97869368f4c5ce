package modeltest_test

import (
	"testing"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/model/modeltest"
)

func TestBuiltins(t *testing.T) {
	for _, m := range []lifecycle.Model{model.SterneCutler(), model.SixStage(), model.FiveStage()} {
		t.Run(m.Name(), func(t *testing.T) {
			// Else the NextChange rule would be skipped.
			if _, ok := m.(lifecycle.Scheduler); !ok {
				t.Errorf("%s does not implement lifecycle.Scheduler", m.Name())
			}
			modeltest.Run(t, m)
		})
	}
}
