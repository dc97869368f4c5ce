package model

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
)

// TestKinds: summarize reads every standard event type as its kind in
// lifecycle's vocabulary, and skips custom types, short ones included.
func TestKinds(t *testing.T) {
	for _, v := range lifecycle.Vocabulary() {
		f := lifecycle.Facts{Tallies: []lifecycle.Tally{{Type: v.Type, Count: 1}}}
		if s := summaryOf(&f); s.has != kind(1)<<v.Kind {
			t.Errorf("%q gave bits %b, want %b (kind %v)", v.Type, s.has, kind(1)<<v.Kind, v.Kind)
		}
	}
	var f lifecycle.Facts
	f.Tallies = []lifecycle.Tally{{Type: "x", Count: 1}, {Type: "ab", Count: 2}, {Type: "a.b", Count: 3}, {Type: "acme.order_completed", Count: 4}}
	if s := summaryOf(&f); s.has != 0 {
		t.Errorf("custom types gave bits %b", s.has)
	}
}

// withVocabulary runs fn with model's look-up built from vocab.
func withVocabulary(t *testing.T, vocab []lifecycle.StandardType, fn func()) {
	t.Helper()
	old := kinds
	kinds = newKindIndex(vocab)
	defer func() { kinds = old }()
	fn()
}

// TestKindsFromVocabulary: a type added to lifecycle's vocabulary is read
// by its kind with no edit in model, even when the look-up cannot place
// it (shorter than 4 bytes, or the same length, first byte and fourth
// byte from the end as another type), and types of one kind add up.
func TestKindsFromVocabulary(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, d) }
	vocab := append(lifecycle.Vocabulary(),
		lifecycle.StandardType{Type: "wishlist_added", Kind: lifecycle.KindEngagement},
		lifecycle.StandardType{Type: "order_picked_up", Kind: lifecycle.KindOrder},
		lifecycle.StandardType{Type: "order_picked_up_later", Kind: lifecycle.KindOrder},
		lifecycle.StandardType{Type: "order_packed_up_later", Kind: lifecycle.KindOrder}, // same fingerprint as the one above
		lifecycle.StandardType{Type: "tip", Kind: lifecycle.KindAdvocacy},                // short
	)
	withVocabulary(t, vocab, func() {
		if len(kinds.rest) != 2 {
			t.Errorf("%d types on the slow path, want 2 (tip, and one of the order_p…ed_up_later)", len(kinds.rest))
		}
		for _, v := range vocab {
			f := lifecycle.Facts{Tallies: []lifecycle.Tally{{Type: v.Type, Count: 1}}}
			if s := summaryOf(&f); s.has != kind(1)<<v.Kind {
				t.Errorf("%q gave bits %b, want %b (kind %v)", v.Type, s.has, kind(1)<<v.Kind, v.Kind)
			}
		}
		f := lifecycle.Facts{Tallies: []lifecycle.Tally{
			{Type: lifecycle.OrderCompleted, Count: 2, First: day(10), Last: day(20)},
			{Type: "order_picked_up", Count: 1, First: day(5), Last: day(6)},
			{Type: "order_packed_up_later", Count: 3, First: day(7), Last: day(30)},
		}}
		s := summaryOf(&f)
		if s.completed != 6 || !s.firstOrder.Equal(day(5)) || !s.lastOrder.Equal(day(30)) {
			t.Errorf("orders %d from %v to %v, want 6 from %v to %v", s.completed, s.firstOrder, s.lastOrder, day(5), day(30))
		}
		// The built-ins read the new types: a wish list is engagement
		// for Sterne–Cutler.
		f = lifecycle.Facts{Tallies: []lifecycle.Tally{{Type: "wishlist_added", Count: 1, First: day(1), Last: day(1)}}}
		if got := SterneCutler().Stage(&f, day(2)); got != Acquisition {
			t.Errorf("wishlist_added: stage %q, want %q", got, Acquisition)
		}
		f = lifecycle.Facts{Tallies: []lifecycle.Tally{{Type: "tip", Count: 1, First: day(1), Last: day(1)}}}
		if got := SixStage().Stage(&f, day(2)); got != SixStageEngagement {
			t.Errorf("tip: stage %q, want %q", got, SixStageEngagement)
		}
	})
}

// TestSameKindAddsUp: two types of one kind add up in the summary, for
// every kind the summary reads, as the kinds of subscription payments
// always did.
func TestSameKindAddsUp(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, d) }
	var vocab []lifecycle.StandardType
	var tallies []lifecycle.Tally
	for k := lifecycle.KindExposure; k <= lifecycle.KindReferralCredit; k++ {
		a, b := lifecycle.EventType("one_"+k.String()), lifecycle.EventType("two_"+k.String())
		vocab = append(vocab, lifecycle.StandardType{Type: a, Kind: k}, lifecycle.StandardType{Type: b, Kind: k})
		tallies = append(tallies,
			lifecycle.Tally{Type: a, Count: 2, First: day(3), Last: day(9)},
			lifecycle.Tally{Type: b, Count: 1<<63 - 2, First: day(1), Last: day(5)})
	}
	withVocabulary(t, vocab, func() {
		s := summaryOf(&lifecycle.Facts{Tallies: tallies})
		const sat = 1<<63 - 1
		for name, n := range map[string]int64{"completed": s.completed, "refunded": s.refunded, "subs": s.subs, "visits": s.visits, "refs": s.refs} {
			if n != sat {
				t.Errorf("%s = %d, want %d (saturated)", name, n, int64(sat))
			}
		}
		for name, got := range map[string]time.Time{"firstOrder": s.firstOrder, "firstSub": s.firstSub} {
			if !got.Equal(day(1)) {
				t.Errorf("%s = %v, want %v", name, got, day(1))
			}
		}
		for name, got := range map[string]time.Time{"lastOrder": s.lastOrder, "lastSub": s.lastSub, "lastCancel": s.lastCancel, "lastTicket": s.lastTicket, "lastResolved": s.lastResolved} {
			if !got.Equal(day(9)) {
				t.Errorf("%s = %v, want %v", name, got, day(9))
			}
		}
	})
}

// TestNoTypeNames: the built-ins' code names no standard event type; it
// reads kinds, so that a type added to lifecycle's vocabulary needs no
// edit here.
func TestNoTypeNames(t *testing.T) {
	std := map[string]bool{}
	for _, v := range lifecycle.Vocabulary() {
		std[string(v.Type)] = true
	}
	fset := token.NewFileSet()
	for _, file := range []string{"summary.go", "sternecutler.go", "sixstage.go", "fivestage.go"} {
		f, err := parser.ParseFile(fset, file, nil, 0) // no comments: the docs may name types
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				if x, ok := n.X.(*ast.Ident); ok && x.Name == "lifecycle" {
					if c, ok := lifecycleConst(n.Sel.Name); ok && std[c] {
						t.Errorf("%s: names the standard type lifecycle.%s", fset.Position(n.Pos()), n.Sel.Name)
					}
				}
			case *ast.BasicLit:
				if n.Kind == token.STRING && std[strings.Trim(n.Value, "\"`")] {
					t.Errorf("%s: names the standard type %s", fset.Position(n.Pos()), n.Value)
				}
			}
			return true
		})
	}
}

// lifecycleConst returns the value of lifecycle's EventType constant
// name, read from the vocabulary.
func lifecycleConst(name string) (string, bool) {
	for _, v := range lifecycle.Vocabulary() {
		if goName(string(v.Type)) == name {
			return string(v.Type), true
		}
	}
	return "", false
}

// goName is the Go name of a standard type's constant: "order_completed"
// → "OrderCompleted".
func goName(t string) string {
	var b strings.Builder
	for _, w := range strings.Split(t, "_") {
		b.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	return b.String()
}

// summaryOf returns the summary of f.
func summaryOf(f *lifecycle.Facts) summary {
	var s summary
	summarize(f, &s)
	return s
}
