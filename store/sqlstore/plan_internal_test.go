package sqlstore

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// TestPlansUseIndexes checks the plans PostgreSQL makes for the hot
// statements. Connect asks for generic plans (plan_cache_mode), and a
// connection keeps the plan it made first: for tables that were empty
// then, a plan that joins the statement's rows to a sequential scan of
// every customer looks cheap, and it stays, making each write cost
// O(customers). Every statement that looks customers or keys up by ID
// must reach them through an index in its generic plan on empty tables.
func TestPlansUseIndexes(t *testing.T) {
	ctx := context.Background()
	s := postgresStore(t, "tplan")
	seqScan := regexp.MustCompile(`Seq Scan on (` + regexp.QuoteMeta(s.Table("customers")) + `|` + regexp.QuoteMeta(s.Table("events")) + `|` + regexp.QuoteMeta(s.Table("changes")) + `)\b`)
	for name, plan := range genericPlans(ctx, t, s) {
		if m := seqScan.FindString(plan); m != "" {
			t.Errorf("on empty tables, the generic plan of %s reads a whole table (%s):\n%s", name, m, plan)
		}
	}
	// Tables of a few pages, analyzed (a new shop's first customers):
	// reading them whole looks cheaper than an index probe, and a plan
	// made now would be kept as they grow (Connect's enable_seqscan=off).
	for _, q := range []string{
		`INSERT INTO ` + s.Table("customers") + ` (id, stage, version, as_of, data) SELECT 'c' || i, 'reach', 1, now(), '{}' FROM generate_series(1, 20) AS i`,
		`INSERT INTO ` + s.Table("events") + ` (customer_id, key) SELECT 'c' || i, decode(md5(i || '/' || j), 'hex') FROM generate_series(1, 20) AS i, generate_series(1, 10) AS j`,
		`INSERT INTO ` + s.Table("changes") + ` (customer_id, seq, pos) SELECT 'c' || i, 1, i FROM generate_series(1, 20) AS i`,
		`VACUUM ANALYZE ` + s.Table("customers"),
		`VACUUM ANALYZE ` + s.Table("events"),
		`VACUUM ANALYZE ` + s.Table("changes"),
	} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for name, plan := range genericPlans(ctx, t, s) {
		if m := seqScan.FindString(plan); m != "" {
			t.Errorf("on small analyzed tables, the generic plan of %s reads a whole table (%s):\n%s", name, m, plan)
		}
	}
}

// TestPlansProbeKeys checks that the statements that look events' keys up
// probe the index on (customer_id, key) for each key, in the generic plan
// made with statistics of customers who have many keys (1,000 customers
// of 100 each): a plan that reads all of a customer's keys and filters
// them costs more with every event the customer has. (get and scan read
// all of a customer's keys, and Put's insert and update replace them, by
// design.)
func TestPlansProbeKeys(t *testing.T) {
	ctx := context.Background()
	s := postgresStore(t, "tprobe")
	for _, q := range []string{
		`INSERT INTO ` + s.Table("customers") + ` (id, stage, version, as_of, data) SELECT 'c' || i, 'reach', 1, now(), '{}' FROM generate_series(1, 1000) AS i`,
		`INSERT INTO ` + s.Table("events") + ` (customer_id, key) SELECT 'c' || i, decode(md5(i || '/' || j), 'hex') FROM generate_series(1, 1000) AS i, generate_series(1, 100) AS j`,
		`VACUUM ANALYZE ` + s.Table("customers"),
		`VACUUM ANALYZE ` + s.Table("events"),
	} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	keyFilter := regexp.MustCompile(`Filter: .*\bkey\b`)
	readsAllKeys := map[string]bool{"get": true, "scan": true, "insert": true, "update": true}
	for name, plan := range genericPlans(ctx, t, s) {
		if m := keyFilter.FindString(plan); m != "" && !readsAllKeys[name] {
			t.Errorf("the generic plan of %s reads a customer's keys and filters them (%s):\n%s", name, m, plan)
		}
	}
}

// TestPlanUpdatesEachRowOnce checks that applyWrite's update reaches each
// customer it locked with one probe of the primary key: an index
// condition that also tests the statement's whole ID array (id = ANY)
// sorts that array again for every row, which made a write of n
// customers cost O(n² log n).
func TestPlanUpdatesEachRowOnce(t *testing.T) {
	ctx := context.Background()
	s := postgresStore(t, "tplanupd")
	arrayPerRow := regexp.MustCompile(`Index Cond: \(\(id = [^)]*\) AND \(id = ANY`)
	plan := genericPlans(ctx, t, s)["applyWrite"]
	if m := arrayPerRow.FindString(plan); m != "" {
		t.Errorf("applyWrite's update tests the whole ID array for every row (%s):\n%s", m, plan)
	}
}

var planSeq atomic.Int64

// genericPlans returns the generic plans PostgreSQL makes now for the
// store's statements, by name.
func genericPlans(ctx context.Context, t *testing.T, s *Store) map[string]string {
	t.Helper()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SET plan_cache_mode = force_generic_plan`); err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`\$(\d+)`)
	plans := make(map[string]string)
	for name, q := range map[string]string{
		"get": s.q.get, "version": s.q.version, "applyRead": s.q.applyRead, "applyWrite": s.q.applyWrite, "applyUpdate1": s.q.applyUpdate1, "applyUpdate1Changes": s.q.applyUpdate1Changes, "applyCreate1": s.q.applyCreate1,
		"versions": s.q.versions, "due": s.q.due, "scan": s.q.scan, "listStage": s.q.listStage,
		"insert": s.q.insert, "update": s.q.update, "delete0": s.q.del[0], "delete1": s.q.del[1], "delete2": s.q.del[2],
		"changes": s.q.changes, "sequence": s.q.sequence, "advance": s.q.advance, "cursor": s.q.cursor,
	} {
		n := 0
		for _, m := range param.FindAllStringSubmatch(q, -1) {
			if i, _ := strconv.Atoi(m[1]); i > n {
				n = i
			}
		}
		stmt := fmt.Sprintf("plan%d_%s", planSeq.Add(1), name)
		if _, err := conn.ExecContext(ctx, `PREPARE `+stmt+` AS `+q); err != nil {
			t.Fatalf("%s: prepare: %v", name, err)
		}
		args := strings.TrimSuffix(strings.Repeat("NULL, ", n), ", ")
		rows, err := conn.QueryContext(ctx, `EXPLAIN EXECUTE `+stmt+`(`+args+`)`)
		if err != nil {
			t.Fatalf("%s: explain: %v", name, err)
		}
		var plan strings.Builder
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan.WriteString(line + "\n")
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		plans[name] = plan.String()
	}
	return plans
}

// TestPlanListStageProbesStageIndex checks that ListByStage's page is
// read through the (stage, id) index, in the generic plan made with
// statistics of a table whose customers nearly all sit in one stage and
// whose visibility map is not set yet (no VACUUM): `stage = $1 AND id >
// $2 ORDER BY id` was then read through the primary key, filtering every
// customer after $2 on its stage (for a stage of 3 customers among
// 300,000, 14,789 pages and 94 ms instead of 4 pages).
func TestPlanListStageProbesStageIndex(t *testing.T) {
	ctx := context.Background()
	s := postgresStore(t, "tplanstage")
	for _, q := range []string{
		`INSERT INTO ` + s.Table("customers") + ` (id, stage, version, as_of, data) SELECT 'c' || lpad(i::text, 6, '0'), CASE WHEN i % 10000 = 7 THEN 'rare' ELSE 'reach' END, 1, now(), convert_to(repeat('x', 300), 'UTF8') FROM generate_series(1, 30000) AS i`,
		`ANALYZE ` + s.Table("customers"),
	} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	plan := genericPlans(ctx, t, s)["listStage"]
	if !strings.Contains(plan, s.Table("customers_stage")) || regexp.MustCompile(`Filter: .*\bstage\b`).MatchString(plan) {
		t.Errorf("the generic plan of listStage does not probe the stage index for the stage:\n%s", plan)
	}
}
