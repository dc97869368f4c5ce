package lifecycle

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"

	"github.com/clmkit/clm/internal/typeindex"
)

// TestVocabularyTable: every EventType constant of event.go has its row
// in the vocabulary, once, with a kind, and nothing else is there, so
// that a constant added without its row fails here.
func TestVocabularyTable(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "event.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	consts := map[EventType]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			v := spec.(*ast.ValueSpec)
			if id, ok := v.Type.(*ast.Ident); !ok || id.Name != "EventType" {
				continue
			}
			for i, name := range v.Names {
				s, err := strconv.Unquote(v.Values[i].(*ast.BasicLit).Value)
				if err != nil {
					t.Fatal(err)
				}
				consts[EventType(s)] = name.Name
			}
		}
	}
	seen := map[EventType]bool{}
	for _, v := range vocabulary {
		if seen[v.Type] {
			t.Errorf("%q is twice in the vocabulary", v.Type)
		}
		seen[v.Type] = true
		if _, ok := consts[v.Type]; !ok {
			t.Errorf("%q is in the vocabulary but is no EventType constant of event.go", v.Type)
		}
		if v.Kind == 0 || v.Kind >= numKinds {
			t.Errorf("%q has kind %d, which is not a kind", v.Type, v.Kind)
		}
		if got := v.Type.Kind(); got != v.Kind || !v.Type.Standard() {
			t.Errorf("%q: Kind() = %v, Standard() = %v, want %v, true", v.Type, got, v.Type.Standard(), v.Kind)
		}
	}
	for c, name := range consts {
		if !seen[c] {
			t.Errorf("constant %s (%q) has no row in the vocabulary table", name, c)
		}
	}
	if got, want := len(StandardTypes()), len(vocabulary); got != want {
		t.Errorf("StandardTypes has %d types, the table %d", got, want)
	}
	for _, c := range []EventType{"", "x", "abc", "acme.order_completed", "order_complete", "Order_completed"} {
		if c.Standard() || c.Kind() != 0 {
			t.Errorf("%q is standard (kind %v)", c, c.Kind())
		}
	}
	for k := EventKind(1); k < numKinds; k++ {
		if k.String() == "" || k.String() == "custom" {
			t.Errorf("kind %d has no name", k)
		}
	}
}

// TestVocabularyPlaced: every standard type has a slot of its own in the
// look-up tables (typeindex), so no look-up of a standard type takes the
// slow path. When a new type collides, this names the types, and the
// multipliers of typeindex.Slot (written out in lifecycle and model) can
// be changed; the look-ups are right either way (TestTypeIndexSlowPath).
func TestVocabularyPlaced(t *testing.T) {
	slots := map[int]EventType{}
	for _, v := range vocabulary {
		if len(v.Type) < 4 {
			t.Errorf("%q is shorter than 4 bytes: its look-ups take the slow path", v.Type)
			continue
		}
		s := typeindex.Slot(string(v.Type))
		if other, ok := slots[s]; ok {
			t.Errorf("%q and %q share slot %d: the later one's look-ups take the slow path", other, v.Type, s)
		}
		slots[s] = v.Type
	}
}

// TestTypeIndexSlowPath: a vocabulary with types that cannot have a
// slot of their own (shorter than 4 bytes, or hashing to a taken slot)
// still builds, and every type is found with its kind.
func TestTypeIndexSlowPath(t *testing.T) {
	vocab := append(Vocabulary(),
		StandardType{"tip", KindAdvocacy},
		StandardType{"wishlist_added", KindEngagement},
	)
	// Types that take the slots of existing ones.
	for _, v := range vocabulary[:4] {
	search:
		for b := byte('a'); b <= 'z'; b++ {
			for n := range 64 {
				c := EventType(string(b) + strings.Repeat("q", n) + "_" + string(v.Type))
				if typeindex.Slot(string(c)) == typeindex.Slot(string(v.Type)) {
					vocab = append(vocab, StandardType{c, KindOrder})
					break search
				}
			}
		}
	}
	x := newTypeIndex(vocab)
	if len(x.rest) < 5 {
		t.Fatalf("%d types on the slow path, want at least 5", len(x.rest))
	}
	for _, v := range vocab {
		if got := x.kind(v.Type); got != v.Kind {
			t.Errorf("%q: kind %v, want %v", v.Type, got, v.Kind)
		}
	}
	for _, c := range []EventType{"", "ab", "tipx", "acme.tip", "x9999_ad_impression"} {
		if got := x.kind(c); got != 0 {
			t.Errorf("%q: kind %v, want 0", c, got)
		}
	}
}
