// Command shop is a small, production-shaped customer lifecycle service:
// it ingests a shop's events over HTTP, keeps customers in SQLite or
// PostgreSQL, calls a webhook when a customer changes stage and serves a
// funnel dashboard. See docs/shop.md.
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
//	-webhook-url       URL called on every stage change (default: none)
//	-webhook-secret    HMAC key for webhook signatures (default: $CLM_WEBHOOK_SECRET)
//	-api-keys          comma-separated API keys, one of which every request must carry
//	                   (default: $CLM_SHOP_API_KEYS; empty: no authentication)
//	-sweep-every       how often time-only moves (lapses) are applied (default 1h; 0: never)
//	-shutdown-timeout  how long shutdown waits for requests and webhooks (default 15s)
//	-log-format        text or json (default text)
//
// SIGINT or SIGTERM stops the service gracefully: it stops accepting
// connections, finishes the requests in flight, then delivers the queued
// webhooks, all within the shutdown timeout.
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
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/clmkit/clm/examples/shop/shop"
	"github.com/clmkit/clm/examples/shop/webhook"
	"github.com/clmkit/clm/lifecycle"
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
	apiKeys                   string
	sweepEvery, shutdown      time.Duration
	logFormat                 string
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("shop", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "listen `address`")
	fs.StringVar(&c.db, "db", "clm-shop.db", "SQLite `file`; \":memory:\" keeps customers in memory only")
	fs.StringVar(&c.postgres, "postgres", "", "PostgreSQL `URL` (postgres://user:pw@host:5432/db); overrides -db")
	fs.StringVar(&c.tablePrefix, "table-prefix", sqlstore.DefaultTablePrefix, "`prefix` of the SQL store's table names")
	fs.StringVar(&c.model, "model", "sterne-cutler", "lifecycle model `name` ("+fmt.Sprint(model.Names())+")")
	fs.StringVar(&c.webhookURL, "webhook-url", "", "`URL` called on every stage change")
	fs.StringVar(&c.webhookSecret, "webhook-secret", os.Getenv("CLM_WEBHOOK_SECRET"), "HMAC `key` for webhook signatures (default $CLM_WEBHOOK_SECRET)")
	fs.StringVar(&c.apiKeys, "api-keys", os.Getenv("CLM_SHOP_API_KEYS"), "comma-separated API `keys`, one of which every request must carry (default $CLM_SHOP_API_KEYS; empty: no authentication)")
	fs.DurationVar(&c.sweepEvery, "sweep-every", time.Hour, "how often time-only moves are applied (0: never)")
	fs.DurationVar(&c.shutdown, "shutdown-timeout", 15*time.Second, "how long shutdown waits for requests and webhooks")
	fs.StringVar(&c.logFormat, "log-format", "text", "log `format`: text or json")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	case c.logFormat != "text" && c.logFormat != "json":
		return c, fmt.Errorf("-log-format %q: want text or json", c.logFormat)
	case c.webhookURL != "" && c.webhookSecret == "":
		return c, errors.New("-webhook-url needs -webhook-secret (or $CLM_WEBHOOK_SECRET)")
	case c.sweepEvery < 0:
		return c, fmt.Errorf("-sweep-every %v: must not be negative", c.sweepEvery)
	case c.postgres != "" && !strings.HasPrefix(c.postgres, "postgres://") && !strings.HasPrefix(c.postgres, "postgresql://"):
		scheme, _, _ := strings.Cut(c.postgres, ":") // not the whole URL: it may hold a password
		return c, fmt.Errorf("-postgres: want a postgres:// or postgresql:// URL, not %q…", scheme+":")
	case c.db == "" && c.postgres == "":
		return c, errors.New("-db is empty and no -postgres URL is given")
	}
	return c, nil
}

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

	opts := []lifecycle.Option{lifecycle.WithLogger(log)}
	var hooks *webhook.Sender
	if c.webhookURL != "" {
		hooks, err = webhook.New(c.webhookURL, c.webhookSecret, webhook.WithLogger(log))
		if err != nil {
			return err
		}
		opts = append(opts, lifecycle.WithHook(hooks.Hook))
	}
	tr := lifecycle.NewTracker(m, st, opts...)
	keys := strings.Split(c.apiKeys, ",")
	for i := range keys {
		keys[i] = strings.TrimSpace(keys[i])
	}
	srvOpts := []shop.Option{shop.WithLogger(log), shop.WithAPIKeys(keys...)}
	if hooks != nil {
		srvOpts = append(srvOpts, shop.WithWebhooks(hooks))
	}
	srv := &http.Server{
		Handler:           shop.New(tr, srvOpts...),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(h, slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	auth := slices.ContainsFunc(keys, func(k string) bool { return k != "" })
	log.Info("shop: listening", "addr", ln.Addr().String(), "model", m.Name(), "webhook", c.webhookURL != "", "auth", auth)
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !auth && !tcp.IP.IsLoopback() {
		log.Warn("shop: listening beyond loopback without API keys: anyone who can connect can record events and read customers (set -api-keys)")
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
		sweep(sweepCtx, tr, c.sweepEvery, log)
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
		if err := hooks.Close(sctx); err != nil {
			log.Error("shop: shutdown: webhooks not delivered", "err", err, "stats", hooks.Stats())
		} else {
			log.Info("shop: webhooks drained", "stats", hooks.Stats())
		}
	}
	log.Info("shop: stopped")
	if errors.Is(runErr, http.ErrServerClosed) {
		runErr = nil
	}
	return runErr
}

// openStore opens the store the flags name and returns a function that
// closes it.
func openStore(ctx context.Context, c config, log *slog.Logger) (lifecycle.Store, func(), error) {
	switch {
	case c.postgres != "":
		s, err := sqlstore.Connect(ctx, c.postgres, sqlstore.WithLogger(log), sqlstore.WithTablePrefix(c.tablePrefix))
		if err != nil {
			return nil, nil, fmt.Errorf("-postgres: %w", err)
		}
		log.Info("shop: store", "kind", "postgres")
		return s, func() { _ = s.Close() }, nil
	case c.db == ":memory:":
		log.Info("shop: store", "kind", "memory")
		return store.NewMemory(), func() {}, nil
	}
	s, err := sqlstore.Connect(ctx, "sqlite:"+c.db, sqlstore.WithLogger(log), sqlstore.WithTablePrefix(c.tablePrefix))
	if err != nil {
		return nil, nil, fmt.Errorf("-db: %w", err)
	}
	log.Info("shop: store", "kind", "sqlite", "file", c.db)
	return s, func() { _ = s.Close() }, nil
}

// sweep applies time-only moves every interval until ctx is done.
func sweep(ctx context.Context, tr *lifecycle.Tracker, every time.Duration, log *slog.Logger) {
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
			res, err := tr.Sweep(ctx, now)
			if err != nil && ctx.Err() == nil {
				log.Error("shop: sweep failed", "err", err)
				continue
			}
			log.Info("shop: sweep", "scanned", res.Scanned, "updated", res.Updated, "moved", res.Moved)
		}
	}
}
