package lifecycle

import (
	"time"

	"github.com/clmkit/clm/stage"
)

// Model classifies a customer into a lifecycle stage.
//
// A model must obey these rules (model/modeltest checks them):
//   - Stage is total: for every Facts value and time it returns a stage
//     that Stages declares, and it never panics, for zero facts included.
//   - Stage is pure and deterministic: the answer depends only on the facts
//     and now, the same arguments always give the same answer, and it never
//     modifies the facts.
//   - Moves follow the graph: if folding one more event into the facts (at
//     a time no earlier than now) or moving now later changes the answer
//     from stage A to stage B, the graph declares an edge A → B.
//   - Name is a stable, non-empty identifier such as "sterne-cutler".
//
// Stage is called on every recorded event, so it should not allocate.
type Model interface {
	// Name returns the model's stable name.
	Name() string
	// Stages returns the model's stage graph.
	Stages() *stage.Graph
	// Stage returns the stage a customer with these facts is in at now.
	Stage(f *Facts, now time.Time) stage.ID
}
