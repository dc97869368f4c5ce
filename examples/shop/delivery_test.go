package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/shopsim"
	"github.com/clmkit/clm/store/sqlstore"
)

// binDir holds the shop binary the subprocess tests build (once per test
// binary); TestMain removes it.
var binDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var shopBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "clm-shop-test-")
	if err != nil {
		return "", err
	}
	binDir = dir
	bin := filepath.Join(dir, "shop")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// proc is the shop running as a subprocess.
type proc struct {
	URL    string
	cmd    *exec.Cmd
	logs   *syncBuffer
	exited chan struct{}
	err    error // cmd.Wait's, once exited is closed
}

// startProc starts the shop binary with args (after a loopback address,
// no sweeps and JSON logs) and waits until it listens.
func startProc(t *testing.T, args ...string) *proc {
	t.Helper()
	bin, err := shopBinary()
	require.NoError(t, err)
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0", "-sweep-every", "0", "-log-format", "json"}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CLM_WEBHOOK_SECRET=") && !strings.HasPrefix(kv, "CLM_SHOP_API_KEYS=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	p := &proc{cmd: cmd, logs: &syncBuffer{}, exited: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			_, _ = p.logs.Write(append(line, '\n'))
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(line, &rec) == nil && rec.Msg == "shop: listening" {
				addr <- rec.Addr
			}
		}
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() { p.kill() })
	select {
	case a := <-addr:
		p.URL = "http://" + a
	case <-p.exited:
		t.Fatalf("shop exited at start: %v\nlogs:\n%s", p.err, p.logs)
	case <-time.After(30 * time.Second):
		t.Fatalf("shop did not listen within 30 s\nlogs:\n%s", p.logs)
	}
	return p
}

// kill sends SIGKILL and waits for the process to end.
func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// terminate sends SIGTERM and returns the exit error (nil for status 0).
func (p *proc) terminate(t *testing.T) error {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-p.exited:
		return p.err
	case <-time.After(20 * time.Second):
		t.Fatalf("shop did not stop within 20 s of SIGTERM\nlogs:\n%s", p.logs)
		return nil
	}
}

// webhooksState is the answer of GET /v1/webhooks.
type webhooksState struct {
	URL        string    `json:"url"`
	Name       string    `json:"name"`
	Owner      string    `json:"owner"`
	State      string    `json:"state"`
	Holding    bool      `json:"holding"`
	Cursor     uint64    `json:"cursor"`
	Delivered  uint64    `json:"delivered"`
	Failures   uint64    `json:"failures"`
	Current    string    `json:"current"`
	Attempts   int       `json:"attempts"`
	LagSeconds float64   `json:"lag_seconds"`
	CaughtUpAt time.Time `json:"caught_up_at"`
	LastError  string    `json:"last_error"`
}

func webhooksOf(t *testing.T, baseURL string) webhooksState {
	t.Helper()
	return getJSON[webhooksState](t, baseURL+"/v1/webhooks")
}

// waitFor polls cond every 20 ms until it holds, failing the test with
// what and the logs after timeout.
func waitFor(t *testing.T, timeout time.Duration, logs fmt.Stringer, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s\nlogs:\n%s", timeout, what, logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitCaughtUp waits until the shop at baseURL delivers and has found its
// feed empty after since: every change committed before since is
// delivered.
func waitCaughtUp(t *testing.T, baseURL string, logs fmt.Stringer, since time.Time) webhooksState {
	t.Helper()
	var s webhooksState
	waitFor(t, 25*time.Second, logs, "the webhooks to catch up", func() bool {
		s = webhooksOf(t, baseURL)
		return s.State == "delivering" && s.Current == "" && s.CaughtUpAt.After(since)
	})
	return s
}

// tryPost posts a batch of events; err is a transport error, and status
// the answer's.
func tryPost(baseURL string, batch []lifecycle.Event) (status int, body string, err error) {
	b, err := json.Marshal(batch)
	if err != nil {
		return 0, "", err
	}
	resp, err := http.Post(baseURL+"/v1/events", "application/json", bytes.NewReader(b))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.String(), err
}

// postAll posts batches to baseURL, requiring 202 for each.
func postAll(t *testing.T, baseURL string, batches [][]lifecycle.Event) {
	t.Helper()
	for i, b := range batches {
		status, body, err := tryPost(baseURL, b)
		require.NoError(t, err, "batch %d", i)
		require.Equal(t, http.StatusAccepted, status, "batch %d: %s", i, body)
	}
}

// simBatches is a realistic stream from shopsim in batches of size n, in
// time order, ending before now (the shop refuses events from the future).
func simBatches(seed uint64, customers, n int) [][]lifecycle.Event {
	evs := shopsim.Generate(shopsim.Config{Customers: customers, Seed: seed, Days: 200,
		Start: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)})
	var out [][]lifecycle.Event
	for i := 0; i < len(evs); i += n {
		out = append(out, evs[i:min(i+n, len(evs))])
	}
	return out
}

// checkDelivered checks what rc received against the transitions st
// holds: every transition was received (by its identity, computed from
// the customer, the position in the history and the transition), with
// the same data; nothing else was received; no webhook-id came with two
// different changes; and each customer's changes first arrived in the
// order of the history. It returns the number of transitions.
func checkDelivered(t *testing.T, st lifecycle.Store, rc *receiver) int {
	t.Helper()
	got, problems := rc.snapshot()
	for _, p := range problems {
		t.Error(p)
	}
	stored := map[string]bool{}
	for c, err := range st.Scan(context.Background()) {
		require.NoError(t, err)
		for i, tr := range c.History {
			ch := lifecycle.Change{CustomerID: c.ID, Seq: uint64(i + 1), Transition: tr}
			id := ch.ID()
			stored[id] = true
			d, ok := got[id]
			if !ok {
				t.Errorf("customer %s, transition %d (%s → %s at %s, cause %s) never delivered (webhook-id %s)",
					c.ID, i+1, tr.From, tr.To, tr.At.Format(time.RFC3339), tr.Cause, id)
				continue
			}
			want := changeData{ID: id, CustomerID: c.ID, Seq: uint64(i + 1), From: tr.From, To: tr.To, At: tr.At, Cause: tr.Cause}
			if !sameChange(want, d) {
				t.Errorf("webhook-id %s: delivered %+v, stored %+v", id, d, want)
			}
		}
	}
	for id, d := range got {
		if !stored[id] {
			t.Errorf("delivered a change the store does not hold: %s %+v", id, d)
		}
	}
	next := map[string]uint64{} // per customer, the next Seq to arrive first
	for _, d := range rc.deliveries() {
		switch n := next[d.Data.CustomerID] + 1; {
		case d.Data.Seq == n:
			next[d.Data.CustomerID] = n
		case d.Data.Seq > n:
			t.Errorf("customer %s: change %d arrived before change %d", d.Data.CustomerID, d.Data.Seq, n)
		}
	}
	if len(stored) == 0 {
		t.Error("the store holds no transition")
	}
	return len(stored)
}

// pgDSN returns $CLM_POSTGRES_DSN, or skips the test.
func pgDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("CLM_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("PostgreSQL test skipped: CLM_POSTGRES_DSN is not set (see .ci/postgres.sh)")
	}
	return dsn
}

// pgPrefix returns a table prefix unique to the test, and drops the
// tables that carry it when the test ends (after the shops it starts
// later have stopped).
func pgPrefix(t *testing.T, dsn, what string) string {
	t.Helper()
	prefix := fmt.Sprintf("shop_%s_%d_%d_", what, os.Getpid(), time.Now().UnixNano()%1e12)
	t.Cleanup(func() {
		s, err := sqlstore.Connect(context.Background(), dsn, sqlstore.WithTablePrefix(prefix))
		if err != nil {
			t.Errorf("cleanup: %v", err)
			return
		}
		defer s.Close()
		rows, err := s.DB().Query(`SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND starts_with(tablename, $1)`, prefix)
		if err != nil {
			t.Errorf("cleanup: %v", err)
			return
		}
		var tables []string
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err == nil {
				tables = append(tables, name)
			}
		}
		rows.Close()
		for _, name := range tables {
			if _, err := s.DB().Exec(`DROP TABLE IF EXISTS ` + name + ` CASCADE`); err != nil {
				t.Errorf("cleanup: drop %s: %v", name, err)
			}
		}
	})
	return prefix
}

// TestKill9 kills the shop with SIGKILL in the middle of a stream, while
// a delivery is in flight, restarts it on the same database, finishes the
// stream, and checks that every transition the store holds reached the
// receiver, at least once, each under its own webhook-id.
func TestKill9(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "shop.db")
		kill9(t, func() (lifecycle.Store, func()) {
			s, err := sqlstore.Connect(context.Background(), "sqlite:"+db)
			require.NoError(t, err)
			return s, func() { _ = s.Close() }
		}, "-db", db)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pgDSN(t)
		prefix := pgPrefix(t, dsn, "kill")
		kill9(t, func() (lifecycle.Store, func()) {
			s, err := sqlstore.Connect(context.Background(), dsn, sqlstore.WithTablePrefix(prefix))
			require.NoError(t, err)
			return s, func() { _ = s.Close() }
		}, "-postgres", dsn, "-table-prefix", prefix)
	})
}

func kill9(t *testing.T, open func() (lifecycle.Store, func()), storeFlags ...string) {
	rc := newReceiver(t)
	args := append(storeFlags, "-webhook-url", rc.URL+"/hooks", "-webhook-secret", rc.secret, "-webhook-lease", "2s")
	batches := simBatches(15, 80, 20)
	half := len(batches) / 2
	require.Greater(t, half, 10)

	// The receiver holds the 40th delivery: it has it, but the shop gets
	// no answer, so its cursor stays before it.
	held := rc.hold(40)
	a := startProc(t, args...)
	postAll(t, a.URL, batches[:half])
	var heldID string
	select {
	case heldID = <-held:
	case <-time.After(15 * time.Second):
		t.Fatalf("no delivery arrived within 15 s\nlogs:\n%s", a.logs)
	}

	// Stream the rest, and kill the shop a few batches in.
	var acked atomic.Int64 // batches of the rest answered 202
	progress := make(chan struct{}, len(batches))
	posted := make(chan error, 1)
	go func() {
		for i, b := range batches[half:] {
			status, body, err := tryPost(a.URL, b)
			if err != nil {
				posted <- nil // the kill
				return
			}
			if status != http.StatusAccepted {
				posted <- fmt.Errorf("batch %d: %d %s", half+i, status, body)
				return
			}
			acked.Add(1)
			progress <- struct{}{}
		}
		posted <- nil
	}()
	for range 3 {
		select {
		case <-progress:
		case err := <-posted:
			t.Fatalf("the stream stopped before the kill: %v", err)
		case <-time.After(15 * time.Second):
			t.Fatalf("the stream did not go on\nlogs:\n%s", a.logs)
		}
	}
	a.kill()
	rc.releaseHeld()
	require.NoError(t, <-posted)
	next := half + int(acked.Load())
	require.Less(t, next, len(batches), "the kill came after the stream ended")
	t.Logf("killed after %d of %d batches, with %s in flight", next, len(batches), heldID)

	// A new process (a new lease owner) takes over once the dead one's
	// lease has run out, and delivers again what was in flight.
	b := startProc(t, args...)
	postAll(t, b.URL, batches[next:]) // the batch in flight at the kill again: its events are duplicates or new
	waitCaughtUp(t, b.URL, b.logs, time.Now())
	require.NoError(t, b.terminate(t), "logs:\n%s", b.logs)
	require.Contains(t, b.logs.String(), "shop: webhooks stopped")

	n := 0
	for _, d := range rc.deliveries() {
		if d.ID == heldID {
			n++
		}
	}
	require.GreaterOrEqual(t, n, 2, "the change in flight at the kill (%s) was not delivered again", heldID)

	st, closeStore := open()
	defer closeStore()
	transitions := checkDelivered(t, st, rc)
	t.Logf("%d transitions, %d deliveries", transitions, len(rc.deliveries()))
}

// TestTwoInstancesOnePostgres runs two shops on one PostgreSQL database
// (the same tables), sends events to both in turn, stops the one that
// delivers half-way (the other takes over; a restart takes the stopped
// one's place, on standby) and checks
// that every change is delivered, by whichever holds the lease.
func TestTwoInstancesOnePostgres(t *testing.T) {
	dsn := pgDSN(t)
	prefix := pgPrefix(t, dsn, "two")
	rc := newReceiver(t)
	flags := func(path string) []string {
		return []string{"-postgres", dsn, "-table-prefix", prefix, "-webhook-url", rc.URL + path,
			"-webhook-secret", rc.secret, "-webhook-lease", "2s"}
	}
	batches := simBatches(16, 60, 15)
	half := len(batches) / 2

	a := start(t, flags("/a")...)
	waitFor(t, 10*time.Second, a.logs, "instance a to deliver", func() bool { return webhooksOf(t, a.URL).State == "delivering" })
	b := start(t, flags("/b")...)
	// b's dispatcher starts in a goroutine just before b listens: until
	// its Run has begun, b shows "stopped".
	var bState string
	waitFor(t, 10*time.Second, b.logs, "b's dispatcher to run", func() bool { bState = webhooksOf(t, b.URL).State; return bState != "stopped" })
	require.Equal(t, "standby", bState, "b while a holds the lease")

	// Events go to a and b in turn; each records what it is sent.
	alternate := func(x, y *service, batches [][]lifecycle.Event) {
		for i, batch := range batches {
			to := x
			if i%2 == 1 {
				to = y
			}
			code, body := postJSON(t, to.URL+"/v1/events", batch)
			require.Equal(t, http.StatusAccepted, code, "%s", body)
			require.Contains(t, string(body), `"applied"`)
		}
	}
	alternate(a, b, batches[:half])
	waitFor(t, 10*time.Second, a.logs, "20 deliveries from a", func() bool { return len(rc.deliveries()) >= 20 })

	// a stops: it gives the lease up, and b takes over.
	stopping := time.Now()
	require.NoError(t, a.stop(), "logs:\n%s", a.logs)
	stopped := time.Now()
	waitFor(t, 5*time.Second, b.logs, "b to take the lease over", func() bool { return webhooksOf(t, b.URL).State == "delivering" })
	a2 := start(t, flags("/a2")...)
	alternate(a2, b, batches[half:])
	waitCaughtUp(t, b.URL, b.logs, time.Now())
	require.Equal(t, "standby", webhooksOf(t, a2.URL).State, "the restarted instance while b holds the lease")

	var fromA, fromB int
	for _, d := range rc.deliveries() {
		switch d.Path {
		case "/a":
			fromA++
			// (By when a signed it: a request a sent before it stopped may
			// be read by the receiver after.)
			if d.Sent.After(stopped) {
				t.Errorf("a delivered %s after it stopped (signed at %s, stopped at %s)", d.ID, d.Sent, stopped)
			}
		case "/b":
			fromB++
			if d.At.Before(stopping) {
				t.Errorf("b delivered %s while a held the lease", d.ID)
			}
		default:
			t.Errorf("a delivery from %s, which never held the lease", d.Path)
		}
	}
	require.NoError(t, a2.stop())
	require.NoError(t, b.stop())
	if fromA == 0 || fromB == 0 {
		t.Errorf("deliveries from a: %d, from b: %d; want both", fromA, fromB)
	}
	s, err := sqlstore.Connect(context.Background(), dsn, sqlstore.WithTablePrefix(prefix))
	require.NoError(t, err)
	defer s.Close()
	transitions := checkDelivered(t, s, rc)
	t.Logf("%d transitions; deliveries from a: %d, from b: %d", transitions, fromA, fromB)
}

// TestLateEventsGetTwoIDs is the case of issue 15: events arriving late,
// at one classification time, move a customer conversion → acquisition
// twice at the same time; the receiver gets both, under two webhook-ids.
func TestLateEventsGetTwoIDs(t *testing.T) {
	rc := newReceiver(t)
	db := filepath.Join(t.TempDir(), "shop.db")
	svc := start(t, "-db", db, "-webhook-url", rc.URL+"/hooks", "-webhook-secret", rc.secret)
	at := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	// One request each, as they arrive: the visit first, then the
	// orders and refunds from the days before it. The customer is
	// classified at the visit's time throughout.
	for _, e := range []lifecycle.Event{
		{ID: "visit", CustomerID: "c1", Type: lifecycle.SiteVisited, Time: at},
		{ID: "ord-1", CustomerID: "c1", Type: lifecycle.OrderCompleted, Time: at.Add(-10 * day), Amount: 2000, Currency: "EUR"},
		{ID: "ref-1", CustomerID: "c1", Type: lifecycle.OrderRefunded, Time: at.Add(-5 * day), Amount: 2000, Currency: "EUR"},
		{ID: "ord-2", CustomerID: "c1", Type: lifecycle.OrderCompleted, Time: at.Add(-3 * day), Amount: 3000, Currency: "EUR"},
		{ID: "ref-2", CustomerID: "c1", Type: lifecycle.OrderRefunded, Time: at.Add(-2 * day), Amount: 3000, Currency: "EUR"},
	} {
		code, body := postJSON(t, svc.URL+"/v1/events", e)
		require.Equal(t, http.StatusAccepted, code, "%s", body)
	}
	waitCaughtUp(t, svc.URL, svc.logs, time.Now())

	var moves []delivery
	for _, d := range rc.deliveries() {
		if d.Data.From == "conversion" && d.Data.To == "acquisition" {
			moves = append(moves, d)
		}
	}
	require.Len(t, moves, 2, "conversion → acquisition deliveries: %+v", rc.deliveries())
	require.True(t, moves[0].Data.At.Equal(at) && moves[1].Data.At.Equal(at), "both at the classification time: %+v", moves)
	require.NotEqual(t, moves[0].ID, moves[1].ID, "two different changes share a webhook-id")
	require.Equal(t, []string{"ref-1", "ref-2"}, []string{moves[0].Data.Cause, moves[1].Data.Cause})

	require.NoError(t, svc.stop())
	st, err := sqlstore.Connect(context.Background(), "sqlite:"+db)
	require.NoError(t, err)
	defer st.Close()
	require.Equal(t, 5, checkDelivered(t, st, rc), "reach, conversion, acquisition, conversion, acquisition")
}

// TestRedirectNotFollowed: a receiver answering 302 is not followed; the
// change is not counted delivered, and is sent again until the receiver
// accepts it.
func TestRedirectNotFollowed(t *testing.T) {
	rc := newReceiver(t)
	var moved atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { moved.Add(1) })
	target := newServer(t, mux)
	rc.setRespond(func(r *http.Request, n int) (int, http.Header) {
		if n <= 2 {
			return http.StatusFound, http.Header{"Location": {target + "/moved"}}
		}
		return http.StatusNoContent, nil
	})
	svc := start(t, "-db", ":memory:", "-webhook-url", rc.URL+"/hooks", "-webhook-secret", rc.secret)
	code, body := postJSON(t, svc.URL+"/v1/events", lifecycle.Event{ID: "v-1", CustomerID: "c1", Type: lifecycle.SiteVisited, Time: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)})
	require.Equal(t, http.StatusAccepted, code, "%s", body)

	var s webhooksState
	waitFor(t, 10*time.Second, svc.logs, "a failed attempt", func() bool { s = webhooksOf(t, svc.URL); return s.Failures >= 1 })
	require.Zero(t, s.Delivered, "a 302 counted as delivered: %+v", s)
	require.Contains(t, s.LastError, "302")
	require.NotEmpty(t, s.Current, "the change is still to be delivered")

	waitFor(t, 15*time.Second, svc.logs, "the delivery after two redirects", func() bool { s = webhooksOf(t, svc.URL); return s.Delivered == 1 })
	require.EqualValues(t, 2, s.Failures)
	require.Zero(t, moved.Load(), "the redirect was followed")
	ds := rc.deliveries()
	require.Len(t, ds, 3, "two redirected attempts and the accepted one")
	for _, d := range ds {
		require.Equal(t, ds[0].ID, d.ID, "every attempt carries the same webhook-id")
	}
}

// TestGoneStopsDeliveries: a receiver answering 410 Gone stops the
// deliveries, with an error in the log and on GET /v1/webhooks; the shop
// goes on recording events.
func TestGoneStopsDeliveries(t *testing.T) {
	rc := newReceiver(t)
	rc.setRespond(func(*http.Request, int) (int, http.Header) { return http.StatusGone, nil })
	svc := start(t, "-db", ":memory:", "-webhook-url", rc.URL+"/hooks", "-webhook-secret", rc.secret, "-log-format", "json")
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	code, body := postJSON(t, svc.URL+"/v1/events", lifecycle.Event{ID: "v-1", CustomerID: "c1", Type: lifecycle.SiteVisited, Time: at})
	require.Equal(t, http.StatusAccepted, code, "%s", body)

	var s webhooksState
	waitFor(t, 10*time.Second, svc.logs, "the deliveries to stop", func() bool { s = webhooksOf(t, svc.URL); return s.State == "stopped" })
	require.Contains(t, s.LastError, "410")
	require.Zero(t, s.Delivered)
	waitFor(t, 5*time.Second, svc.logs, "the error in the log", func() bool {
		return strings.Contains(svc.logs.String(), `"level":"ERROR","msg":"shop: webhook deliveries stopped`)
	})

	// The shop goes on: events are recorded, customers read, the
	// dashboard shows the stop; nothing more is sent.
	code, body = postJSON(t, svc.URL+"/v1/events", lifecycle.Event{ID: "o-1", CustomerID: "c1", Type: lifecycle.OrderCompleted, Time: at.Add(time.Hour), Amount: 100, Currency: "EUR"})
	require.Equal(t, http.StatusAccepted, code, "%s", body)
	type customer struct{ Stage string }
	require.Equal(t, "conversion", getJSON[customer](t, svc.URL+"/v1/customers/c1").Stage)
	resp, err := http.Get(svc.URL + "/")
	require.NoError(t, err)
	var page bytes.Buffer
	_, _ = page.ReadFrom(resp.Body)
	resp.Body.Close()
	require.Contains(t, page.String(), `<td id="webhooks-state">stopped</td>`)
	require.Len(t, rc.deliveries(), 1, "deliveries after a 410")
	require.NoError(t, svc.stop())
}

// newServer starts an httptest server closed at the end of the test and
// returns its URL.
func newServer(t *testing.T, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
