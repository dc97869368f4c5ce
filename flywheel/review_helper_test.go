package flywheel_test

import (
	"context"
	"iter"

	"github.com/clmkit/clm/flywheel"
	"github.com/clmkit/clm/lifecycle"
)

func lifecycleBrowse(run *flywheel.AgentRun) iter.Seq2[*lifecycle.Customer, error] {
	return lifecycle.Browse(context.Background(), run.Tracker.Store())
}
