package sqlstore

import (
	"context"
	"regexp"
	"strconv"
	"strings"
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
	conn, err := s.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SET plan_cache_mode = force_generic_plan`); err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`\$(\d+)`)
	seqScan := regexp.MustCompile(`Seq Scan on (` + regexp.QuoteMeta(s.Table("customers")) + `|` + regexp.QuoteMeta(s.Table("events")) + `|` + regexp.QuoteMeta(s.Table("changes")) + `)\b`)
	for name, q := range map[string]string{
		"get": s.q.get, "version": s.q.version, "applyRead": s.q.applyRead, "applyWrite": s.q.applyWrite, "applyUpdate1": s.q.applyUpdate1, "applyCreate1": s.q.applyCreate1,
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
		if _, err := conn.ExecContext(ctx, `PREPARE plan_`+name+` AS `+q); err != nil {
			t.Fatalf("%s: prepare: %v", name, err)
		}
		args := strings.TrimSuffix(strings.Repeat("NULL, ", n), ", ")
		rows, err := conn.QueryContext(ctx, `EXPLAIN EXECUTE plan_`+name+`(`+args+`)`)
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
		if m := seqScan.FindString(plan.String()); m != "" {
			t.Errorf("the generic plan of %s reads a whole table (%s):\n%s", name, m, plan.String())
		}
	}
}
