package model

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clmkit/clm/internal/nilness"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
)

// Row is one customer classified by several models side by side.
type Row struct {
	CustomerID string
	// At is the time the customer was classified at.
	At time.Time
	// Stages holds the customer's stage under each model, in the order the
	// models were given.
	Stages []stage.ID
}

// CompareOption configures [Classify], [ClassifyCustomers], [Correspond]
// and [CorrespondCustomers].
type CompareOption func(*compareConfig)

type compareConfig struct {
	at    time.Time
	hasAt bool // At was given (also with the zero time)
}

// At classifies every customer at now (the zero time too). By default each customer is
// classified at their classification time
// ([lifecycle.Customer.ClassifiedAt]), as a [lifecycle.Tracker] does (or at
// the time of their last event when that is zero).
func At(now time.Time) CompareOption {
	return func(c *compareConfig) { c.at, c.hasAt = now, true }
}

func compareOpts(opts []CompareOption) compareConfig {
	var c compareConfig
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

func (c *compareConfig) when(cu *lifecycle.Customer) time.Time {
	switch {
	case c.hasAt:
		return c.at
	case !cu.ClassifiedAt().IsZero():
		return cu.ClassifiedAt()
	}
	return cu.Facts.Last
}

func checkModels(models []lifecycle.Model) error {
	if len(models) == 0 {
		return fmt.Errorf("%w: no models to compare", ErrInvalidModel)
	}
	for i, m := range models {
		if m == nil {
			return fmt.Errorf("%w: model %d is nil", ErrInvalidModel, i)
		}
	}
	return nil
}

// modelName returns m.Name(), or a placeholder when Name panics (as a
// typed nil model's may), for error messages.
func modelName(m lifecycle.Model) (name string) {
	defer func() {
		if r := recover(); r != nil {
			name = "<Name panicked: " + cut(r) + ">"
		}
	}()
	return m.Name()
}

// classify runs m safely: a panic or an undeclared stage is an error.
func classify(m lifecycle.Model, c *lifecycle.Customer, now time.Time) (s stage.ID, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: model %q panicked on customer %q: %s", ErrInvalidModel, cut(modelName(m)), cut(c.ID), cut(r))
		}
	}()
	s = m.Stage(&c.Facts, now)
	if !m.Stages().Has(s) {
		return "", fmt.Errorf("%w: model %q returned undeclared stage %q for customer %q", ErrInvalidModel, cut(m.Name()), cut(s), cut(c.ID))
	}
	return s, nil
}

func row(c *lifecycle.Customer, models []lifecycle.Model, cfg *compareConfig) (Row, error) {
	r := Row{CustomerID: c.ID, At: cfg.when(c), Stages: make([]stage.ID, len(models))}
	for i, m := range models {
		s, err := classify(m, c, r.At)
		if err != nil {
			return Row{}, err
		}
		r.Stages[i] = s
	}
	return r, nil
}

// Classify streams the customers of s, each classified by every model:
// the customers × models table, one row per customer in the store's scan
// order. Pending referrers ([lifecycle.Customer.PendingReferrer]: referral
// credits, no event of their own) are not customers yet and get no row. A store error, a cancelled ctx, or a model that panics or answers
// an undeclared stage (wrapping [ErrInvalidModel]) is yielded as the last
// element. The stored customers are not changed. A nil s (or a nil pointer
// of a store type, such as a nil *store.Memory) is an error wrapping
// [lifecycle.ErrNoTracker].
func Classify(ctx context.Context, s lifecycle.Store, models []lifecycle.Model, opts ...CompareOption) iter.Seq2[Row, error] {
	cfg := compareOpts(opts)
	return func(yield func(Row, error) bool) {
		if err := checkModels(models); err != nil {
			yield(Row{}, err)
			return
		}
		if nilness.Is(s) {
			yield(Row{}, fmt.Errorf("%w: Classify of a nil store", lifecycle.ErrNoTracker))
			return
		}
		if ctx == nil {
			yield(Row{}, lifecycle.ErrNilContext)
			return
		}
		for c, err := range s.Scan(ctx) {
			if err == nil {
				err = ctx.Err()
			}
			if err != nil {
				yield(Row{}, err)
				return
			}
			if c == nil {
				yield(Row{}, fmt.Errorf("%w: the store yielded a nil customer", lifecycle.ErrInvalidCustomer))
				return
			}
			if c.PendingReferrer() {
				continue
			}
			r, err := row(c, models, &cfg)
			if err != nil {
				yield(Row{}, err)
				return
			}
			if !yield(r, nil) {
				return
			}
		}
	}
}

// ClassifyCustomers is [Classify] over a slice: one row per customer, in
// order, pending referrers left out. A nil customer in the slice is an
// error wrapping [lifecycle.ErrInvalidCustomer] that names its index.
func ClassifyCustomers(customers []*lifecycle.Customer, models []lifecycle.Model, opts ...CompareOption) ([]Row, error) {
	if err := checkModels(models); err != nil {
		return nil, err
	}
	cfg := compareOpts(opts)
	rows := make([]Row, 0, len(customers))
	for i, c := range customers {
		if c == nil {
			return nil, fmt.Errorf("%w: customers[%d] is nil", lifecycle.ErrInvalidCustomer, i)
		}
		if c.PendingReferrer() {
			continue
		}
		r, err := row(c, models, &cfg)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// Correspondence counts customers by their stage under two models: which
// stage of model B the customers in each stage of model A sit in, and the
// other way round.
type Correspondence struct {
	// A and B are the two models' names.
	A, B string
	// AStages and BStages are the two models' stages in order.
	AStages, BStages []stage.ID
	// Counts[i][j] is the number of customers in stage AStages[i] under A
	// and BStages[j] under B.
	Counts [][]int
	// Total is the number of customers counted.
	Total int
}

// newCorrespondence returns the empty table for models a and b; a model
// that panics when asked for its name or stages, or declares none, is an
// error wrapping ErrInvalidModel.
func newCorrespondence(a, b lifecycle.Model) (c *Correspondence, err error) {
	var m lifecycle.Model
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("%w: model %q panicked when asked for its name or stages: %s", ErrInvalidModel, cut(modelName(m)), cut(r))
		}
	}()
	c = new(Correspondence)
	for _, x := range []struct {
		m     lifecycle.Model
		name  *string
		names *[]stage.ID
	}{{a, &c.A, &c.AStages}, {b, &c.B, &c.BStages}} {
		m = x.m
		g := m.Stages()
		if g == nil || g.Len() == 0 {
			return nil, fmt.Errorf("%w: model %q declares no stages", ErrInvalidModel, cut(modelName(m)))
		}
		*x.name, *x.names = m.Name(), g.IDs()
	}
	c.Counts = make([][]int, len(c.AStages))
	for i := range c.Counts {
		c.Counts[i] = make([]int, len(c.BStages))
	}
	return c, nil
}

// add counts r, or returns an error wrapping ErrInvalidModel when a
// stage of r is not one of the table's, which the models' graphs held
// when the table was made (a model whose graph changes between calls).
func (c *Correspondence) add(r Row) error {
	i, j := slices.Index(c.AStages, r.Stages[0]), slices.Index(c.BStages, r.Stages[1])
	if i < 0 || j < 0 {
		return fmt.Errorf("%w: customer %q: stages %q under %q and %q under %q, not both among the stages the models declared first (a graph that changes between calls)",
			ErrInvalidModel, cut(r.CustomerID), cut(r.Stages[0]), cut(c.A), cut(r.Stages[1]), cut(c.B))
	}
	c.Counts[i][j]++
	c.Total++
	return nil
}

// Count returns the number of customers in stage a under model A and stage
// b under model B (0 for unknown stages).
func (c *Correspondence) Count(a, b stage.ID) int {
	for i, s := range c.AStages {
		if s != a {
			continue
		}
		for j, t := range c.BStages {
			if t == b {
				return c.Counts[i][j]
			}
		}
	}
	return 0
}

// String renders the counts as a text table: one row per stage of A, one
// column per stage of B, with row and column totals.
func (c *Correspondence) String() string {
	head := make([]string, 0, len(c.BStages)+2)
	head = append(head, c.A+` \ `+c.B)
	for _, s := range c.BStages {
		head = append(head, string(s))
	}
	head = append(head, "total")
	rows := [][]string{head}
	colTot := make([]int, len(c.BStages))
	for i, s := range c.AStages {
		r := []string{string(s)}
		tot := 0
		for j, n := range c.Counts[i] {
			r = append(r, strconv.Itoa(n))
			tot += n
			colTot[j] += n
		}
		rows = append(rows, append(r, strconv.Itoa(tot)))
	}
	last := []string{"total"}
	for _, n := range colTot {
		last = append(last, strconv.Itoa(n))
	}
	rows = append(rows, append(last, strconv.Itoa(c.Total)))
	return formatTable(rows)
}

// formatTable pads columns: the first left-aligned, the others right.
func formatTable(rows [][]string) string {
	width := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, cell := range r {
			width[i] = max(width[i], len([]rune(cell)))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		for i, cell := range r {
			pad := strings.Repeat(" ", width[i]-len([]rune(cell)))
			if i == 0 {
				b.WriteString(cell + pad)
			} else {
				b.WriteString("  " + pad + cell)
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// Correspond classifies the customers of s with models a and b and counts
// them by (A stage, B stage). Errors are as for [Classify]; a model whose
// graph changes between calls (a stage it answers is not among those its
// graph declared when the table was made) is also an error wrapping
// [ErrInvalidModel].
func Correspond(ctx context.Context, s lifecycle.Store, a, b lifecycle.Model, opts ...CompareOption) (*Correspondence, error) {
	models := []lifecycle.Model{a, b}
	if err := checkModels(models); err != nil {
		return nil, err
	}
	c, err := newCorrespondence(a, b)
	if err != nil {
		return nil, err
	}
	for r, err := range Classify(ctx, s, models, opts...) {
		if err != nil {
			return nil, err
		}
		if err := c.add(r); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// CorrespondCustomers is [Correspond] over a slice of customers. A nil
// customer in the slice is an error wrapping [lifecycle.ErrInvalidCustomer]
// that names its index.
func CorrespondCustomers(customers []*lifecycle.Customer, a, b lifecycle.Model, opts ...CompareOption) (*Correspondence, error) {
	models := []lifecycle.Model{a, b}
	rows, err := ClassifyCustomers(customers, models, opts...)
	if err != nil {
		return nil, err
	}
	c, err := newCorrespondence(a, b)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if err := c.add(r); err != nil {
			return nil, err
		}
	}
	return c, nil
}
