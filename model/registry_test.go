package model_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
)

func TestBuiltinsRegistered(t *testing.T) {
	for _, name := range []string{"sterne-cutler", "six-stage", "five-stage"} {
		m, err := model.Lookup(name)
		require.NoError(t, err)
		if m.Name() != name {
			t.Errorf("Lookup(%q).Name() = %q", name, m.Name())
		}
	}
	names := model.Names()
	if !slices.IsSorted(names) {
		t.Errorf("Names() = %v, not sorted", names)
	}
}

type nilGraph struct{}

func (nilGraph) Name() string                               { return "nil-graph" }
func (nilGraph) Stages() *stage.Graph                       { return nil }
func (nilGraph) Stage(*lifecycle.Facts, time.Time) stage.ID { return "" }

// registerRuns numbers TestRegister's runs: the registry is global, so a
// second run (go test -count=2) registers a name of its own.
var registerRuns atomic.Int64

func TestRegister(t *testing.T) {
	variant := model.SterneCutler(model.LapseAfter(90 * 24 * time.Hour))
	name := fmt.Sprintf("test-sterne-cutler-90d-%d", registerRuns.Add(1))
	require.NoError(t, model.Register(name, variant))
	got, err := model.Lookup(name)
	require.NoError(t, err)
	if got != variant {
		t.Error("Lookup did not return the registered model")
	}
	if !slices.Contains(model.Names(), name) {
		t.Errorf("Names() = %v lacks the new name", model.Names())
	}

	cases := []struct {
		name    string
		regName string
		m       lifecycle.Model
		is      error
		says    string
	}{
		{"duplicate", "sterne-cutler", model.SixStage(), model.ErrDuplicateModel, `"sterne-cutler" is already registered`},
		{"duplicate of a new name", name, variant, model.ErrDuplicateModel, "already registered"},
		{"nil model", "test-nil", nil, model.ErrInvalidModel, `nil model as "test-nil"`},
		{"empty name", "", model.SixStage(), model.ErrInvalidModel, `name ""`},
		{"padded name", " x", model.SixStage(), model.ErrInvalidModel, `name " x"`},
		{"no stages", "test-nil-graph", nilGraph{}, model.ErrInvalidModel, "declares no stages"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := model.Register(tc.regName, tc.m)
			if !errors.Is(err, tc.is) {
				t.Fatalf("Register(%q) = %v, want an error wrapping %v", tc.regName, err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("error %q does not say %q", err, tc.says)
			}
		})
	}
	// The duplicate did not overwrite.
	sc, err := model.Lookup("sterne-cutler")
	require.NoError(t, err)
	if sc.Name() != "sterne-cutler" {
		t.Errorf("sterne-cutler was overwritten by %q", sc.Name())
	}
}

func TestLookupUnknown(t *testing.T) {
	_, err := model.Lookup("sterne-cuttler")
	if !errors.Is(err, model.ErrUnknownModel) {
		t.Fatalf("Lookup(unknown) = %v, want ErrUnknownModel", err)
	}
	for _, want := range []string{`"sterne-cuttler"`, "five-stage, ", "sterne-cutler"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not list %q", err, want)
		}
	}
}

func TestRegisterTypedNilModel(t *testing.T) {
	err := model.Register("typed-nil", (*model.Custom)(nil))
	if !errors.Is(err, model.ErrInvalidModel) {
		t.Fatalf("Register(typed nil model) = %v; want an error wrapping ErrInvalidModel", err)
	}
	if _, err := model.Lookup("typed-nil"); err == nil {
		t.Fatal("a refused model was registered")
	}
}
