package storetest_test

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store"
	"github.com/clmkit/clm/store/storetest"
)

// kvServer stands for the key-value server of docs/storage.md's sketch
// (Redis, DynamoDB): items that outlive the client, one per customer,
// keyed by ID, holding the customer's JSON and its version.
type kvServer struct {
	mu    sync.Mutex
	items map[string]kvItem
}

type kvItem struct {
	data    []byte
	version uint64
}

// kvStore is the sketch's client: the three methods of lifecycle.Store
// over a kvServer, each customer held as the JSON encode writes.
type kvStore struct {
	srv    *kvServer
	encode func(*lifecycle.Customer) ([]byte, error)
	decode func([]byte, *lifecycle.Customer) error
}

// customerJSON is the form the sketch uses: lifecycle.Customer's own JSON.
func customerJSON(s *kvServer) *kvStore {
	return &kvStore{
		srv:    s,
		encode: func(c *lifecycle.Customer) ([]byte, error) { return json.Marshal(c) },
		decode: func(b []byte, c *lifecycle.Customer) error { return json.Unmarshal(b, c) },
	}
}

// plainCustomer has Customer's fields but not its methods: encoding/json
// writes its times as it writes any time.Time, which is what a store that
// keeps customers in a struct of its own with time.Time fields does.
type plainCustomer lifecycle.Customer

// plainJSON is the sketch as docs/storage.md had it before Customer had
// a JSON form of its own: encoding/json of a struct with time.Time fields.
func plainJSON(s *kvServer) *kvStore {
	return &kvStore{
		srv:    s,
		encode: func(c *lifecycle.Customer) ([]byte, error) { return json.Marshal((*plainCustomer)(c)) },
		decode: func(b []byte, c *lifecycle.Customer) error { return json.Unmarshal(b, (*plainCustomer)(c)) },
	}
}

func newKV() *kvServer { return &kvServer{items: map[string]kvItem{}} }

func (s *kvStore) Get(ctx context.Context, id string) (*lifecycle.Customer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.srv.mu.Lock()
	it, ok := s.srv.items[id]
	s.srv.mu.Unlock()
	if !ok {
		return nil, lifecycle.ErrNotFound
	}
	c := new(lifecycle.Customer)
	if err := s.decode(it.data, c); err != nil {
		return nil, err
	}
	return c, nil
}

// Put is the conditional write: the stored version must be prev.
func (s *kvStore) Put(ctx context.Context, c *lifecycle.Customer, prev uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := store.CheckPut(c, prev); err != nil {
		return err
	}
	data, err := s.encode(c)
	if err != nil {
		return err
	}
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	if have := s.srv.items[c.ID].version; have != prev {
		return &store.ConflictError{ID: c.ID, Want: prev, Have: have}
	}
	s.srv.items[c.ID] = kvItem{data: data, version: c.Version}
	return nil
}

// Scan lists the keys, then reads each (as Redis SCAN with GET would),
// holding no lock while the loop body runs.
func (s *kvStore) Scan(ctx context.Context) iter.Seq2[*lifecycle.Customer, error] {
	return func(yield func(*lifecycle.Customer, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(nil, err)
			return
		}
		s.srv.mu.Lock()
		ids := make([]string, 0, len(s.srv.items))
		for id := range s.srv.items {
			ids = append(ids, id)
		}
		s.srv.mu.Unlock()
		slices.Sort(ids)
		for _, id := range ids {
			c, err := s.Get(ctx, id)
			if errors.Is(err, lifecycle.ErrNotFound) {
				continue
			}
			if !yield(c, err) || err != nil {
				return
			}
		}
	}
}

// reopenKV returns a new client on the same server: the items outlive it.
func reopenKV(open func(*kvServer) *kvStore) storetest.ReopenFunc {
	return func(_ context.Context, s lifecycle.Store) (lifecycle.Store, error) {
		return open(s.(*kvStore).srv), nil
	}
}

// TestKeyValueSketch: the sketch of docs/storage.md, which stores each
// customer as its JSON (lifecycle.Customer.MarshalJSON), passes every
// rule, ExactTimes and Reopen included.
func TestKeyValueSketch(t *testing.T) {
	newStore := func(*testing.T) lifecycle.Store { return customerJSON(newKV()) }
	storetest.Run(t, newStore)
	storetest.RunReopen(t, newStore, reopenKV(customerJSON))
}

// TestKeyValuePlainJSON: the same store with encoding/json of a struct
// whose times are time.Time fails ExactTimes (and Reopen, which writes the
// same times): it brings local mean times back with the seconds of their
// offset dropped.
func TestKeyValuePlainJSON(t *testing.T) {
	for _, c := range append(storetest.Cases(), storetest.ReopenCase(reopenKV(plainJSON))) {
		err := c.Check(context.Background(), plainJSON(newKV()), "p-")
		switch c.Name {
		case "ExactTimes", "Reopen":
			if err == nil || !strings.Contains(err.Error(), "offset") {
				t.Errorf("%s: a store that drops the seconds of offsets passed (err = %v)", c.Name, err)
			} else {
				t.Logf("%s failed as it should: %v", c.Name, err)
			}
		default:
			if err != nil {
				t.Errorf("%s: %v", c.Name, err)
			}
		}
	}
}

// TestReopenLost: a store that forgets every customer when reopened (here
// a Memory reopened as a new, empty one), and a reopen that fails, fail
// the rule.
func TestReopenLost(t *testing.T) {
	lost := storetest.ReopenCase(func(context.Context, lifecycle.Store) (lifecycle.Store, error) { return store.NewMemory(), nil })
	err := lost.Check(context.Background(), store.NewMemory(), "lost-")
	if err == nil || !strings.Contains(err.Error(), "after reopening") {
		t.Errorf("Reopen passed a store that forgets every customer when reopened (err = %v)", err)
	}
	failed := storetest.ReopenCase(func(context.Context, lifecycle.Store) (lifecycle.Store, error) { return nil, errors.New("cannot open") })
	if err := failed.Check(context.Background(), store.NewMemory(), "f-"); err == nil || !strings.Contains(err.Error(), "cannot open") {
		t.Errorf("Reopen passed a reopen that failed (err = %v)", err)
	}
}
