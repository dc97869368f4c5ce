package storetest_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store/storetest"
)

// rvRun runs the suite's rules on fresh stores from mk, stopping at the first
// failing rule, which it returns (name and error); "" when every rule passed.
func rvRun(mk func() lifecycle.Store, timeout time.Duration) (string, error) {
	for i, c := range storetest.Cases() {
		s := mk()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		done := make(chan error, 1)
		go func() {
			defer func() {
				if r := recover(); r != nil {
					done <- fmt.Errorf("panicked: %v", r)
				}
			}()
			done <- c.Check(ctx, s, fmt.Sprintf("rv%d-", i))
		}()
		var err error
		select {
		case err = <-done:
		case <-time.After(timeout + time.Second):
			err = fmt.Errorf("hung")
		}
		cancel()
		if err != nil {
			return c.Name, err
		}
	}
	return "", nil
}

func TestContractRefStorePasses(t *testing.T) {
	storetest.Run(t, func(*testing.T) lifecycle.Store { return newRV("") })
	if err := storetest.TestStore(newRV("")); err != nil {
		t.Fatal(err)
	}
}

// Variants that stay within what the docs allow: the suite must pass them.
var rvOK = []string{"ok-apply-with-history", "due-lists-nondue-after-2262", "ok-due-never-listed", "ok-due-clamp-never", "ok-due-early-seconds", "ok-refuse-offset-seconds", "ok-empty-owner-refused"}

func TestContractAllowedVariantsPass(t *testing.T) {
	for _, v := range rvOK {
		if rule, err := rvRun(func() lifecycle.Store { return newRV(v) }, 8*time.Second); rule != "" {
			t.Errorf("store variant %q, within the documented latitude, fails %s: %v", v, rule, err)
		}
	}
}

var rvBugs = []string{
	"stage-255", "type-32", "id-refuse-over-128", "load-keeps-dst-seen", "load-keeps-dst-referrals", "scan-ignores-break",
	"scan-continues-after-error", "view-ignores-break",
	// Store
	"get-shared", "put-keeps-c", "scan-shared", "load-shallow", "load-keeps-dst-history", "load-stale-version",
	"get-missing-plain-error", "get-drops-seen",
	"put-ignore-prev", "put-create-overwrites", "put-no-version-check", "put-empty-id",
	"put-conflict-wrong-sentinel", "put-conflict-partial", "put-invalid-writes",
	"get-no-ctx", "put-no-ctx", "load-no-ctx", "scan-no-ctx", "view-no-ctx",
	// values
	"utc-times", "truncate-micro", "offset-seconds-to-minutes", "cause-64", "cause-256", "drop-due", "never-to-zero",
	"due-utc-wall-shift", "drop-referrals", "drop-score", "drop-referred-by", "count-32", "amount-32", "tallies-255",
	"history-cap-50", "stage-64", "drop-legacy", "seen-cap-1000", "seen-union", "drop-since", "history-at-utc",
	// Scan / View
	"scan-holds-lock", "scan-skip-one", "scan-dup", "view-skip-one", "view-dup",
	// ListDue
	"due-strict-before", "due-no-zero", "due-includes-future", "due-wallclock", "due-late-subsecond",
	"due-pre1970-never", "due-ignores-apply", "due-first-page", "due-dup", "due-no-ctx", "due-omits-after-2262",
	// Apply
	"apply-no-ctx", "apply-stores-on-false", "apply-seen-false", "apply-seen-not-recorded", "apply-replaces-history",
	"apply-gives-history-appends-all", "apply-fn-error-stores", "apply-err-wrapped",
	"apply-no-lock", "apply-new-no-id", "apply-stale-due", "apply-first-only", "apply-seen-reversed", "apply-legacy-ignored",
	// Changes
	"feed-skip-second", "feed-put-not-listed", "feed-apply-not-listed", "feed-limit-zero-empty", "feed-stops-at-hidden",
	"feed-hidden-listed", "feed-refill-new-entry", "feed-seq-zero-based", "feed-no-ctx", "feed-stale-transition",
	"feed-page-reversed", "feed-limit-ignored", "feed-relists-last", "feed-delete-keeps-fed", "feed-delete-keeps-entries",
	// Cursors
	"cur-steal", "cur-advance-nonholder", "cur-advance-back", "cur-no-giveup", "cur-end-inclusive", "cur-no-renew",
	"cur-claim-resets", "cur-empty-owner-nobody", "cur-no-ctx", "cur-race", "cur-expired-advance", "cur-no-renew-claim",
}

func TestContractBrokenStoresFail(t *testing.T) {
	var mu sync.Mutex
	var passed []string
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for _, bug := range rvBugs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			t0 := time.Now()
			rule, err := rvRun(func() lifecycle.Store { return newRV(bug) }, 2*time.Second)
			mu.Lock()
			defer mu.Unlock()
			if rule == "" {
				passed = append(passed, bug)
				t.Errorf("broken store %q passes every storetest rule (%v)", bug, time.Since(t0).Round(time.Millisecond))
				return
			}
			msg := err.Error()
			if len(msg) > 160 {
				msg = msg[:160] + "…"
			}
			t.Logf("%-32s caught by %-18s (%v): %s", bug, rule, time.Since(t0).Round(time.Millisecond), msg)
		}()
	}
	wg.Wait()
	t.Logf("undetected: %v (of %d)", passed, len(rvBugs))
	_ = strconv.Itoa
}
