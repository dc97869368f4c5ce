package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	pmodel "github.com/prometheus/common/model"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/clmkit/clm/examples/internal/cli"
)

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestFlags: -h and -help exit 0 with the usage; bad flags and values
// exit 2, naming them.
func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		status int
		want   string
	}{
		{[]string{"-h"}, cli.ExitOK, "\n  -engine "},
		{[]string{"-help"}, cli.ExitOK, "usage: consume [flags]"},
		{[]string{"-bogus"}, cli.ExitUsage, "flag provided but not defined: -bogus"},
		{[]string{"-batch", "x"}, cli.ExitUsage, `invalid value "x" for flag -batch`},
		{[]string{"-batch", "0"}, cli.ExitUsage, "consume: -batch 0: must be at least 1"},
		{[]string{"-engine", "rabbit"}, cli.ExitUsage, `consume: -engine "rabbit": want kafka or jetstream`},
		{[]string{"-store", "redis"}, cli.ExitUsage, `consume: -store "redis": want memory, sqlite or postgres`},
		{[]string{"-partitions", "0"}, cli.ExitUsage, "consume: -partitions 0: must be from 1 to 2147483647"},
		{[]string{"-partitions", "2147483648"}, cli.ExitUsage, "consume: -partitions 2147483648: must be from 1 to 2147483647"},
		{[]string{"-partitions", "4294967297"}, cli.ExitUsage, "consume: -partitions 4294967297: must be from 1 to 2147483647"},
		{[]string{"-members", "3", "-member", "3"}, cli.ExitUsage, "consume: -member 3: must be from 0 to -members - 1 (2)"},
		{[]string{"-replicas", "0"}, cli.ExitUsage, "consume: -replicas 0: must be from 1 to 32767"},
		{[]string{"-format", "xml"}, cli.ExitUsage, `consume: -format "xml": want auto, json or segment`},
		{[]string{"-model", "nope"}, cli.ExitUsage, `consume: -model: `},
		{[]string{"-progress", "-1s"}, cli.ExitUsage, "consume: -progress -1s: must not be negative"},
		{[]string{"extra"}, cli.ExitUsage, `unexpected arguments ["extra"]`},
	} {
		var out bytes.Buffer
		err := run(context.Background(), tc.args, &out, &out)
		status := cli.Status(name, err, &out)
		if status != tc.status || !strings.Contains(out.String(), tc.want) {
			t.Errorf("consume %q: exit status %d, want %d; output lacks %q:\n%s", tc.args, status, tc.status, tc.want, out.String())
		}
	}
}

var metricsRE = regexp.MustCompile(`metrics at (http://\S+/metrics)`)

// consume runs the command with args until it has applied want events,
// checks its metrics and progress lines, and stops it.
func consume(t *testing.T, want float64, args ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append(args, "-metrics", "127.0.0.1:0", "-progress", "100ms"), &stdout, &stderr)
	}()
	var url string
	deadline := time.Now().Add(60 * time.Second)
	var applied float64
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("consume ended: %v\n%s", err, stderr.String())
		case <-time.After(100 * time.Millisecond):
		}
		if url == "" {
			if m := metricsRE.FindStringSubmatch(stderr.String()); m != nil {
				url = m[1]
			}
			continue
		}
		fams := scrape(t, url)
		if f := fams["clm_stream_events_total"]; f != nil {
			for _, m := range f.GetMetric() {
				if m.GetLabel()[0].GetValue() == "applied" {
					applied = m.GetCounter().GetValue()
				}
			}
		}
		if applied == want {
			if fams["clm_stream_lag_messages"] == nil || fams["clm_stream_batches_total"] == nil || fams["clm_stream_dead_letters_total"] == nil {
				t.Errorf("metrics lack the lag, batches or dead letters: %v", fams)
			}
			if lag := fams["clm_stream_lag_messages"]; lag != nil && lag.GetMetric()[0].GetLabel()[0].GetName() != "partition" {
				t.Errorf("lag labels: %v", lag.GetMetric()[0].GetLabel())
			}
			break
		}
	}
	if applied != want {
		t.Fatalf("%v events applied in 60 s; want %v\n%s", applied, want, stderr.String())
	}
	// A progress line (every 100ms): wait for one rather than sleep a
	// fixed time that a loaded machine may outlast.
	progressRE := regexp.MustCompile(`(?m)^consume: batches=\d+ .* lag=\d+ \(\d+ events/s\)$`)
	for deadline := time.Now().Add(10 * time.Second); !progressRE.MatchString(stderr.String()) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("consume: %v\n%s", err, stderr.String())
	}
	if !progressRE.MatchString(stderr.String()) {
		t.Errorf("no progress line:\n%s", stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "consume: stopped: batches=") {
		t.Errorf("stdout %q", stdout.String())
	}
}

func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(pmodel.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parsing the metrics: %v\n%s", err, body)
	}
	return fams
}

// TestKafka runs the command on a kfake cluster: it creates the topics,
// publishes 400 events and records them.
func TestKafka(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	consume(t, 400, "-engine", "kafka", "-brokers", strings.Join(c.ListenAddrs(), ","), "-produce", "400", "-partitions", "4")
}

// TestJetStream runs the command on a NATS server in this process: it
// sets the streams up, publishes 400 events and records them.
func TestJetStream(t *testing.T) {
	s := natsServer(t)
	consume(t, 400, "-engine", "jetstream", "-nats", s.ClientURL(), "-produce", "400", "-partitions", "4", "-store", "sqlite", "-dsn", "sqlite:"+t.TempDir()+"/c.db")
}

// TestFlagNamedInErrors: a name the log refuses, an unusable address or a
// -dsn of the other dialect fails (exit 1) with a message that names the
// flag (found by an audit: the engines' messages named their Config
// fields, or the wrong flag).
func TestFlagNamedInErrors(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	brokers := strings.Join(c.ListenAddrs(), ",")
	s := natsServer(t)
	for _, tc := range []struct {
		flag string
		args []string
	}{
		{"-dead-topic", []string{"-engine", "kafka", "-brokers", brokers, "-dead-topic", "a b"}},
		{"-dead-topic", []string{"-engine", "kafka", "-brokers", brokers, "-dead-topic", "events"}},
		{"-topic", []string{"-engine", "kafka", "-brokers", brokers, "-topic", "a b"}},
		// A value naming a flag's field is not that flag (found by an
		// audit: this said -brokers).
		{"-topic", []string{"-engine", "kafka", "-brokers", brokers, "-topic", "brokers events"}},
		{"-topic", []string{"-engine", "kafka", "-brokers", brokers, "-topic", "Config.Group x"}},
		{"-group", []string{"-engine", "kafka", "-brokers", brokers, "-group", ""}},
		{"-brokers", []string{"-engine", "kafka", "-brokers", ""}},
		{"-stream", []string{"-engine", "jetstream", "-nats", s.ClientURL(), "-stream", "a.b"}},
		{"-subject", []string{"-engine", "jetstream", "-nats", s.ClientURL(), "-subject", "a..b"}},
		{"-durable", []string{"-engine", "jetstream", "-nats", s.ClientURL(), "-durable", "a.b"}},
		{"-nats", []string{"-engine", "jetstream", "-nats", "bogus://x:1"}},
		{"-dsn", []string{"-store", "postgres", "-dsn", "mysql://x"}},
		{"-dsn", []string{"-store", "sqlite", "-dsn", "postgres://127.0.0.1:1/x?connect_timeout=1"}},
		{"-dsn", []string{"-store", "postgres", "-dsn", "sqlite::memory:"}},
		// Nothing listens there: the failed connection names the flag.
		{"-brokers", []string{"-engine", "kafka", "-brokers", "127.0.0.1:1"}},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var out bytes.Buffer
		err := run(ctx, append(tc.args, "-progress", "0"), &out, &out)
		cancel()
		status := cli.Status(name, err, &out)
		if status != cli.ExitError || !strings.Contains(out.String(), "consume: "+tc.flag) {
			t.Errorf("consume %q: exit %d, want 1 with a message beginning with %s: %s", tc.args, status, tc.flag, out.String())
		}
	}
}

// natsServer starts a NATS server with JetStream in this process, shut
// down when the test ends.
func natsServer(t *testing.T) *server.Server {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(s.Shutdown)
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("the NATS server is not ready")
	}
	return s
}

// A -dsn of the other dialect is refused before anything is created in
// it (found by an audit: the SQLite file was made and migrated first), and
// -produce past shopsim.MaxEvents is refused (it was cut to it).
func TestRefusedBeforeWork(t *testing.T) {
	db := filepath.Join(t.TempDir(), "wrong.db")
	var out bytes.Buffer
	err := run(context.Background(), []string{"-store", "postgres", "-dsn", "sqlite:" + db, "-brokers", "127.0.0.1:1", "-progress", "0"}, &out, &out)
	if status := cli.Status(name, err, &out); status != cli.ExitError || !strings.Contains(out.String(), "consume: -dsn: ") {
		t.Errorf("exit %d: %s", status, out.String())
	}
	if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the SQLite database of a refused -dsn exists: %v", err)
	}
	out.Reset()
	err = run(context.Background(), []string{"-produce", "10000001"}, &out, &out)
	if status := cli.Status(name, err, &out); status != cli.ExitUsage || !strings.Contains(out.String(), "-produce 10000001: ") {
		t.Errorf("exit %d: %s", status, out.String())
	}
}
