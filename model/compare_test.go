package model_test

import (
	"context"
	"errors"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

// customers returns a few customers with their facts, AsOf at their last
// event.
func customers() []*lifecycle.Customer {
	mk := func(id string, evs ...ev) *lifecycle.Customer {
		f := facts(evs...)
		return &lifecycle.Customer{ID: id, Facts: *f, AsOf: f.Last, Version: 1}
	}
	return []*lifecycle.Customer{
		mk("visitor", e(V, 0)),
		mk("browser", e(V, 0), e(lifecycle.ProductViewed, 1)),
		mk("first", e(O, 0)),
		mk("repeat", orders(2, 0, 20)...),
		mk("loyal", orders(5, 0, 10)...),
		mk("advocate", cat(orders(2, 0, 20), []ev{e(RC, 21)})...),
	}
}

func TestClassifyCustomers(t *testing.T) {
	models := []lifecycle.Model{model.SterneCutler(), model.SixStage(), model.FiveStage()}
	rows, err := model.ClassifyCustomers(customers(), models)
	require.NoError(t, err)
	want := []model.Row{
		{CustomerID: "visitor", At: day(0), Stages: []stage.ID{"reach", "awareness", "awareness"}},
		{CustomerID: "browser", At: day(1), Stages: []stage.ID{"acquisition", "evaluation", "awareness"}},
		{CustomerID: "first", At: day(0), Stages: []stage.ID{"conversion", "purchase", "conversion"}},
		{CustomerID: "repeat", At: day(20), Stages: []stage.ID{"retention", "experience", "retention"}},
		{CustomerID: "loyal", At: day(40), Stages: []stage.ID{"loyalty", "bonding", "retention"}},
		{CustomerID: "advocate", At: day(21), Stages: []stage.ID{"retention", "experience", "advocacy"}},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}

	// At classifies everyone at one time: a year later every buyer lapsed.
	rows, err = model.ClassifyCustomers(customers(), models[:1], model.At(day(400)))
	require.NoError(t, err)
	for _, r := range rows {
		if r.At != day(400) {
			t.Errorf("%s classified at %v", r.CustomerID, r.At)
		}
		if r.CustomerID != "visitor" && r.Stages[0] != model.Acquisition {
			t.Errorf("%s at day 400: %s, want acquisition", r.CustomerID, r.Stages[0])
		}
	}
}

func TestClassifyStore(t *testing.T) {
	ctx := context.Background()
	s := store.NewMemory()
	for _, c := range customers() {
		require.NoError(t, s.Put(ctx, c, 0))
	}
	models := []lifecycle.Model{model.SterneCutler(), model.FiveStage()}
	got := map[string][]stage.ID{}
	for r, err := range model.Classify(ctx, s, models) {
		require.NoError(t, err)
		got[r.CustomerID] = r.Stages
	}
	want := map[string][]stage.ID{
		"visitor": {"reach", "awareness"}, "browser": {"acquisition", "awareness"},
		"first": {"conversion", "conversion"}, "repeat": {"retention", "retention"},
		"loyal": {"loyalty", "retention"}, "advocate": {"retention", "advocacy"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}

	c, err := model.Correspond(ctx, s, model.SterneCutler(), model.FiveStage())
	require.NoError(t, err)
	if c.Total != 6 || c.Count("retention", "advocacy") != 1 || c.Count("retention", "retention") != 1 ||
		c.Count("acquisition", "awareness") != 1 || c.Count("loyalty", "retention") != 1 || c.Count("reach", "conversion") != 0 {
		t.Errorf("correspondence:\n%s", c)
	}
	wantTable := "" +
		"sterne-cutler \\ five-stage  awareness  conversion  nurturing  retention  advocacy  total\n" +
		"reach                               1           0          0          0         0      1\n" +
		"acquisition                         1           0          0          0         0      1\n" +
		"conversion                          0           1          0          0         0      1\n" +
		"retention                           0           0          0          1         1      2\n" +
		"loyalty                             0           0          0          1         0      1\n" +
		"total                               2           1          0          2         1      6\n"
	if diff := cmp.Diff(wantTable, c.String()); diff != "" {
		t.Errorf("String() (-want +got):\n%s", diff)
	}
	c2, err := model.CorrespondCustomers(customers(), model.SterneCutler(), model.FiveStage())
	require.NoError(t, err)
	if diff := cmp.Diff(c, c2); diff != "" {
		t.Errorf("CorrespondCustomers differs from Correspond:\n%s", diff)
	}

	// A cancelled context stops the scan with its error.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = model.Correspond(cctx, s, model.SterneCutler(), model.FiveStage())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Correspond with a cancelled context = %v", err)
	}
}

type badModel struct {
	lifecycle.Model
	answer stage.ID
	panics bool
}

func (b badModel) Stage(f *lifecycle.Facts, now time.Time) stage.ID {
	if b.panics {
		panic("boom")
	}
	return b.answer
}

func TestCompareErrors(t *testing.T) {
	sc := model.SterneCutler()
	cases := []struct {
		name   string
		models []lifecycle.Model
		says   string
	}{
		{"no models", nil, "no models"},
		{"nil model", []lifecycle.Model{sc, nil}, "model 1 is nil"},
		{"undeclared stage", []lifecycle.Model{badModel{Model: sc, answer: "limbo"}}, `returned undeclared stage "limbo" for customer "visitor"`},
		{"panic", []lifecycle.Model{badModel{Model: sc, panics: true}}, `panicked on customer "visitor": boom`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := model.ClassifyCustomers(customers(), tc.models)
			if !errors.Is(err, model.ErrInvalidModel) || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("ClassifyCustomers = %v, want ErrInvalidModel saying %q", err, tc.says)
			}
			var streamed error
			for _, err := range model.Classify(context.Background(), store.NewMemory(), tc.models) {
				streamed = err
			}
			if len(tc.models) < 2 && tc.says != "no models" {
				return // an empty store never calls the model
			}
			if !errors.Is(streamed, model.ErrInvalidModel) {
				t.Errorf("Classify = %v, want ErrInvalidModel", streamed)
			}
		})
	}
}

// noGraph is a model that declares no graph (Stages returns nil), and whose
// Name panics when nameless is set, like a typed nil model.
type noGraph struct{ nameless bool }

func (m noGraph) Name() string {
	if m.nameless {
		panic("no name")
	}
	return "no-graph"
}
func (noGraph) Stages() *stage.Graph                       { return nil }
func (noGraph) Stage(*lifecycle.Facts, time.Time) stage.ID { return "x" }

// A model that panics when asked for its name or stages is an error from
// every comparison function, whatever the customers: never a crash.
func TestCompareModelPanicsOnNameOrStages(t *testing.T) {
	ctx := context.Background()
	sc := model.SterneCutler()
	full := store.NewMemory()
	for _, c := range customers() {
		require.NoError(t, full.Put(ctx, c, 0))
	}
	for _, bad := range []lifecycle.Model{noGraph{}, noGraph{nameless: true}} {
		for _, pair := range [][2]lifecycle.Model{{bad, sc}, {sc, bad}} {
			check := func(what string, f func() error) {
				t.Helper()
				var err error
				require.NotPanics(t, func() { err = f() }, what)
				if !errors.Is(err, model.ErrInvalidModel) {
					t.Errorf("%s with %#v = %v, want ErrInvalidModel", what, bad, err)
				}
			}
			for _, s := range []lifecycle.Store{store.NewMemory(), full} {
				check("Correspond", func() error { _, err := model.Correspond(ctx, s, pair[0], pair[1]); return err })
			}
			for _, cs := range [][]*lifecycle.Customer{nil, customers()} {
				check("CorrespondCustomers", func() error { _, err := model.CorrespondCustomers(cs, pair[0], pair[1]); return err })
				check("ClassifyCustomers", func() error {
					if len(cs) == 0 {
						return model.ErrInvalidModel // never calls the model
					}
					_, err := model.ClassifyCustomers(cs, pair[:])
					return err
				})
			}
			check("Classify", func() error {
				var last error
				for _, err := range model.Classify(ctx, full, pair[:]) {
					last = err
				}
				return last
			})
		}
	}
}

// A nil customer, in a slice or yielded by a store, is an error naming it,
// never a crash.
func TestCompareNilCustomer(t *testing.T) {
	sc := model.SterneCutler()
	cs := append(customers(), nil)
	_, err := model.ClassifyCustomers(cs, []lifecycle.Model{sc})
	if !errors.Is(err, lifecycle.ErrInvalidCustomer) || !strings.Contains(err.Error(), "customers[6] is nil") {
		t.Errorf("ClassifyCustomers = %v, want ErrInvalidCustomer naming customers[6]", err)
	}
	_, err = model.CorrespondCustomers(cs, sc, model.SixStage())
	if !errors.Is(err, lifecycle.ErrInvalidCustomer) {
		t.Errorf("CorrespondCustomers = %v, want ErrInvalidCustomer", err)
	}
	var streamed error
	for _, err := range model.Classify(context.Background(), nilStore{}, []lifecycle.Model{sc}) {
		streamed = err
	}
	if !errors.Is(streamed, lifecycle.ErrInvalidCustomer) {
		t.Errorf("Classify over a store yielding nil = %v, want ErrInvalidCustomer", streamed)
	}
}

// nilStore is a broken store whose Scan yields one nil customer.
type nilStore struct{ lifecycle.Store }

func (nilStore) Scan(context.Context) iter.Seq2[*lifecycle.Customer, error] {
	return func(yield func(*lifecycle.Customer, error) bool) { yield(nil, nil) }
}

// TestClassifyNilStoreAndBrokenRules: a nil store is an error, not a
// panic, and so is nothing about rules Err reports broken: they never hold.
func TestClassifyNilStoreAndBrokenRules(t *testing.T) {
	ctx := context.Background()
	for _, err := range model.Classify(ctx, nil, []lifecycle.Model{model.SterneCutler()}) {
		require.ErrorIs(t, err, lifecycle.ErrNoTracker)
	}
	_, err := model.Correspond(ctx, nil, model.SterneCutler(), model.SixStage())
	require.ErrorIs(t, err, lifecycle.ErrNoTracker)
	var f lifecycle.Facts
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, r := range []model.Rule{model.Not(model.Rule{}), model.Func("x", nil), model.Not(model.Func("y", nil)), model.All(model.Rule{}, model.Orders(1))} {
		require.Error(t, r.Err(), r.String())
		require.False(t, r.Holds(&f, now), r.String())
	}
}
