package model

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/clmkit/clm/lifecycle"
)

var registry = struct {
	sync.RWMutex
	models map[string]lifecycle.Model
}{models: make(map[string]lifecycle.Model)}

func init() {
	for _, m := range []lifecycle.Model{SterneCutler(), SixStage(), FiveStage()} {
		if err := Register(m.Name(), m); err != nil {
			panic(err)
		}
	}
}

// Register makes a model available by name, in the manner of
// database/sql drivers, so that a shop can choose its model in
// configuration with [Lookup]. The built-ins, with their default
// thresholds, are registered at init as "sterne-cutler", "six-stage" and
// "five-stage". Models are shared: a registered model must be safe for
// concurrent use (every built-in and every [Custom] is).
//
// name is usually m.Name(), but may differ to register a variant
// ("sterne-cutler-90d" for SterneCutler(LapseAfter(90*24*time.Hour))).
// Register returns an error wrapping [ErrDuplicateModel] when the name is
// taken (nothing is overwritten), and one wrapping [ErrInvalidModel] for an
// empty or space-padded name, one that is not valid UTF-8 or holds a
// control, format or separator character other than the space U+0020 (a
// zero-width or no-break space would make two names look alike in
// [Lookup]'s list), a nil model, a model with no stages or an
// empty Name(), or one that panics when asked for them (a typed nil
// *[Custom], say).
// It is safe for concurrent use.
func Register(name string, m lifecycle.Model) error {
	switch {
	case name == "" || strings.TrimSpace(name) != name:
		return fmt.Errorf("%w: cannot register under name %q: names must be non-empty without surrounding spaces", ErrInvalidModel, cut(name))
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: cannot register under name %q: names must be valid UTF-8", ErrInvalidModel, cut(name))
	case strings.IndexFunc(name, func(r rune) bool { return r != ' ' && unicode.In(r, unicode.Cc, unicode.Cf, unicode.Z) }) >= 0:
		return fmt.Errorf("%w: cannot register under name %q: names must not hold control, format or separator characters but the space U+0020", ErrInvalidModel, cut(name))
	case m == nil:
		return fmt.Errorf("%w: cannot register a nil model as %q", ErrInvalidModel, cut(name))
	}
	if err := checkStages(m, name); err != nil {
		return err
	}
	registry.Lock()
	defer registry.Unlock()
	if prev, dup := registry.models[name]; dup {
		return fmt.Errorf("%w: %q is already registered (model %q)", ErrDuplicateModel, cut(name), cut(prev.Name()))
	}
	registry.models[name] = m
	return nil
}

// checkStages asks m for its stages and name, turning a panic (such as a
// typed nil model's nil-pointer dereference) into an error.
func checkStages(m lifecycle.Model, name string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: cannot register %q: the model panicked when asked for its stages or name: %s", ErrInvalidModel, cut(name), cut(r))
		}
	}()
	if g := m.Stages(); g == nil || g.Len() == 0 {
		return fmt.Errorf("%w: cannot register model %q as %q: it declares no stages", ErrInvalidModel, cut(m.Name()), cut(name))
	}
	if m.Name() == "" {
		return fmt.Errorf("%w: cannot register a model with an empty Name as %q", ErrInvalidModel, cut(name))
	}
	return nil
}

// Lookup returns the model registered under name, or an error wrapping
// [ErrUnknownModel] that lists the registered names.
func Lookup(name string) (lifecycle.Model, error) {
	registry.RLock()
	m, ok := registry.models[name]
	registry.RUnlock()
	if !ok {
		names := Names()
		for i, n := range names {
			names[i] = cut(n)
		}
		return nil, fmt.Errorf("%w %q (registered: %s)", ErrUnknownModel, cut(name), strings.Join(names, ", "))
	}
	return m, nil
}

// Names returns the registered names, sorted.
func Names() []string {
	registry.RLock()
	defer registry.RUnlock()
	names := make([]string, 0, len(registry.models))
	for n := range registry.models {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
