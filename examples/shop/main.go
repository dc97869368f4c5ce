// Command shop is a small, production-shaped customer lifecycle service:
// it ingests a shop's events over HTTP, keeps customers in SQLite or
// PostgreSQL, delivers every stage change to a webhook at least once (from
// the store's change feed, signed on the Standard Webhooks convention),
// serves a funnel dashboard and Prometheus metrics at /metrics. See
// docs/shop.md.
//
//	cd examples/shop && go run .
//
// Flags:
//
//	-addr              listen address (default 127.0.0.1:8080)
//	-db                SQLite file (default clm-shop.db in the working directory);
//	                   ":memory:" keeps customers in memory only
//	-postgres          PostgreSQL URL (postgres://user:pw@host:5432/db); overrides -db
//	-table-prefix      prefix of the SQL store's table names (default clm_)
//	-model             lifecycle model by registry name (default sterne-cutler)
//	-webhook-url       URL every stage change is POSTed to (default: none)
//	-webhook-secret    signing secret, "whsec_" and the base64 of 24 to 64 random bytes
//	                   (default: $CLM_WEBHOOK_SECRET); make one with
//	                   echo "whsec_$(openssl rand -base64 32)"
//	-webhook-name      name of the delivery cursor in the store (default webhooks);
//	                   instances sharing a database and a name take turns
//	-webhook-lease     how long an instance holds the delivery lease without renewing it
//	                   (default 30s): a killed instance's deliveries resume after it
//	-api-keys          comma-separated API keys, one of which every request must carry
//	                   (default: $CLM_SHOP_API_KEYS; empty: no authentication)
//	-sweep-every       how often time-only moves (lapses) are applied (default 1h; 0: never);
//	                   unless 0, one sweep also runs at start, before the service accepts requests
//	-shutdown-timeout  how long shutdown waits for requests in flight (and, with
//	                   -db :memory:, for undelivered webhooks) (default 15s)
//	-log-format        text or json (default text)
//
// SIGINT or SIGTERM stops the service gracefully: it stops accepting
// connections, finishes the requests in flight, then stops delivering
// webhooks and gives the delivery lease up, so that another instance
// goes on at once; on SQLite and PostgreSQL what is not delivered yet
// stays in the store's change feed for the next start. With -db :memory:
// nothing survives, so it first delivers what is pending, within the
// shutdown timeout.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/clmkit/clm/examples/shop/shop"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/feed"
	"github.com/clmkit/clm/lifecycle/feed/webhook"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
	"github.com/clmkit/clm/store/sqlstore"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr, nil); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			stop()
			os.Exit(0) // -h asked for the usage, as with flag.ExitOnError
		}
		fmt.Fprintln(os.Stderr, "shop:", err)
		os.Exit(2)
	}
}

type config struct {
	addr, db, postgres, model string
	tablePrefix               string
	webhookURL, webhookSecret string
	webhookName               string
	webhookLease              time.Duration
	apiKeys                   string
	sweepEvery, shutdown      time.Duration
	logFormat                 string
}

// makeSecret is the shell command the messages and docs give for making a
// webhook secret.
const makeSecret = `echo "whsec_$(openssl rand -base64 32)"`

// minLease is the shortest -webhook-lease: the holder renews its lease
// every third of it, each renewal a write to the store.
const minLease = time.Second

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("shop", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "listen `address`")
	fs.StringVar(&c.db, "db", "clm-shop.db", "SQLite `file`; \":memory:\" keeps customers in memory only")
	fs.StringVar(&c.postgres, "postgres", "", "PostgreSQL `URL` (postgres://user:pw@host:5432/db); overrides -db")
	fs.StringVar(&c.tablePrefix, "table-prefix", sqlstore.DefaultTablePrefix, "`prefix` of the SQL store's table names")
	fs.StringVar(&c.model, "model", "sterne-cutler", "lifecycle model `name` ("+fmt.Sprint(model.Names())+")")
	fs.StringVar(&c.webhookURL, "webhook-url", "", "`URL` every stage change is POSTed to")
	fs.StringVar(&c.webhookSecret, "webhook-secret", os.Getenv("CLM_WEBHOOK_SECRET"), "signing `secret`, \"whsec_\" and the base64 of 24 to 64 random bytes (default $CLM_WEBHOOK_SECRET); make one with: "+makeSecret)
	fs.StringVar(&c.webhookName, "webhook-name", "webhooks", "`name` of the delivery cursor in the store; instances sharing a database and a name take turns")
	fs.DurationVar(&c.webhookLease, "webhook-lease", feed.DefaultLease, "how long an instance holds the delivery lease without renewing it")
	fs.StringVar(&c.apiKeys, "api-keys", os.Getenv("CLM_SHOP_API_KEYS"), "comma-separated API `keys`, one of which every request must carry (default $CLM_SHOP_API_KEYS; empty: no authentication)")
	fs.DurationVar(&c.sweepEvery, "sweep-every", time.Hour, "how often time-only moves are applied (0: never)")
	fs.DurationVar(&c.shutdown, "shutdown-timeout", 15*time.Second, "how long shutdown waits for requests in flight (and, with -db :memory:, undelivered webhooks)")
	fs.StringVar(&c.logFormat, "log-format", "text", "log `format`: text or json")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	case c.logFormat != "text" && c.logFormat != "json":
		return c, fmt.Errorf("-log-format %q: want text or json", c.logFormat)
	case c.sweepEvery < 0:
		return c, fmt.Errorf("-sweep-every %v: must not be negative", c.sweepEvery)
	case c.shutdown < 0:
		return c, fmt.Errorf("-shutdown-timeout %v: must not be negative", c.shutdown)
	case c.postgres != "" && !strings.HasPrefix(c.postgres, "postgres://") && !strings.HasPrefix(c.postgres, "postgresql://"):
		// Not the whole value: it may hold a password (a URL's, or a
		// key=value connection string's), so at most its scheme.
		if scheme, _, ok := strings.Cut(c.postgres, ":"); ok && isScheme(scheme) {
			return c, fmt.Errorf("-postgres: want a postgres:// or postgresql:// URL, not %q…", scheme+":")
		}
		return c, errors.New("-postgres: want a postgres:// or postgresql:// URL (a key=value connection string is not taken)")
	case c.db == "" && c.postgres == "":
		return c, errors.New("-db is empty and no -postgres URL is given")
	}
	if err := checkWebhookFlags(c); err != nil {
		return c, err
	}
	return c, nil
}

// checkWebhookFlags validates the -webhook-* flags. Its messages never
// show the secret.
func checkWebhookFlags(c config) error {
	if c.webhookLease < minLease {
		return fmt.Errorf("-webhook-lease %v: must be at least %v", c.webhookLease, minLease)
	}
	if err := lifecycle.ValidateID("webhook-name", c.webhookName); err != nil || len(c.webhookName) > 100 {
		return fmt.Errorf("-webhook-name %q: want 1 to 100 bytes of UTF-8 without control or format characters, line or paragraph separators, or white space at either end", c.webhookName)
	}
	if c.webhookURL == "" {
		return nil
	}
	if c.webhookSecret == "" {
		return errors.New("-webhook-url needs -webhook-secret (or $CLM_WEBHOOK_SECRET); make one with: " + makeSecret)
	}
	if !strings.HasPrefix(c.webhookSecret, webhook.SecretPrefix) {
		return fmt.Errorf("-webhook-secret (not shown): want the Standard Webhooks form %q and the base64 of 24 to 64 random bytes; make one with: %s", webhook.SecretPrefix+"…", makeSecret)
	}
	if _, err := webhook.New(c.webhookURL, validSecret); err != nil {
		return fmt.Errorf("-webhook-url: %w", err)
	}
	if _, err := webhook.New(c.webhookURL, c.webhookSecret); err != nil {
		return fmt.Errorf("-webhook-secret: %w; make one with: %s", err, makeSecret)
	}
	return nil
}

// validSecret is a well-formed secret, used only to tell a bad
// -webhook-url from a bad -webhook-secret; it signs nothing.
const validSecret = "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

// run starts the service and blocks until ctx is done or the server
// fails, then shuts down. ready, when not nil, is called with the address
// once the service accepts connections.
func run(ctx context.Context, args []string, stderr io.Writer, ready func(net.Addr)) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	var h slog.Handler = slog.NewTextHandler(stderr, nil)
	if c.logFormat == "json" {
		h = slog.NewJSONHandler(stderr, nil)
	}
	log := slog.New(h)

	m, err := model.Lookup(c.model)
	if err != nil {
		return fmt.Errorf("-model: %w", err)
	}
	st, closeStore, err := openStore(ctx, c, log)
	if err != nil {
		return err
	}
	defer closeStore()

	metrics := shop.NewMetrics()
	tr := lifecycle.NewTracker(m, st, lifecycle.WithLogger(log), lifecycle.WithHook(metrics.Hook))
	keys := strings.Split(c.apiKeys, ",")
	for i := range keys {
		keys[i] = strings.TrimSpace(keys[i])
	}
	srvOpts := []shop.Option{shop.WithLogger(log), shop.WithAPIKeys(keys...), shop.WithMetrics(metrics)}

	var hooks *deliveries
	if c.webhookURL != "" {
		hooks, err = newDeliveries(st, c, log)
		if err != nil {
			return err
		}
		srvOpts = append(srvOpts, shop.WithWebhooks(hooks.d.Stats, hooks.url))
	}
	handler := shop.New(tr, srvOpts...)
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(h, slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", c.addr, err)
	}
	auth := slices.ContainsFunc(keys, func(k string) bool { return k != "" })
	log.Info("shop: listening", "addr", ln.Addr().String(), "model", m.Name(), "webhook", c.webhookURL != "", "auth", auth)
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !auth && !tcp.IP.IsLoopback() {
		log.Warn("shop: listening beyond loopback without API keys: anyone who can connect can record events and read customers (set -api-keys)")
	}
	if hooks != nil {
		hooks.start()
	}
	// One sweep before serving, so that no answer shows the stages the
	// customers had when the service last stopped.
	if c.sweepEvery > 0 {
		sweepOnce(ctx, handler, time.Now(), log, "at start")
	}
	if ready != nil {
		ready(ln.Addr())
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	sweepCtx, stopSweep := context.WithCancel(context.Background())
	sweepDone := make(chan struct{})
	go func() {
		defer close(sweepDone)
		sweep(sweepCtx, handler, c.sweepEvery, log)
	}()

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shop: shutting down")
	case runErr = <-serveErr:
		log.Error("shop: server failed", "err", runErr)
	}
	sctx, cancel := context.WithTimeout(context.Background(), c.shutdown)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Error("shop: shutdown: requests still running", "err", err)
	}
	stopSweep()
	<-sweepDone
	if hooks != nil {
		if c.postgres == "" && c.db == ":memory:" {
			hooks.drain(sctx) // nothing survives this process: deliver what is pending first
		}
		hooks.stop()
	}
	log.Info("shop: stopped")
	if errors.Is(runErr, http.ErrServerClosed) {
		runErr = nil
	}
	return runErr
}

// deliveries sends the store's stage changes to the webhook: a
// feed.Dispatcher reading the store's change feed, with a webhook.Sender
// as its handler.
type deliveries struct {
	d      *feed.Dispatcher
	src    lifecycle.ChangeLister
	url    string // redacted
	log    *slog.Logger
	cancel context.CancelFunc
	done   chan struct{}
}

// newDeliveries makes the dispatcher for the flags' webhook; start runs
// it.
func newDeliveries(st lifecycle.Store, c config, log *slog.Logger) (*deliveries, error) {
	src, ok1 := st.(lifecycle.ChangeLister)
	cursors, ok2 := st.(lifecycle.CursorKeeper)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("the store (%T) has no change feed to deliver webhooks from", st)
	}
	sender, err := webhook.New(c.webhookURL, c.webhookSecret)
	if err != nil {
		return nil, err // checked by parseFlags already
	}
	d, err := feed.New(src, cursors, c.webhookName, hideSecrets(sender.URL(), sender.Deliver), feed.WithLogger(log), feed.WithLease(c.webhookLease))
	if err != nil {
		return nil, err
	}
	return &deliveries{d: d, src: src, url: shownURL(sender.URL()), log: log, done: make(chan struct{})}, nil
}

// hideSecrets returns deliver, whose errors (which the dispatcher logs and
// shows in its stats, and so the dashboard) have the query and fragment of
// the endpoint raw, which may hold a token, put as shownURL puts them.
func hideSecrets(raw string, deliver feed.Handler) feed.Handler {
	u, err := url.Parse(raw)
	if err != nil {
		return deliver
	}
	var pairs []string
	// Each part as it is and as %q writes it (url.Error quotes the URL,
	// escaping '"' and '\\'), the longer first.
	add := func(part, with string) {
		if q := strconv.Quote(part); q[1:len(q)-1] != part {
			pairs = append(pairs, q[1:len(q)-1], with)
		}
		pairs = append(pairs, part, with)
	}
	if u.RawQuery != "" { // (the query as the user wrote it)
		add("?"+u.RawQuery, "?…")
	}
	// The fragment as url.URL writes it, and as the user wrote it where
	// that differs (url.URL escapes what the user did not).
	f := u.EscapedFragment()
	if f != "" {
		add("#"+f, "")
	}
	if _, written, ok := strings.Cut(raw, "#"); ok && written != "" && written != f {
		add("#"+written, "")
	}
	if len(pairs) == 0 {
		return deliver
	}
	hide := strings.NewReplacer(pairs...)
	return func(ctx context.Context, ch lifecycle.Change) error {
		err := deliver(ctx, ch)
		if err == nil {
			return nil
		}
		if msg := err.Error(); hide.Replace(msg) != msg {
			return &hiddenError{err: err, msg: hide.Replace(msg)}
		}
		return err
	}
}

// hiddenError is an error whose message has secrets hidden; it unwraps to
// the error, so feed.Stop and feed.RetryAfter still work through it.
type hiddenError struct {
	err error
	msg string
}

func (e *hiddenError) Error() string { return e.msg }
func (e *hiddenError) Unwrap() error { return e.err }

// shownURL is the endpoint as logs, GET /v1/webhooks and the dashboard
// show it: without its password (redacted already by the sender), query
// and fragment, which may hold a token.
func shownURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	if u.User != nil {
		name := u.User.Username()
		u.User = nil
		if name != "" {
			u.User = url.User(name)
		}
	}
	u.RawQuery, u.ForceQuery = "", false
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}

// start runs the dispatcher until stop. If it stops by itself (the
// endpoint answered 410 Gone), it logs why; the service goes on without
// webhooks until it is restarted.
func (h *deliveries) start() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.log.Info("shop: webhooks", "url", h.url, "name", h.d.Name(), "owner", h.d.Owner())
	go func() {
		defer close(h.done)
		err := h.d.Run(ctx)
		if ctx.Err() == nil {
			h.log.Error("shop: webhook deliveries stopped: fix the endpoint, then restart the service; undelivered changes wait in the store", "url", h.url, "err", err)
		}
	}()
}

// drain waits until every change the feed holds is delivered, the
// dispatcher stops, or ctx is done.
func (h *deliveries) drain(ctx context.Context) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		s := h.d.Stats()
		if !s.Running {
			return
		}
		if s.Holding && s.Current == "" {
			page, err := h.src.Changes(ctx, s.Cursor, 1)
			if err == nil && len(page) == 0 {
				h.log.Info("shop: webhooks drained", "delivered", s.Delivered)
				return
			}
		}
		select {
		case <-ctx.Done():
			h.log.Error("shop: shutdown: webhooks not delivered (with -db :memory: they are lost)", "err", ctx.Err())
			return
		case <-h.done:
			return
		case <-t.C:
		}
	}
}

// stop stops the dispatcher, which gives its lease up, and waits for it.
func (h *deliveries) stop() {
	h.cancel()
	<-h.done
	s := h.d.Stats()
	h.log.Info("shop: webhooks stopped", "delivered", s.Delivered, "failures", s.Failures, "cursor", uint64(s.Cursor))
}

// storeFlag names the flag a store's Connect error is about: -table-prefix
// for a prefix it refuses, else flag.
func storeFlag(flag string, err error) string {
	if errors.Is(err, sqlstore.ErrInvalidOption) && strings.Contains(err.Error(), "table prefix") {
		return "-table-prefix"
	}
	return flag
}

// openStore opens the store the flags name and returns a function that
// closes it.
func openStore(ctx context.Context, c config, log *slog.Logger) (lifecycle.Store, func(), error) {
	switch {
	case c.postgres != "":
		s, err := sqlstore.Connect(ctx, c.postgres, sqlstore.WithLogger(log), sqlstore.WithTablePrefix(c.tablePrefix))
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", storeFlag("-postgres", err), err)
		}
		log.Info("shop: store", "kind", "postgres")
		return s, func() { _ = s.Close() }, nil
	case c.db == ":memory:":
		log.Info("shop: store", "kind", "memory")
		return store.NewMemory(), func() {}, nil
	}
	s, err := sqlstore.Connect(ctx, "sqlite:"+c.db, sqlstore.WithLogger(log), sqlstore.WithTablePrefix(c.tablePrefix))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", storeFlag("-db", err), err)
	}
	log.Info("shop: store", "kind", "sqlite", "file", c.db)
	return s, func() { _ = s.Close() }, nil
}

// sweep applies time-only moves every interval until ctx is done.
func sweep(ctx context.Context, srv *shop.Server, every time.Duration, log *slog.Logger) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			sweepOnce(ctx, srv, now, log, "periodic")
		}
	}
}

// sweepOnce runs one sweep at now (recording it in the metrics) and logs
// its result; when names the sweep in the log ("at start", "periodic").
func sweepOnce(ctx context.Context, srv *shop.Server, now time.Time, log *slog.Logger, when string) {
	res, err := srv.Sweep(ctx, now)
	if err != nil {
		if ctx.Err() == nil {
			log.Error("shop: sweep failed", "when", when, "err", err)
		}
		return
	}
	log.Info("shop: sweep", "when", when, "scanned", res.Scanned, "updated", res.Updated, "moved", res.Moved)
}

// isScheme reports whether s has the form of a URL scheme: a letter, then
// letters, digits, "+", "-" or ".".
func isScheme(s string) bool {
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return s != ""
}
