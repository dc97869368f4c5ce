package clm_test

// Tests written from README.md alone: each compiles a README snippet
// or checks a README claim (names, counts, diagrams, error texts).

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clmkit/clm/flywheel"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/feed"
	"github.com/clmkit/clm/lifecycle/feed/webhook"
	"github.com/clmkit/clm/lifecycle/funnel"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/model/modeltest"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
	"github.com/clmkit/clm/store/storetest"
)

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// README "Quick start", compiled as written.
func TestDocReadmeQuickStart(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)

	tr := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory())

	res, err := tr.Record(ctx, lifecycle.Event{
		ID: "ord-1001", CustomerID: "c42", Type: lifecycle.OrderCompleted,
		Time: at, Amount: 4999, Currency: "EUR", // money in minor units, never float
	})
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, _ = res.Moved, res.From, res.To, res.Duplicate
	if !res.Moved || res.From != "" || res.To != model.Conversion {
		t.Errorf("first order: %+v", res)
	}
	res, err = tr.Record(ctx, lifecycle.Event{ID: "ord-1001", CustomerID: "c42", Type: lifecycle.OrderCompleted, Time: at, Amount: 4999, Currency: "EUR"})
	if err != nil || !res.Duplicate || res.Moved {
		t.Errorf("same ID again: %+v %v", res, err)
	}

	c, err := tr.Customer(ctx, "c42")
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, _ = c.Stage, c.Since, c.Facts, c.History
	if c.Facts.Revenue("EUR") != 4999 || len(c.History) != 1 {
		t.Errorf("customer: %+v", c)
	}
}

// README: the vocabulary, in the order the README lists it.
func TestDocReadmeVocabulary(t *testing.T) {
	want := []string{"ad_impression", "site_visited", "content_viewed", "content_downloaded", "signed_up",
		"newsletter_subscribed", "inquiry_sent", "chat_started", "product_viewed",
		"cart_added", "checkout_started", "order_completed", "order_refunded",
		"subscription_started", "subscription_renewed", "subscription_cancelled",
		"ticket_opened", "ticket_resolved", "survey_answered", "review_posted", "social_shared", "referral_made",
		"loyalty_joined", "referral_converted"}
	var got []string
	for _, st := range lifecycle.Vocabulary() {
		got = append(got, string(st.Type))
		if st.Kind == 0 {
			t.Errorf("%s has no kind", st.Type)
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("Vocabulary %v\nREADME     %v", got, want)
	}
	if d := lifecycle.DefaultConversionTypes(); !slices.Equal(d, []lifecycle.EventType{lifecycle.OrderCompleted, lifecycle.SubscriptionStarted}) {
		t.Errorf("DefaultConversionTypes = %v", d)
	}
	e := lifecycle.Event{ID: "w1", CustomerID: "c1", Type: "acme.wishlist_added", Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := e.Validate(); err != nil {
		t.Errorf("vendor-prefixed type refused: %v", err)
	}
}

// README: the JSON form's keys and DecodeEvents of one event or an array.
func TestDocReadmeJSONForm(t *testing.T) {
	e := lifecycle.Event{ID: "e1", CustomerID: "c1", Type: lifecycle.OrderCompleted,
		Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Amount: 100, Currency: "EUR",
		ReferrerID: "c0", Attrs: map[string]string{"k": "v"}}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"amount", "attrs", "currency", "customer_id", "id", "referrer_id", "time", "type"}
	if !slices.Equal(keys, want) {
		t.Errorf("JSON keys %v, README %v (%s)", keys, want, b)
	}
	one, err := lifecycle.DecodeEvents(b)
	if err != nil || len(one) != 1 {
		t.Errorf("one: %v %v", one, err)
	}
	arr, err := lifecycle.DecodeEvents([]byte("[" + string(b) + "," + string(b) + "]"))
	if err != nil || len(arr) != 2 {
		t.Errorf("array: %v %v", arr, err)
	}
	// strictly: an unknown key, a key given twice or in another case is refused
	for _, bad := range []string{
		`{"id":"e1","customer_id":"c1","type":"site_visited","time":"2026-01-01T00:00:00Z","id":"e2"}`,
		`{"ID":"e1","customer_id":"c1","type":"site_visited","time":"2026-01-01T00:00:00Z"}`,
	} {
		if _, err := lifecycle.DecodeEvents([]byte(bad)); !errors.Is(err, lifecycle.ErrInvalidEvent) {
			t.Errorf("DecodeEvents(%s) = %v", bad, err)
		}
	}
	// strictly: an unknown key is refused
	if _, err := lifecycle.DecodeEvents([]byte(`{"id":"e1","customer_id":"c1","type":"site_visited","time":"2026-01-01T00:00:00Z","bogus":1}`)); !errors.Is(err, lifecycle.ErrInvalidEvent) {
		t.Errorf("unknown key: %v", err)
	}
}

// README: ID rules (lifecycle.ValidateID).
func TestDocReadmeIDs(t *testing.T) {
	for _, c := range []struct {
		id string
		ok bool
	}{
		{"a", true},
		{strings.Repeat("x", 256), true},
		{strings.Repeat("é", 128), true},
		{"", false},
		{strings.Repeat("x", 257), false},
		{" a", false},
		{"a ", false},
		{"a\u00a0", false},
		{"a b", true},
		{"a\tb", false},
		{"a\u200bb", false}, // format character
		{"a\u2028b", false}, // line separator
		{"a\u2029b", false}, // paragraph separator
		{"a\xffb", false},   // not UTF-8
	} {
		err := lifecycle.ValidateID("id", c.id)
		if (err == nil) != c.ok {
			t.Errorf("ValidateID(%q) = %v, want ok=%v", c.id, err, c.ok)
		}
		if err != nil {
			var ve *lifecycle.ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, lifecycle.ErrInvalidEvent) || ve.Field != "id" {
				t.Errorf("ValidateID(%q) error %#v", c.id, err)
			}
		}
	}
}

// README: FromSegment.
func TestDocReadmeSegment(t *testing.T) {
	evs, err := lifecycle.FromSegment([]byte(`{"type":"track","event":"Order Completed","userId":"u1","messageId":"m1","timestamp":"2026-01-01T00:00:00Z","properties":{"total":12.34,"currency":"EUR"}}`))
	if err != nil || len(evs) != 1 || evs[0].Amount != 1234 || evs[0].Type != lifecycle.OrderCompleted || evs[0].ID != "m1" || evs[0].CustomerID != "u1" {
		t.Errorf("total: %+v %v", evs, err)
	}
	evs, err = lifecycle.FromSegment([]byte(`{"type":"track","event":"Order Completed","anonymousId":"a1","messageId":"m2","timestamp":"2026-01-01T00:00:00Z","properties":{"revenue":"5.5","currency":"USD"}}`))
	if err != nil || len(evs) != 1 || evs[0].Amount != 550 || evs[0].CustomerID != "a1" {
		t.Errorf("revenue/anonymousId: %+v %v", evs, err)
	}
	for _, bad := range []string{
		`{"type":"track","event":"Signed Up","userId":"u1","MESSAGEID":"m1","timestamp":"2026-01-01T00:00:00Z"}`,
		`{"type":"track","event":"Signed Up","userId":"u1","messageId":"m1","messageId":"m2","timestamp":"2026-01-01T00:00:00Z"}`,
	} {
		if _, err := lifecycle.FromSegment([]byte(bad)); !errors.Is(err, lifecycle.ErrInvalidEvent) {
			t.Errorf("FromSegment(%s) = %v, want ErrInvalidEvent", bad, err)
		}
	}
	for _, name := range []string{"Order Completed", "Product Viewed", "Signed Up"} {
		if _, ok := lifecycle.SegmentTypes[name]; !ok {
			t.Errorf("SegmentTypes lacks %q", name)
		}
	}
}

// README: bad input, RecordBatch all or nothing, hooks, clock, pending referrers.
func TestDocReadmeTrackerClaims(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)
	var changes []lifecycle.Change
	var logbuf bytes.Buffer
	tr := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory(),
		lifecycle.WithClock(func() time.Time { return at.Add(time.Hour) }),
		lifecycle.WithHook(func(ctx context.Context, ch lifecycle.Change) { changes = append(changes, ch) }),
		lifecycle.WithLogger(slog.New(slog.NewTextHandler(&logbuf, nil))),
		lifecycle.WarnUndeclared())

	_, err := tr.Record(ctx, lifecycle.Event{ID: "e1", CustomerID: "c1", Type: lifecycle.OrderCompleted, Time: at, Amount: 10, Currency: "eur"})
	var ve *lifecycle.ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, lifecycle.ErrInvalidEvent) || ve.Field != "currency" || ve.Value != "eur" {
		t.Errorf("bad currency: %#v", err)
	}
	// from the future
	if _, err := tr.Record(ctx, lifecycle.Event{ID: "e1", CustomerID: "c1", Type: lifecycle.SiteVisited, Time: at.Add(48 * time.Hour)}); !errors.Is(err, lifecycle.ErrInvalidEvent) {
		t.Errorf("future event: %v", err)
	}
	// batch: nothing applied if one is invalid
	_, err = tr.RecordBatch(ctx, []lifecycle.Event{
		{ID: "b1", CustomerID: "c2", Type: lifecycle.SiteVisited, Time: at},
		{ID: "", CustomerID: "c2", Type: lifecycle.SiteVisited, Time: at},
	})
	if err == nil {
		t.Error("batch with an invalid event: no error")
	}
	if _, err := tr.Customer(ctx, "c2"); !errors.Is(err, lifecycle.ErrNotFound) {
		t.Errorf("batch applied something: %v", err)
	}
	// hook for a new customer's first stage, with an empty From
	if _, err := tr.Record(ctx, lifecycle.Event{ID: "v1", CustomerID: "c3", Type: lifecycle.SiteVisited, Time: at, ReferrerID: "ghost"}); err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0].From != "" || changes[0].CustomerID != "c3" {
		t.Errorf("hook changes %+v", changes)
	}
	if _, err := tr.Record(ctx, lifecycle.Event{ID: "o1", CustomerID: "c3", Type: lifecycle.OrderCompleted, Time: at, Amount: 100, Currency: "EUR"}); err != nil {
		t.Fatal(err)
	}
	g, err := tr.Customer(ctx, "ghost")
	if err != nil {
		t.Fatalf("pending referrer: %v", err)
	}
	if !g.PendingReferrer() || g.Stage != "" || len(g.Facts.Referrals) != 1 {
		t.Errorf("ghost: pending %v stage %q referrals %v", g.PendingReferrer(), g.Stage, g.Facts.Referrals)
	}
	_ = tr.Undeclared()
	_ = lifecycle.ImportChunk
}

// README: "Choosing a model" table (names, constructors, options, stage IDs).
func TestDocReadmeModelTable(t *testing.T) {
	_ = model.SterneCutler(model.LapseAfter(180*24*time.Hour), model.RepeatPurchases(2), model.LoyalOrders(5))
	_ = model.SixStage(model.LapseAfter(180*24*time.Hour), model.EngageVisits(3), model.BondPurchases(3))
	_ = model.FiveStage(model.LapseAfter(180*24*time.Hour), model.NurtureAfter(14*24*time.Hour), model.RepeatPurchases(2), model.AdvocateReferrals(1), model.PromoterScore(9))
	if model.DefaultLapseAfter != 180*24*time.Hour || model.DefaultRepeatPurchases != 2 || model.DefaultLoyalOrders != 5 ||
		model.DefaultEngageVisits != 3 || model.DefaultBondPurchases != 3 || model.DefaultNurtureAfter != 14*24*time.Hour ||
		model.DefaultAdvocateReferrals != 1 || model.DefaultPromoterScore != 9 {
		t.Error("a default differs from README's table")
	}
	for name, want := range map[string]string{
		"sterne-cutler": "reach acquisition conversion retention loyalty",
		"six-stage":     "awareness engagement evaluation purchase experience bonding",
		"five-stage":    "awareness conversion nurturing retention advocacy",
		"flywheel":      "engage acquire nurture retain advocate",
	} {
		m, err := model.Lookup(name)
		if err != nil {
			t.Errorf("Lookup(%q): %v", name, err)
			continue
		}
		var ids []string
		for _, s := range m.Stages().Stages() {
			ids = append(ids, string(s.ID))
		}
		if strings.Join(ids, " ") != want {
			t.Errorf("%s stages %v, want %s", name, ids, want)
		}
	}
	_ = model.DOT(model.SixStage())
	_ = flywheel.Model()
}

// README: each mermaid block is what model.Mermaid prints for that model.
func TestDocReadmeMermaid(t *testing.T) {
	rd := readme(t)
	re := regexp.MustCompile("(?s)```mermaid\n(.*?)```")
	blocks := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(rd, -1) {
		title := regexp.MustCompile(`title: (\S+)`).FindStringSubmatch(m[1])
		blocks[title[1]] = m[1]
	}
	for name, m := range map[string]lifecycle.Model{
		"sterne-cutler": model.SterneCutler(), "six-stage": model.SixStage(),
		"five-stage": model.FiveStage(), "flywheel": flywheel.Model(),
	} {
		got := strings.TrimSpace(model.Mermaid(m))
		want := strings.TrimSpace(blocks[name])
		if got != want {
			t.Errorf("%s: README diagram differs from model.Mermaid:\n%s\n---\n%s", name, want, got)
		}
	}
}

// README: the conformance suites' one-test forms and the rule names.
type reviewMyModel struct{ lifecycle.Model }

func reviewNewMyModel() lifecycle.Model { return model.SterneCutler() }

func TestDocReadmeModeltest(t *testing.T) {
	want := "Declared Total NoPanic Deterministic Pure Stable Graph Reached NextChange"
	var got []string
	for _, r := range modeltest.Rules() {
		got = append(got, r.Name)
	}
	if strings.Join(got, " ") != want {
		t.Errorf("modeltest.Rules() = %v, README lists %s", got, want)
	}
	var _ modeltest.TypeReader
	_ = modeltest.Option(modeltest.Types(lifecycle.SiteVisited))
	_ = func(t *testing.T) { modeltest.Run(t, reviewNewMyModel()) }
	_ = func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) lifecycle.Store { return store.NewMemory() })
	}
	_ = []stage.Kind{stage.Decline, stage.Exit, stage.WinBack}
	_ = stage.Stage{}.Kind
	_ = funnel.Where(model.Orders(1))
	_ = model.All(model.Orders(1), model.Any(model.Orders(2)), model.Not(model.Orders(3)))
	var _ lifecycle.Scheduler
	var _ lifecycle.Applier
	var _ lifecycle.DueLister
}

// README "Importing history": the importFile snippet, run on a file, and the
// error text for an invalid event.
func reviewImportFile(ctx context.Context, w io.Writer, t *lifecycle.Tracker, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	events := func(yield func(lifecycle.Event, error) bool) {
		for {
			var e lifecycle.Event
			err := dec.Decode(&e)
			if errors.Is(err, io.EOF) {
				return
			}
			if !yield(e, err) || err != nil {
				return
			}
		}
	}
	res, err := t.Import(ctx, events, func(r lifecycle.ImportResult) {
		fmt.Fprintf(w, "%d events: %d applied, %d duplicates\n", r.Events, r.Applied, r.Duplicates)
	})
	fmt.Fprintf(w, "%d customers written, %d stage changes\n", res.Customers, res.Moved)
	return err
}

func TestDocReadmeImport(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "events.jsonl")
	var buf bytes.Buffer
	for i := range 3 {
		b, _ := json.Marshal(lifecycle.Event{ID: fmt.Sprint("e", i), CustomerID: "c1", Type: lifecycle.OrderCompleted, Time: at.Add(time.Duration(i) * time.Hour), Amount: 100, Currency: "EUR"})
		buf.Write(b)
		buf.WriteByte('\n')
	}
	buf.WriteString(`{"id":"","customer_id":"c1","type":"site_visited","time":"2026-05-04T12:00:00Z"}` + "\n")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	tr := lifecycle.NewTracker(model.SterneCutler(), store.NewMemory(), lifecycle.WithClock(func() time.Time { return at.Add(24 * time.Hour) }))
	var out bytes.Buffer
	err := reviewImportFile(ctx, &out, tr, path)
	if err == nil || !strings.HasPrefix(err.Error(), "import: event 3: lifecycle: invalid event: ") {
		t.Errorf("error %q, README: import: event N: lifecycle: invalid event: …", err)
	}
	c, cerr := tr.Customer(ctx, "c1")
	if cerr != nil || c.Facts.Orders() != 3 {
		t.Errorf("events before the invalid one not stored: %v %v", c, cerr)
	}
	t.Logf("%s", out.String())
	// Fix the input and run again: what was stored comes back as duplicates.
	buf.Truncate(bytes.LastIndexByte(buf.Bytes()[:buf.Len()-1], '\n') + 1)
	os.WriteFile(path, buf.Bytes(), 0o600)
	out.Reset()
	if err := reviewImportFile(ctx, &out, tr, path); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "3 events: 0 applied, 3 duplicates") {
		t.Errorf("re-import: %s", out.String())
	}
}

// README "Analytics": the snippet compiles and runs.
func TestDocReadmeFunnel(t *testing.T) {
	ctx := context.Background()
	m := model.SterneCutler()
	st := store.NewMemory()
	rep, err := funnel.AnalyzeStore(ctx, m.Stages(), st,
		funnel.CohortBy(funnel.FirstSeen(funnel.Month)))
	if err != nil {
		t.Fatal(err)
	}
	_ = rep.Table()
}

// README "For researchers": LiteratureExample's parameters and figures.
func TestDocReadmeLiteratureExample(t *testing.T) {
	p := flywheel.LiteratureExample()
	if p.PaidProspects != 100 || p.Referrals != 1 || p.AdvocateChurn != 0 || p.Lag != 1 ||
		p.Conversion != [4]float64{0.75, 0.45, 0.5, 0.6} || p.ReferredConversion != 0.75 ||
		p.SpendPerProspect != 20 || p.Rotations != 12 {
		t.Errorf("LiteratureExample = %+v", p)
	}
}

// ---- docs/models.md ----

// reviewFacts folds events given as (type, days after t0) into facts.
func reviewFacts(t0 time.Time, evs ...any) *lifecycle.Facts {
	var f lifecycle.Facts
	for i := 0; i < len(evs); i += 2 {
		e := lifecycle.Event{ID: fmt.Sprint("e", i), CustomerID: "c", Type: evs[i].(lifecycle.EventType), Time: t0.Add(time.Duration(evs[i+1].(int)) * 24 * time.Hour)}
		switch e.Type {
		case lifecycle.OrderCompleted, lifecycle.OrderRefunded, lifecycle.SubscriptionStarted, lifecycle.SubscriptionRenewed:
			e.Amount, e.Currency = 1000, "EUR"
		case lifecycle.SurveyAnswered:
			e.Attrs = map[string]string{lifecycle.ScoreAttr: "10"}
		}
		f.Add(&e)
	}
	return &f
}

// docs/models.md "The cases the articles gloss over", row by row.
func TestDocModelsDocCases(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	day := func(d int) time.Time { return t0.Add(time.Duration(d) * 24 * time.Hour) }
	sc, six, five := model.SterneCutler(), model.SixStage(), model.FiveStage()
	O, R, T, TR, C := lifecycle.OrderCompleted, lifecycle.OrderRefunded, lifecycle.TicketOpened, lifecycle.TicketResolved, lifecycle.SubscriptionCancelled
	for _, c := range []struct {
		name          string
		f             *lifecycle.Facts
		at            int
		sc, six, five stage.ID
	}{
		{"lapse", reviewFacts(t0, O, 0, O, 1), 400, "acquisition", "evaluation", "nurturing"},
		{"loyal lapses and buys again", reviewFacts(t0, O, 0, O, 1, O, 2, O, 3, O, 4, O, 400), 401, "loyalty", "bonding", "retention"},
		{"refund of the only order", reviewFacts(t0, O, 0, R, 1), 2, "acquisition", "evaluation", "awareness"},
		{"one-time buyer", reviewFacts(t0, O, 0), 1, "conversion", "purchase", "conversion"},
		{"one-time buyer after NurtureAfter", reviewFacts(t0, O, 0), 20, "conversion", "purchase", "nurturing"},
		{"one-time buyer with a ticket", reviewFacts(t0, O, 0, T, 1), 2, "conversion", "experience", "conversion"},
		{"cancelled subscription", reviewFacts(t0, lifecycle.SubscriptionStarted, 0, lifecycle.SubscriptionRenewed, 30, C, 31), 32, "acquisition", "evaluation", "nurturing"},
		{"loyal with open ticket", reviewFacts(t0, O, 0, O, 1, O, 2, O, 3, O, 4, T, 5), 6, "loyalty", "experience", "retention"},
		{"loyal, ticket resolved", reviewFacts(t0, O, 0, O, 1, O, 2, O, 3, O, 4, T, 5, TR, 6), 7, "loyalty", "bonding", "retention"},
		{"promoter repeat buyer", reviewFacts(t0, O, 0, O, 1, lifecycle.SurveyAnswered, 2), 3, "retention", "experience", "advocacy"},
		{"advocate who stops buying", reviewFacts(t0, O, 0, O, 1, lifecycle.SurveyAnswered, 2), 400, "acquisition", "evaluation", "nurturing"},
	} {
		for _, x := range []struct {
			m    lifecycle.Model
			want stage.ID
		}{{sc, c.sc}, {six, c.six}, {five, c.five}} {
			if got := x.m.Stage(c.f, day(c.at)); got != x.want {
				t.Errorf("%s, %s: %s, docs say %s", c.name, x.m.Name(), got, x.want)
			}
		}
	}
}

// docs/models.md "Custom models: the builder": the membership snippet.
func TestDocModelsDocBuilder(t *testing.T) {
	m, err := model.NewBuilder("membership").
		Start(stage.Stage{ID: "guest", Name: "Guest"}). // the fallback: no rule
		Stage(stage.Stage{ID: "member", Name: "Member"}, model.Count(lifecycle.SignedUp, 1)).
		Stage(stage.Stage{ID: "customer", Name: "Customer"},
			model.All(model.Orders(1), model.Within(365*24*time.Hour, lifecycle.OrderCompleted))).
		Stage(stage.Stage{ID: "vip", Name: "VIP"},
			model.All(model.Spent("EUR", 50000), model.Within(365*24*time.Hour, lifecycle.OrderCompleted))).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	if err := modeltest.TestModel(m); err != nil {
		t.Errorf("membership model: %v", err)
	}
	if _, err := model.NewBuilder("bad").Start(stage.Stage{ID: "a"}).Stage(stage.Stage{ID: "b"}, model.Count("unprefixed", 1)).Build(); !errors.Is(err, model.ErrInvalidModel) {
		t.Errorf("unprefixed type: %v", err)
	}
}

// docs/models.md "Worked example: a subscription box": the snippet compiles,
// its diagram is the one shown, and the edge counts hold.
func TestDocModelsDocSubscriptionBox(t *testing.T) {
	build := reviewSubscriptionBox
	m := build(true)
	doc, err := os.ReadFile("docs/models.md")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)```mermaid\n(---\ntitle: subscription-box.*?)```").FindSubmatch(doc)
	if block == nil || strings.TrimSpace(string(block[1])) != strings.TrimSpace(model.Mermaid(m)) {
		t.Errorf("docs/models.md's subscription-box diagram differs from model.Mermaid:\n%s", model.Mermaid(m))
	}
	if err := modeltest.TestModel(m, modeltest.EveryEdge()); err != nil {
		t.Errorf("declared graph not exact: %v", err)
	}
	derived := build(false)
	if n := len(derived.Stages().Edges()); n != 41 {
		t.Errorf("derived edges %d, docs say 41", n)
	}
	_, unused := modeltest.Unused(derived, modeltest.Walks(3000))
	if len(unused) != 17 {
		t.Errorf("Unused with Walks(3000): %d, docs say 17", len(unused))
	}
	declared := map[[2]stage.ID]bool{}
	for _, e := range m.Stages().Edges() {
		declared[[2]stage.ID{e.From, e.To}] = true
	}
	isUnused := map[[2]stage.ID]bool{}
	for _, e := range unused {
		isUnused[[2]stage.ID{e.From, e.To}] = true
	}
	for _, e := range derived.Stages().Edges() {
		k := [2]stage.ID{e.From, e.To}
		if !isUnused[k] != declared[k] {
			t.Errorf("edge %v: taken=%v, declared in the docs' Edges=%v", k, !isUnused[k], declared[k])
		}
	}
}

// docs/models.md "Registry".
func TestDocModelsDocRegistry(t *testing.T) {
	name := "review-sterne-cutler-90d"
	if err := model.Register(name, model.SterneCutler(model.LapseAfter(90*24*time.Hour))); err != nil {
		t.Fatal(err)
	}
	if err := model.Register(name, model.SixStage()); !errors.Is(err, model.ErrDuplicateModel) {
		t.Errorf("taken name: %v", err)
	}
	for _, bad := range []string{"", " x", "x "} {
		if err := model.Register(bad, model.SixStage()); !errors.Is(err, model.ErrInvalidModel) {
			t.Errorf("Register(%q): %v", bad, err)
		}
	}
	if err := model.Register("review-nil", nil); !errors.Is(err, model.ErrInvalidModel) {
		t.Errorf("nil model: %v", err)
	}
	_, err := model.Lookup("no-such-model")
	if !errors.Is(err, model.ErrUnknownModel) || !strings.Contains(err.Error(), "six-stage") {
		t.Errorf("unknown: %v", err)
	}
	if names := model.Names(); !slices.IsSorted(names) {
		t.Errorf("Names not sorted: %v", names)
	}
}

// docs/models.md "Reachability": the ExampleAllowUnused message as quoted.
func TestDocModelsDocReached(t *testing.T) {
	const trialStarted = lifecycle.EventType("box.trial_started")
	m := model.NewBuilder("box").
		Start(stage.Stage{ID: "prospect"}).
		Stage(stage.Stage{ID: "trial"}, model.Count(trialStarted, 1)).
		Stage(stage.Stage{ID: "paid"}, model.All(
			model.Count(lifecycle.SubscriptionRenewed, 1),
			model.Not(model.Count(trialStarted, 1)))).
		MustBuild()
	err := modeltest.TestModel(m)
	msg := fmt.Sprint(err)
	for _, want := range []string{
		`lifecycle: invalid model: modeltest: model "box": rule Reached: stage "trial" was reached but never left in 300 random histories of 40 steps (seed 1,2), although the graph declares trial → paid (advance)`,
		`modeltest.AllowUnused(stage.Edge{From: "trial", To: "paid"})`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if err := modeltest.TestModel(m, modeltest.AllowUnused(stage.Edge{From: "trial", To: "paid"})); err != nil {
		t.Errorf("accepted: %v", err)
	}
	stages, edges := modeltest.Unused(m)
	if len(stages) != 0 || len(edges) != 2 || edges[0].From != "trial" || edges[1].From != "paid" || edges[1].To != "prospect" {
		t.Errorf("Unused = %v %v", stages, edges)
	}
}

// ---- docs/analytics.md ----

func TestDocAnalyticsDoc(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	st := store.NewMemory()
	tr := lifecycle.NewTracker(model.SterneCutler(), st, lifecycle.WithClock(func() time.Time { return t0.AddDate(1, 0, 0) }))
	for i, ty := range []lifecycle.EventType{lifecycle.SiteVisited, lifecycle.OrderCompleted, lifecycle.OrderCompleted, lifecycle.TicketOpened} {
		e := lifecycle.Event{ID: fmt.Sprint("e", i), CustomerID: "c1", Type: ty, Time: t0.Add(time.Duration(i) * 24 * time.Hour)}
		if ty == lifecycle.OrderCompleted {
			e.Amount, e.Currency = 100, "EUR"
		}
		if _, err := tr.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	lastQuarter := t0.AddDate(0, 3, 0)
	var w bytes.Buffer

	m := model.SterneCutler()
	rep, err := funnel.AnalyzeStore(ctx, m.Stages(), st,
		funnel.CohortBy(funnel.FirstSeen(funnel.Month)), // optional: per cohort
		funnel.Only(funnel.InStage(model.Retention)),    // optional: one segment
		funnel.AsOf(lastQuarter),                        // optional: a past date
		funnel.Percentiles(50, 90, 99))                  // default 25, 50, 75, 90
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(&w, rep.Table())                                 // counts and rates, one row per cohort × stage
	if err := rep.Funnel.TimeTable().WriteCSV(&w); err != nil { // every duration distribution, long form
		t.Fatal(err)
	}
	if !strings.Contains(w.String(), "(all)") || !strings.Contains(w.String(), "2026-03") {
		t.Errorf("Report.Table lacks the (all) total or the 2026-03 cohort:\n%s", w.String())
	}
	if !slices.Equal(funnel.DefaultPercentiles, []float64{25, 50, 75, 90}) {
		t.Errorf("DefaultPercentiles = %v", funnel.DefaultPercentiles)
	}
	a, err := funnel.New(m.Stages())
	if err != nil {
		t.Fatal(err)
	}
	c, _ := tr.Customer(ctx, "c1")
	if err := a.Add(c); err != nil {
		t.Fatal(err)
	}
	_ = a.Report()

	// Periods' keys.
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) // a Sunday: ISO week 9
	if k := funnel.Day.Key(at); k != "2026-03-01" {
		t.Errorf("Day key %s", k)
	}
	if k := funnel.Week.Key(at); k != "2026-W09" {
		t.Errorf("Week key %s", k)
	}
	if k := funnel.Month.Key(at); k != "2026-03" {
		t.Errorf("Month key %s", k)
	}

	// The segments snippet.
	loyalBeauty := funnel.All(funnel.InStage(model.Loyalty), funnel.HasEvent("shop.beauty_purchased", 1))
	atRisk := funnel.All(funnel.InStage(model.Acquisition), funnel.HasEvent(lifecycle.OrderCompleted, 1), funnel.OpenTicket())
	for id, err := range atRisk.IDs(ctx, st) {
		_, _ = id, err
	}
	lapsing := funnel.Where(model.All(model.Orders(2),
		model.Not(model.Within(90*24*time.Hour, lifecycle.OrderCompleted))))
	var n int
	for _, err := range lapsing.IDs(ctx, st) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 0 { // c1's last order is one day before its last event
		t.Errorf("lapsing matched %d", n)
	}
	_ = loyalBeauty
	if _, err := funnel.AnalyzeStore(ctx, m.Stages(), st, funnel.Only(funnel.HasEvent("unprefixed", 1))); !errors.Is(err, funnel.ErrInvalidInput) || !errors.Is(err, model.ErrInvalidModel) {
		t.Errorf("malformed rule segment: %v", err)
	}
}

// ---- docs/flywheel.md ----

func TestDocFlywheelDoc(t *testing.T) {
	ctx := context.Background()
	p := flywheel.LiteratureExample()
	p.Rotations = 3
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	myModel := flywheel.Model()
	ev, err := flywheel.Expected(p) // deterministic recurrence (exact expectations)
	if err != nil {
		t.Fatal(err)
	}
	mc, err := flywheel.MonteCarlo(ctx, p, // binomial/Poisson draws
		flywheel.Runs(100), flywheel.Seed(42), // run i uses rand.NewPCG(seed, splitmix64(i))
		flywheel.PaidInflow(flywheel.ConstantInflow()), // paid prospects: Poisson (default), constant or your own
		flywheel.Workers(0), flywheel.Quantiles(0.05, 0.5, 0.95),
		flywheel.Progress(func(done, total int) {})) // cancellable through ctx
	if err != nil {
		t.Fatal(err)
	}
	p.PaidProspects = 5
	run, err := flywheel.Agent(ctx, p, // per-customer events through a real Tracker
		flywheel.WithModel(myModel), flywheel.WithStore(store.NewMemory()),
		flywheel.StartAt(t0), flywheel.Every(30*24*time.Hour), flywheel.Seed(1))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = run.Measurement, run.Tracker.Store()
	r5, err := ev.Rotation(1)
	if err != nil || r5 != &ev.Rotations[0] {
		t.Errorf("Rotation(1): %v", err)
	}
	if _, err := mc.Rotation(4); !errors.Is(err, flywheel.ErrInvalidParams) {
		t.Errorf("Rotation(4) of 3: %v", err)
	}
	var names []string
	for _, m := range flywheel.AllMetrics() {
		names = append(names, m.String())
	}
	want := "paid_prospects referred_prospects engaged acquired new_customers retained new_advocates advocates referring_advocates new_referrals customers k spend cac"
	if strings.Join(names, " ") != want {
		t.Errorf("AllMetrics = %v\ndocs list   %s", names, want)
	}
	wantParams := []string{"rotations", "paid", "engage_acquire", "acquire_nurture", "nurture_retain", "retain_advocate", "referred_conversion", "referrals", "churn", "lag", "spend"}
	got := flywheel.ParamNames()
	slices.Sort(got)
	slices.Sort(wantParams)
	if !slices.Equal(got, wantParams) {
		t.Errorf("ParamNames = %v, docs %v", got, wantParams)
	}
	if flywheel.MaxLag != 1000 || flywheel.MaxRotations != 10_000 {
		t.Errorf("MaxLag %d MaxRotations %d", flywheel.MaxLag, flywheel.MaxRotations)
	}
}

// reviewSubscriptionBox is docs/models.md's worked example, as written
// there (with its Edges when edges is true).
func reviewSubscriptionBox(edges bool) *model.Custom {
	const (
		trialStarted    = lifecycle.EventType("box.trial_started")
		winbackAccepted = lifecycle.EventType("box.winback_accepted")
		day             = 24 * time.Hour
	)
	renewed := model.Count(lifecycle.SubscriptionRenewed, 1)
	paying := model.Within(35*day, lifecycle.SubscriptionRenewed) // monthly, 5 days' grace
	to := func(from stage.ID, tos ...stage.ID) []stage.Edge {     // kinds are filled in by Build
		var es []stage.Edge
		for _, t := range tos {
			es = append(es, stage.Edge{From: from, To: t})
		}
		return es
	}
	b := model.NewBuilder("subscription-box").
		Start(stage.Stage{ID: "prospect", Name: "Prospect"}).
		Stage(stage.Stage{ID: "trial", Name: "Trial"}, model.Count(trialStarted, 1)).
		Stage(stage.Stage{ID: "subscriber", Name: "Subscriber"}, model.All(renewed, paying)).
		Stage(stage.Stage{ID: "at-risk", Name: "At risk", Kind: stage.Decline},
			model.All(renewed, model.Not(paying))).
		Stage(stage.Stage{ID: "churned", Name: "Churned", Kind: stage.Exit},
			model.All(renewed, model.Not(model.Within(70*day, lifecycle.SubscriptionRenewed)))).
		Stage(stage.Stage{ID: "win-back", Name: "Win-back", Kind: stage.WinBack},
			model.All(paying, model.Within(60*day, winbackAccepted))).
		Stage(stage.Stage{ID: "advocate", Name: "Advocate"}, model.All(paying, model.Referrals(1)))
	if edges {
		b = b.Edges(to("prospect", "trial", "subscriber", "win-back", "advocate")...).
			Edges(to("trial", "subscriber", "win-back", "advocate")...).
			Edges(to("subscriber", "at-risk", "churned", "win-back", "advocate")...).
			Edges(to("at-risk", "subscriber", "churned", "win-back", "advocate")...).
			Edges(to("churned", "subscriber", "win-back", "advocate")...).
			Edges(to("win-back", "subscriber", "at-risk", "churned", "advocate")...).
			Edges(to("advocate", "at-risk", "churned")...)
	}
	return b.MustBuild()
}

// README "Moves the graph does not declare": a prospect whose
// three-month-old renewal arrives now is churned at once, and the move is
// marked in the Result, the hook's Change, the Tracker's count and a Warn log.
func TestDocReadmeUndeclared(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	var logbuf bytes.Buffer
	var changes []lifecycle.Change
	tr := lifecycle.NewTracker(reviewSubscriptionBox(true), store.NewMemory(),
		lifecycle.WithClock(func() time.Time { return now }),
		lifecycle.WithLogger(slog.New(slog.NewTextHandler(&logbuf, nil))),
		lifecycle.WarnUndeclared(),
		lifecycle.WithHook(func(ctx context.Context, ch lifecycle.Change) { changes = append(changes, ch) }))
	if _, err := tr.Record(ctx, lifecycle.Event{ID: "v", CustomerID: "p", Type: lifecycle.SiteVisited, Time: now}); err != nil {
		t.Fatal(err)
	}
	res, err := tr.Record(ctx, lifecycle.Event{ID: "r", CustomerID: "p", Type: lifecycle.SubscriptionRenewed, Time: now.AddDate(0, -3, 0), Amount: 2900, Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	if res.From != "prospect" || res.To != "churned" || !res.Undeclared {
		t.Errorf("result %+v, want prospect → churned, undeclared", res)
	}
	if len(changes) != 2 || !changes[1].Undeclared {
		t.Errorf("hook changes %+v", changes)
	}
	if tr.Undeclared() != 1 {
		t.Errorf("Undeclared() = %d", tr.Undeclared())
	}
	if !strings.Contains(logbuf.String(), "level=WARN") {
		t.Errorf("no Warn log: %q", logbuf.String())
	}
}

// ---- docs/feed.md and docs/shop.md: the snippets compile, and a stage
// change goes through the Dispatcher and the Sender to a receiver that
// verifies it. ----

// startWebhooks delivers st's stage changes to url as signed webhooks,
// until ctx is done.
func reviewStartWebhooks(ctx context.Context, st lifecycle.Store, url, secret string, log *slog.Logger) (*feed.Dispatcher, error) {
	changes, ok1 := st.(lifecycle.ChangeLister)
	cursors, ok2 := st.(lifecycle.CursorKeeper)
	if !ok1 || !ok2 {
		return nil, errors.New("this store has no change feed")
	}
	sender, err := webhook.New(url, secret)
	if err != nil {
		return nil, err
	}
	d, err := feed.New(changes, cursors, "webhooks", sender.Deliver, feed.WithLogger(log))
	if err != nil {
		return nil, err
	}
	go func() {
		if err := d.Run(ctx); !errors.Is(err, context.Canceled) {
			log.Error("webhooks stopped", "err", err) // a 410 Gone: fix the endpoint, restart
		}
	}()
	return d, nil
}

// reviewReceiver is docs/shop.md's receiver, as written there.
type reviewReceiver struct {
	secret string // the shop's -webhook-secret, "whsec_…"
	act    func(p webhook.Payload) error

	mu   sync.Mutex
	done map[string]bool // webhook-ids acted on: keep them in your database
}

func (rc *reviewReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "cannot read the body", http.StatusBadRequest)
		return
	}
	// Verify the bytes received, before decoding them.
	if err := webhook.Verify(rc.secret, r.Header, body, time.Now(), 0); err != nil {
		http.Error(w, "not verified", http.StatusUnauthorized)
		return
	}
	var p webhook.Payload
	if err := json.Unmarshal(body, &p); err != nil {
		http.Error(w, "not a stage change", http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.done[p.Data.ID] { // delivered again: acted on already
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if err := rc.act(p); err != nil {
		http.Error(w, "try again later", http.StatusServiceUnavailable) // the shop retries
		return
	}
	rc.done[p.Data.ID] = true
	w.WriteHeader(http.StatusNoContent)
}

func TestDocFeedDocWebhooks(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	secret := "whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	got := make(chan webhook.Payload, 10)
	rc := &reviewReceiver{secret: secret, done: map[string]bool{}, act: func(p webhook.Payload) error { got <- p; return nil }}
	srv := httptest.NewServer(rc)
	defer srv.Close()

	st := store.NewMemory()
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	tr := lifecycle.NewTracker(model.SterneCutler(), st, lifecycle.WithClock(func() time.Time { return now }))
	if _, err := reviewStartWebhooks(ctx, st, srv.URL, secret, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Record(ctx, lifecycle.Event{ID: "s-1", CustomerID: "c42", Type: lifecycle.SignedUp, Time: now}); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-got:
		if p.Type != "customer.stage_changed" || p.Data.CustomerID != "c42" || p.Data.To != "acquisition" || !strings.HasPrefix(p.Data.ID, "chg_") {
			t.Errorf("payload %+v", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook delivered")
	}
}

// README "Idempotent, order-independent": the same ID for another customer
// is another event; the facts and stage do not depend on arrival order.
func TestDocReadmeIdempotentOrder(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)
	clock := lifecycle.WithClock(func() time.Time { return at.AddDate(0, 0, 30) })
	tr := lifecycle.NewTracker(model.FiveStage(), store.NewMemory(), clock)
	for _, c := range []string{"a", "b"} {
		res, err := tr.Record(ctx, lifecycle.Event{ID: "same", CustomerID: c, Type: lifecycle.SiteVisited, Time: at})
		if err != nil || res.Duplicate {
			t.Errorf("customer %s: %+v %v", c, res, err)
		}
	}
	evs := []lifecycle.Event{
		{ID: "1", CustomerID: "c", Type: lifecycle.SiteVisited, Time: at},
		{ID: "2", CustomerID: "c", Type: lifecycle.OrderCompleted, Time: at.Add(time.Hour), Amount: 100, Currency: "EUR"},
		{ID: "3", CustomerID: "c", Type: lifecycle.OrderCompleted, Time: at.Add(48 * time.Hour), Amount: 200, Currency: "EUR"},
		{ID: "4", CustomerID: "c", Type: lifecycle.SurveyAnswered, Time: at.Add(72 * time.Hour), Attrs: map[string]string{lifecycle.ScoreAttr: "10"}},
		{ID: "5", CustomerID: "c", Type: lifecycle.OrderRefunded, Time: at.Add(96 * time.Hour), Amount: 100, Currency: "EUR"},
	}
	var want *lifecycle.Customer
	for _, perm := range [][]int{{0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, {2, 0, 4, 1, 3}} {
		tr := lifecycle.NewTracker(model.FiveStage(), store.NewMemory(), clock)
		for _, i := range perm {
			if _, err := tr.Record(ctx, evs[i]); err != nil {
				t.Fatal(err)
			}
		}
		c, err := tr.Customer(ctx, "c")
		if err != nil {
			t.Fatal(err)
		}
		if want == nil {
			want = c
			continue
		}
		a, _ := json.Marshal(want.Facts)
		b, _ := json.Marshal(c.Facts)
		if c.Stage != want.Stage || !bytes.Equal(a, b) {
			t.Errorf("order %v: stage %s facts %s; first order: %s %s", perm, c.Stage, b, want.Stage, a)
		}
	}
}

// docs/models.md: the clamps stated in the entry-rule tables.
func TestDocModelsDocClamps(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	day := func(d int) time.Time { return t0.Add(time.Duration(d) * 24 * time.Hour) }
	O := lifecycle.OrderCompleted
	orders := func(n int) *lifecycle.Facts {
		var evs []any
		for i := range n {
			evs = append(evs, O, i)
		}
		return reviewFacts(t0, evs...)
	}
	// LoyalOrders raised to RepeatPurchases+1 if lower.
	sc := model.SterneCutler(model.RepeatPurchases(6), model.LoyalOrders(3))
	if got := sc.Stage(orders(6), day(7)); got != model.Retention {
		t.Errorf("SterneCutler(RepeatPurchases(6), LoyalOrders(3)), 6 orders: %s, want retention", got)
	}
	if got := sc.Stage(orders(7), day(8)); got != model.Loyalty {
		t.Errorf("… 7 orders: %s, want loyalty", got)
	}
	// RepeatPurchases never below 2.
	if got := model.SterneCutler(model.RepeatPurchases(1)).Stage(orders(1), day(1)); got != model.Conversion {
		t.Errorf("RepeatPurchases(1), 1 order: %s, want conversion", got)
	}
	// BondPurchases at least 2.
	if got := model.SixStage(model.BondPurchases(1)).Stage(orders(1), day(1)); got != model.SixStagePurchase {
		t.Errorf("BondPurchases(1), 1 order: %s, want purchase", got)
	}
	// EngageVisits at least 1.
	if got := model.SixStage(model.EngageVisits(0)).Stage(reviewFacts(t0, lifecycle.SiteVisited, 0), day(1)); got != model.SixStageEngagement {
		t.Errorf("EngageVisits(0), 1 visit: %s, want engagement", got)
	}
	// PromoterScore 11 turns it off.
	f := reviewFacts(t0, O, 0, O, 1, lifecycle.SurveyAnswered, 2)
	if got := model.FiveStage(model.PromoterScore(11)).Stage(f, day(3)); got != model.FiveStageRetention {
		t.Errorf("PromoterScore(11), score 10: %s, want retention", got)
	}
	// NurtureAfter lowered to LapseAfter if above it.
	m := model.FiveStage(model.LapseAfter(10*24*time.Hour), model.NurtureAfter(30*24*time.Hour))
	if got := m.Stage(orders(1), day(5)); got != model.FiveStageConversion {
		t.Errorf("day 5: %s", got)
	}
	if got := m.Stage(orders(1), day(11)); got != model.FiveStageNurturing {
		t.Errorf("day 11 (lapsed): %s", got)
	}
	// LapseAfter(d ≤ 0) never lapses.
	if got := model.SterneCutler(model.LapseAfter(0)).Stage(orders(1), day(5000)); got != model.Conversion {
		t.Errorf("LapseAfter(0), day 5000: %s", got)
	}
}

// README "Importing history" says Import stores "the same facts, stages
// and referral credits" as recording the events one by one with Record. A
// customer whose events name two referrers, arriving out of time order, is
// the exception Tracker.Import's doc names: Record credits both referrers,
// Import only the one the earliest referring event names.
func TestDocReadmeImportTwoReferrers(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)
	clock := lifecycle.WithClock(func() time.Time { return t0.AddDate(0, 0, 10) })
	input := []lifecycle.Event{
		{ID: "a0", CustomerID: "A", Type: lifecycle.SiteVisited, Time: t0},
		{ID: "b0", CustomerID: "B", Type: lifecycle.SiteVisited, Time: t0},
		{ID: "x2", CustomerID: "x", Type: lifecycle.SiteVisited, Time: t0.Add(2 * time.Hour), ReferrerID: "A"},
		{ID: "x3", CustomerID: "x", Type: lifecycle.OrderCompleted, Time: t0.Add(3 * time.Hour), Amount: 100, Currency: "EUR"},
		{ID: "x1", CustomerID: "x", Type: lifecycle.SiteVisited, Time: t0.Add(1 * time.Hour), ReferrerID: "B"},
	}
	credits := func(tr *lifecycle.Tracker) string {
		var s []string
		for _, id := range []string{"A", "B"} {
			c, err := tr.Customer(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			s = append(s, fmt.Sprintf("%s:%d", id, len(c.Facts.Referrals)))
		}
		return strings.Join(s, " ")
	}
	one := lifecycle.NewTracker(model.FiveStage(), store.NewMemory(), clock)
	for _, e := range input {
		if _, err := one.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	imp := lifecycle.NewTracker(model.FiveStage(), store.NewMemory(), clock)
	seq := func(yield func(lifecycle.Event, error) bool) {
		for _, e := range input {
			if !yield(e, nil) {
				return
			}
		}
	}
	if _, err := imp.Import(ctx, seq, nil); err != nil {
		t.Fatal(err)
	}
	r, i := credits(one), credits(imp)
	t.Logf("Record one by one: %s; Import: %s", r, i)
	if r != "A:1 B:1" || i != "A:0 B:1" {
		t.Errorf("Record: %s (want A:1 B:1), Import: %s (want A:0 B:1), as Tracker.Import's doc says", r, i)
	}
}

// README "Idempotent, order-independent, concurrent" says "the final facts
// and stage do not depend on arrival order". The exception Tracker's doc
// names ("a credit is never taken back"): a customer whose events name two
// referrers credits both when the later-dated referral arrives first, so
// the first referrer's facts, and under five-stage its stage, depend on
// arrival order.
func TestDocReadmeOrderTwoReferrers(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)
	clock := lifecycle.WithClock(func() time.Time { return t0.AddDate(0, 0, 10) })
	base := []lifecycle.Event{
		// A is an active repeat buyer: an advocate once a referral converts.
		{ID: "a1", CustomerID: "A", Type: lifecycle.OrderCompleted, Time: t0, Amount: 100, Currency: "EUR"},
		{ID: "a2", CustomerID: "A", Type: lifecycle.OrderCompleted, Time: t0.Add(time.Minute), Amount: 100, Currency: "EUR"},
		{ID: "b0", CustomerID: "B", Type: lifecycle.SiteVisited, Time: t0},
	}
	x1 := lifecycle.Event{ID: "x1", CustomerID: "x", Type: lifecycle.SiteVisited, Time: t0.Add(1 * time.Hour), ReferrerID: "B"}
	x2 := lifecycle.Event{ID: "x2", CustomerID: "x", Type: lifecycle.SiteVisited, Time: t0.Add(2 * time.Hour), ReferrerID: "A"}
	x3 := lifecycle.Event{ID: "x3", CustomerID: "x", Type: lifecycle.OrderCompleted, Time: t0.Add(3 * time.Hour), Amount: 100, Currency: "EUR"}
	stageOfA := func(order ...lifecycle.Event) (stage.ID, int) {
		tr := lifecycle.NewTracker(model.FiveStage(), store.NewMemory(), clock)
		for _, e := range append(slices.Clone(base), order...) {
			if _, err := tr.Record(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		a, err := tr.Customer(ctx, "A")
		if err != nil {
			t.Fatal(err)
		}
		return a.Stage, len(a.Facts.Referrals)
	}
	s1, n1 := stageOfA(x1, x2, x3) // in time order
	s2, n2 := stageOfA(x2, x3, x1) // the earlier referral arrives last
	t.Logf("in time order: A %s with %d credits; out of order: A %s with %d credits", s1, n1, s2, n2)
	if s1 == s2 && n1 == n2 {
		t.Errorf("A ends the same either way (%s, %d credits): README's claim holds after all", s1, n1)
	}
}
