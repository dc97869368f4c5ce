package funnel

import "errors"

// Sentinel errors. Every error this package returns wraps one of these, or
// is the error of the customer source it reads, of the context it was
// given ([context.Canceled], [context.DeadlineExceeded]) or of the writer
// given to [Table.WriteCSV]; test with [errors.Is].
var (
	// ErrInvalidInput is wrapped by errors about bad arguments: a nil
	// graph, customer or io.Writer, a percentile outside (0, 100], a period that is
	// not positive, a segment without a predicate or with a malformed
	// rule, an order without a customer or time or with a negative
	// amount, money in two currencies.
	ErrInvalidInput = errors.New("funnel: invalid input")
	// ErrUnknownStage means a customer's stage or history names a stage
	// the graph does not declare (the store was written under another
	// model).
	ErrUnknownStage = errors.New("funnel: unknown stage")
)
