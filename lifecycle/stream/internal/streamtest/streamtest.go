// Package streamtest holds what the engines' tests share: a plan of
// messages to send (shop events with duplicates, shuffled, some as
// Segment calls, and invalid messages), the sequential replay the final
// state must equal, the comparison of two stores, and the stores the
// tests record into.
package streamtest

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/shopsim"
	"github.com/clmkit/clm/lifecycle/stream"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
	"github.com/clmkit/clm/store/sqlstore"
)

// Config sizes a [Plan].
type Config struct {
	Events    int     // distinct events (shopsim.Stream)
	Customers int     // customer population
	Dup       float64 // share of valid messages sent a second time
	Invalid   int     // invalid messages, spread over the stream
	Seed      uint64
}

// Scale returns the configuration of the tests: small by default (20,000
// events over 2,000 customers, 20 % duplicates, 60 invalid messages), the
// issue's full scale (1,000,000 events over 100,000 customers) when
// CLM_STREAM_FULL=1.
func Scale() Config {
	if os.Getenv("CLM_STREAM_FULL") == "1" {
		return Config{Events: 1_000_000, Customers: 100_000, Dup: 0.2, Invalid: 600, Seed: 21}
	}
	return Config{Events: 20_000, Customers: 2_000, Dup: 0.2, Invalid: 60, Seed: 21}
}

// Plan is what a test sends and what it expects.
type Plan struct {
	// Messages are sent in this order (shuffled; duplicates included).
	Messages []stream.Outgoing
	// Invalid[i] reports whether Messages[i] must become a dead letter.
	Invalid []bool
	// Events are the distinct valid events, as the consumer decodes them.
	Events []lifecycle.Event
}

// InvalidCount is how many messages of the plan are invalid.
func (p *Plan) InvalidCount() int {
	n := 0
	for _, b := range p.Invalid {
		if b {
			n++
		}
	}
	return n
}

// Model is the model the tests' trackers use.
func Model() lifecycle.Model { return model.SterneCutler() }

// NewPlan builds the plan for cfg: every shopsim event as one message
// keyed by its customer (one in ten as a Segment track call), a share
// cfg.Dup of them again, cfg.Invalid invalid messages of six kinds, all
// shuffled.
func NewPlan(cfg Config) (*Plan, error) {
	events := shopsim.Stream(shopsim.StreamConfig{Events: cfg.Events, Customers: cfg.Customers, Seed: cfg.Seed})
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	type msg struct {
		out     stream.Outgoing
		invalid bool
	}
	msgs := make([]msg, 0, len(events)*6/5+cfg.Invalid)
	p := &Plan{}
	for i := range events {
		e := &events[i]
		var value []byte
		var err error
		if i%10 == 3 && (e.Amount == 0 || e.Currency == "EUR") {
			value, err = segmentCall(e)
		} else {
			value, err = json.Marshal(e)
		}
		if err != nil {
			return nil, err
		}
		decoded, err := stream.Decode(stream.FormatAuto, value)
		if err != nil {
			return nil, fmt.Errorf("event %d (%s) does not decode: %w", i, value, err)
		}
		p.Events = append(p.Events, decoded...)
		m := msg{out: stream.Outgoing{Key: e.CustomerID, Value: value}}
		msgs = append(msgs, m)
		if rng.Float64() < cfg.Dup {
			msgs = append(msgs, m)
		}
	}
	for i := range cfg.Invalid {
		key := shopsim.CustomerID(i % max(cfg.Customers, 1))
		msgs = append(msgs, msg{out: stream.Outgoing{Key: key, Value: invalidMessage(i, key)}, invalid: true})
	}
	rng.Shuffle(len(msgs), func(i, j int) { msgs[i], msgs[j] = msgs[j], msgs[i] })
	for _, m := range msgs {
		p.Messages = append(p.Messages, m.out)
		p.Invalid = append(p.Invalid, m.invalid)
	}
	return p, nil
}

// segmentCall writes e as a Segment track call.
func segmentCall(e *lifecycle.Event) ([]byte, error) {
	props := map[string]any{}
	if e.Amount != 0 {
		props["total"] = fmt.Sprintf("%d.%02d", e.Amount/100, e.Amount%100)
		props["currency"] = e.Currency
	}
	if e.ReferrerID != "" {
		props["referrer_id"] = e.ReferrerID
	}
	if s, ok := e.Attrs[lifecycle.ScoreAttr]; ok {
		props["score"] = s
	}
	return json.Marshal(map[string]any{
		"type": "track", "event": string(e.Type), "userId": e.CustomerID, "messageId": e.ID,
		"timestamp": e.Time.Format(time.RFC3339Nano), "properties": props,
	})
}

// invalidMessage returns the i-th invalid message, of one of six kinds,
// each distinct.
func invalidMessage(i int, key string) []byte {
	switch i % 6 {
	case 0:
		return fmt.Appendf(nil, "not json %d", i)
	case 1:
		return fmt.Appendf(nil, `{"id":"bad-%d","type":"site_visited","time":"2025-03-01T00:00:00Z"}`, i)
	case 2:
		return fmt.Appendf(nil, `{"id":"bad-%d","customer_id":%q,"type":"not_a_type","time":"2025-03-01T00:00:00Z"}`, i, key)
	case 3:
		return fmt.Appendf(nil, `{"id":"bad-%d","customer_id":%q,"type":"order_completed","time":"2025-03-01T00:00:00Z","amount":-5,"currency":"EUR"}`, i, key)
	case 4:
		return fmt.Appendf(nil, `{"type":"track","event":"Order Completed","userId":%q,"messageId":"bad-%d","timestamp":"yesterday"}`, key, i)
	default: // valid in form, but from the future: Tracker.Validate refuses it
		return fmt.Appendf(nil, `{"id":"bad-%d","customer_id":%q,"type":"site_visited","time":"2100-01-01T00:00:00Z"}`, i, key)
	}
}

// Reference replays the plan's distinct valid events sequentially into a
// new Memory store.
func Reference(ctx context.Context, p *Plan) (*store.Memory, error) {
	m := store.NewMemory()
	t := lifecycle.NewTracker(Model(), m)
	for evs := range slices.Chunk(p.Events, 10_000) {
		if _, err := t.RecordBatch(ctx, evs); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Report is what [Compare] found.
type Report struct {
	Customers                 int
	Lost, Doubled, Mismatched int
	Problems                  []string // the first few, one line each
}

// String gives the counts as the issue states them: "customers=N lost=0
// doubled=0 mismatched=0".
func (r Report) String() string {
	return fmt.Sprintf("customers=%d lost=%d doubled=%d mismatched=%d", r.Customers, r.Lost, r.Doubled, r.Mismatched)
}

// OK reports whether nothing was lost, doubled or mismatched.
func (r Report) OK() bool { return r.Lost == 0 && r.Doubled == 0 && r.Mismatched == 0 }

// Compare compares every customer of the reference store with the
// customer got holds under the same ID: lost if missing or with fewer
// events or seen IDs, doubled if with more, mismatched if the facts (as
// their JSON form), the stage, AsOf or the seen IDs differ. A customer
// got holds that the reference does not is mismatched too.
func Compare(ctx context.Context, ref, got lifecycle.Store) (Report, error) {
	want, err := all(ctx, ref)
	if err != nil {
		return Report{}, fmt.Errorf("scanning the reference: %w", err)
	}
	have, err := all(ctx, got)
	if err != nil {
		return Report{}, fmt.Errorf("scanning the store: %w", err)
	}
	r := Report{Customers: len(want)}
	note := func(format string, args ...any) {
		if len(r.Problems) < 10 {
			r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
		}
	}
	// In ID order, so that the ten problems kept are the same each run.
	for _, id := range slices.Sorted(maps.Keys(want)) {
		w, g := want[id], have[id]
		wn, ws := w.Facts.Events(), w.Seen.Len()
		switch {
		case g == nil:
			r.Lost++
			note("lost: %q missing", id)
			continue
		case g.Facts.Events() < wn || g.Seen.Len() < ws:
			r.Lost++
			note("lost: %q has %d events, %d seen; want %d, %d", id, g.Facts.Events(), g.Seen.Len(), wn, ws)
			continue
		case g.Facts.Events() > wn || g.Seen.Len() > ws:
			r.Doubled++
			note("doubled: %q has %d events, %d seen; want %d, %d", id, g.Facts.Events(), g.Seen.Len(), wn, ws)
			continue
		}
		wf, _ := json.Marshal(&w.Facts)
		gf, _ := json.Marshal(&g.Facts)
		switch {
		case string(wf) != string(gf):
			r.Mismatched++
			note("mismatched: %q facts %.200s; want %.200s", id, gf, wf)
		case g.Stage != w.Stage || !g.AsOf.Equal(w.AsOf):
			r.Mismatched++
			note("mismatched: %q stage %q as of %s; want %q as of %s", id, g.Stage, g.AsOf, w.Stage, w.AsOf)
		case !g.Seen.Equal(&w.Seen):
			r.Mismatched++
			note("mismatched: %q seen IDs differ", id)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(have)) {
		if want[id] == nil {
			r.Mismatched++
			note("mismatched: %q stored, not in the reference", id)
		}
	}
	slices.Sort(r.Problems)
	return r, nil
}

func all(ctx context.Context, s lifecycle.Store) (map[string]*lifecycle.Customer, error) {
	out := map[string]*lifecycle.Customer{}
	for c, err := range s.Scan(ctx) {
		if err != nil {
			return nil, err
		}
		out[c.ID] = c
	}
	return out, nil
}

// SQL returns a SQL store for t, and the URL and table prefix another
// process opens it with ([OpenSQL]): on PostgreSQL when CLM_POSTGRES_DSN
// is set (its tables dropped when the test ends), else on a SQLite file
// in t's temporary directory.
func SQL(t testing.TB, what string) (st *sqlstore.Store, url, prefix string) {
	t.Helper()
	url = os.Getenv("CLM_POSTGRES_DSN")
	if url == "" {
		url = "sqlite:" + t.TempDir() + "/clm.db"
	} else {
		prefix = fmt.Sprintf("s%.2s_%d_%d_", what, os.Getpid(), time.Now().UnixNano()%1e9)
		t.Cleanup(func() { dropTables(t, url, prefix) })
	}
	st, err := OpenSQL(context.Background(), url, prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st, url, prefix
}

// OpenSQL opens the store [SQL] made.
func OpenSQL(ctx context.Context, url, prefix string) (*sqlstore.Store, error) {
	if prefix == "" {
		return sqlstore.Connect(ctx, url)
	}
	return sqlstore.Connect(ctx, url, sqlstore.WithTablePrefix(prefix))
}

// Engine names the store [SQL] gives: "PostgreSQL" or "SQLite".
func Engine(url string) string {
	if strings.HasPrefix(url, "sqlite:") {
		return "SQLite"
	}
	return "PostgreSQL"
}

func dropTables(t testing.TB, url, prefix string) {
	st, err := OpenSQL(context.Background(), url, prefix)
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	defer st.Close()
	rows, err := st.DB().Query(`SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND starts_with(tablename, $1)`, prefix)
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	var names []string
	for rows.Next() {
		var n string
		if rows.Scan(&n) == nil {
			names = append(names, n)
		}
	}
	rows.Close()
	for _, n := range names {
		if _, err := st.DB().Exec(`DROP TABLE IF EXISTS "` + n + `" CASCADE`); err != nil {
			t.Errorf("cleanup: dropping %s: %v", n, err)
		}
	}
}
