package sqlstore

import (
	"strconv"
	"strings"
)

// queries holds the SQL text of one store, with its table names filled in.
type queries struct {
	get, scan        string // the whole customer, every key of Seen included
	view             string // scan without the keys (View)
	version          string
	histLen          string // SQLite only: how many transitions the stored customer at a version holds (Put)
	insert, update   string // Put: the customer and its whole key set (PostgreSQL: one statement)
	insKeys, delKeys string // SQLite only: Put's key set
	applyRead        string // Apply: the customers and which of the given keys they have
	applyWrite       string // PostgreSQL only: Apply's customers, each if still at the version read (or held), and their new keys
	applyUpdate1     string // PostgreSQL only: applyWrite for one stored customer and one new event, with scalar arguments
	// PostgreSQL only: applyUpdate1 with change rows (one statement
	// each, with and without them: PostgreSQL sets the whole plan up on
	// every call, and the change rows' insert made the plan a third
	// larger for the events that have none)
	applyUpdate1Changes string
	applyCreate1        string // PostgreSQL only: applyWrite for one new customer and one event, with scalar arguments
	versions            string // PostgreSQL only: the versions of some customers (after a lost race)
	addKeys             string // SQLite only: Apply's new keys
	due                 string // ListDue: one page of due customers
	addChanges          string // SQLite only: Apply's and Put's change rows (PostgreSQL: in applyWrite, insert, update)
	// PostgreSQL only: the names under which the write statements are
	// prepared on a connection (the table prefix and "apply_write",
	// "apply_update1", "apply_update1c", "apply_create1"), made once.
	nameWrite, nameUpdate1, nameUpdate1Changes, nameCreate1 string
	// The change feed: lockFeed takes the feed row (serializing readers);
	// sequence numbers the changes not numbered yet after the given last
	// position, returning the positions; setFeed stores the last position;
	// changes lists a page after a position, with each customer's data.
	lockFeed, sequence, setFeed, changes string
	unnumbered, number                   string // SQLite only, in place of sequence
	claim, cursor, advance               string // CursorKeeper
	del                                  []string
	listStage, count                     string
	countAll                             string
}

// updateOne is the text of applyUpdate1, or with changes of
// applyUpdate1Changes (see buildQueries).
func updateOne(changes bool) string {
	chg := ""
	if changes {
		chg = `, chg AS (
	INSERT INTO {p}changes (customer_id, seq) SELECT upd.id, g FROM upd, unnest($10::bigint[]) AS g
	ON CONFLICT DO NOTHING
)`
	}
	return `WITH upd AS (
	UPDATE {c} c SET stage = $2, version = $3, as_of = $4, data = $5, due = NULLIF($6, 9223372036854775807)
	WHERE c.id = $1 AND c.version = $7 AND c.xmin = $9::text::xid
	RETURNING c.id
)` + chg + `
INSERT INTO {e} (customer_id, key) SELECT upd.id, $8 FROM upd
RETURNING customer_id, (txid_current() % 4294967296)::text`
}

// one returns the statement writeOne runs for one customer and one
// event, its name on a connection and its parameters' types:
// applyCreate1 for a new customer (prev 0), else applyUpdate1, or
// applyUpdate1Changes when the write has change rows.
func (q *queries) one(prev int64, changes bool) (name, sql string, oids []uint32) {
	switch {
	case prev == 0:
		return q.nameCreate1, q.applyCreate1, createOneOIDs
	case changes:
		return q.nameUpdate1Changes, q.applyUpdate1Changes, updateOneOIDs
	}
	return q.nameUpdate1, q.applyUpdate1, updateOneOIDs[:9]
}

// hasLegacy is a PostgreSQL expression: whether the customer with the ID
// id (an expression) may have keys of events stored before schema 3.
// Their legacy keys ([lifecycle.LegacyKeyOf]) begin with eight 0xff
// bytes, so they sort after every other key of the customer and one
// probe of the index finds whether there is any. (A 128-bit key that
// begins so, one in 2^64, makes it say true: a guard too many, never one
// too few.)
func hasLegacy(id string) string {
	return `EXISTS (SELECT 1 FROM {e} e WHERE e.customer_id = ` + id + ` AND e.key >= decode('ffffffffffffffff', 'hex'))`
}

func buildQueries(d Dialect, prefix string) queries {
	r := strings.NewReplacer("{c}", prefix+"customers", "{e}", prefix+"events", "{p}", prefix)
	var q queries
	switch d {
	case Postgres:
		keys := `(SELECT string_agg(encode(e.key, 'hex'), ',') FROM {e} e WHERE e.customer_id = c.id)`
		// ins and del act only when upd wrote a row, i.e. when the
		// compare-and-swap won: the customer and its keys change in one
		// statement, hence one transaction.
		sync := `, chg AS (
	INSERT INTO {p}changes (customer_id, seq) SELECT upd.id, g FROM upd, generate_series({from}, {h}::bigint) AS g
	ON CONFLICT DO NOTHING
), ins AS (
	INSERT INTO {e} (customer_id, key) SELECT upd.id, k FROM upd, unnest($7::bytea[]) AS k
	ON CONFLICT DO NOTHING
), del AS (
	DELETE FROM {e} e USING upd WHERE e.customer_id = upd.id AND NOT (e.key = ANY ($7::bytea[]))
)
SELECT count(*) FROM upd`
		q = queries{
			get:     `SELECT c.version, c.data, ` + keys + ` FROM {c} c WHERE c.id = $1`,
			scan:    `SELECT c.id, c.version, c.data, ` + keys + ` FROM {c} c WHERE c.id > $1 ORDER BY c.id LIMIT $2`,
			view:    `SELECT c.id, c.version, c.data, NULL FROM {c} c WHERE c.id > $1 ORDER BY c.id LIMIT $2`,
			version: `SELECT version FROM {c} WHERE id = $1`,
			insert: `WITH upd AS (
	INSERT INTO {c} (id, stage, version, as_of, data, due) VALUES ($1, $2, $3, $4, $5, $6)
	ON CONFLICT (id) DO NOTHING RETURNING id
)` + strings.NewReplacer("{from}", "1", "{h}", "$8").Replace(sync),
			// (Change rows only for the transitions past the stored
			// history, as Apply adds them: a history stored before the
			// change feed has none, and is not listed.)
			update: `WITH old AS MATERIALIZED (
	SELECT CASE WHEN jsonb_typeof(h) = 'array' THEN jsonb_array_length(h) ELSE 0 END AS n
	FROM {c}, LATERAL (SELECT convert_from(data, 'UTF8')::jsonb -> 'history' AS h) j
	WHERE id = $1 AND version = $8 FOR UPDATE OF {c}
), upd AS (
	UPDATE {c} SET stage = $2, version = $3, as_of = $4, data = $5, due = $6
	WHERE id = $1 AND version = $8 AND EXISTS (SELECT 1 FROM old) RETURNING id
)` + strings.NewReplacer("{from}", "(SELECT n FROM old) + 1", "{h}", "$9").Replace(sync),
			// Apply reads every customer of its writes, and only the keys
			// of their events, in one statement.
			// ($2, $3 pair each key looked up with its customer; LATERAL
			// ... LIMIT 1 makes each one index probe, whatever the
			// statistics were when the connection planned it: a hash join
			// would read every key of every customer.)
			applyRead: `SELECT c.id, c.version, c.data, c.xmin::text, f.keys, ` + hasLegacy("c.id") + ` FROM {c} c LEFT JOIN (
	SELECT e.customer_id, string_agg(encode(e.key, 'hex'), ',') AS keys
	FROM unnest($2::text[], $3::bytea[]) AS k(id, key)
	CROSS JOIN LATERAL (SELECT * FROM {e} e WHERE e.customer_id = k.id AND e.key = k.key LIMIT 1) e
	GROUP BY e.customer_id
) f ON f.customer_id = c.id WHERE c.id = ANY ($1::text[])`,
			// ... and writes them in one: each row updated if it is still
			// the row version read or held (prev > 0: its version and
			// xmin, and none of the guard keys paired with its ID, $11
			// and $12, stored: a held row's that may have legacy keys,
			// and in a second run every key the statement inserts) or
			// inserted if no other writer did first
			// (prev = 0), and the new keys of exactly the rows written.
			// The keys of a row updated are inserted without ON CONFLICT:
			// one stored already (an event a held row's customer had)
			// fails the whole statement, which Store.Apply then runs
			// again with every key it inserts among the guards (see its
			// write); a created row's, as applyCreate1's, with. It returns the
			// IDs written, each with its new xmin and, for a customer it
			// creates, whether it may have legacy keys (hasLegacy, as
			// applyCreate1's may); for a row it updates, false: the read
			// or the held row said, and a row that gained legacy keys
			// since (only Put stores them) is another row version, which
			// the update does not write.
			applyWrite: `WITH v AS (
	SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::timestamptz[], $5::bytea[], $6::bigint[], $7::bigint[], $10::text[])
		AS v(id, stage, version, as_of, data, due, prev, xmin)
), seen AS (
	SELECT DISTINCT g.id FROM unnest($11::text[], $12::bytea[]) AS g(id, key)
	CROSS JOIN LATERAL (SELECT 1 FROM {e} e WHERE e.customer_id = g.id AND e.key = g.key LIMIT 1) e
), lk AS MATERIALIZED (
	-- The rows to update, locked in the order of ID: two statements that
	-- update the same customers take their rows in the same order and do
	-- not deadlock, whatever order the update's plan visits them in (the
	-- index and heap orders differ, and rows move when updated). (The
	-- inserts of new below come after and can: see Store.Apply.)
	SELECT c.id FROM {c} c WHERE c.id = ANY ($1::text[]) ORDER BY c.id FOR UPDATE
), upd AS (
	-- (Joined to lk, not also to id = ANY ($1): a probe of the index
	-- for each row locked, without re-reading the whole array each time.)
	UPDATE {c} c SET stage = v.stage, version = v.version, as_of = v.as_of, data = v.data, due = NULLIF(v.due, 9223372036854775807)
	FROM v LEFT JOIN seen ON seen.id = v.id
	WHERE c.id IN (SELECT id FROM lk) AND v.prev > 0 AND c.id = v.id AND c.version = v.prev
	AND c.xmin = v.xmin::xid AND seen.id IS NULL
	RETURNING c.id, c.xmin
), new AS (
	INSERT INTO {c} (id, stage, version, as_of, data, due)
	SELECT v.id, v.stage, v.version, v.as_of, v.data, NULLIF(v.due, 9223372036854775807) FROM v WHERE v.prev = 0
	ON CONFLICT (id) DO NOTHING RETURNING id, xmin
), won AS (
	SELECT id, xmin, false AS created FROM upd UNION ALL SELECT id, xmin, true FROM new
), ins AS (
	INSERT INTO {e} (customer_id, key)
	SELECT k.id, k.key FROM unnest($8::text[], $9::bytea[]) AS k(id, key) JOIN upd ON upd.id = k.id
), insNew AS (
	INSERT INTO {e} (customer_id, key)
	SELECT k.id, k.key FROM unnest($8::text[], $9::bytea[]) AS k(id, key) JOIN new ON new.id = k.id
	ON CONFLICT DO NOTHING
), chg AS (
	INSERT INTO {p}changes (customer_id, seq)
	SELECT g.id, g.seq FROM unnest($13::text[], $14::bigint[]) AS g(id, seq) JOIN won ON won.id = g.id
	ON CONFLICT DO NOTHING
)
SELECT w.id, w.xmin::text, CASE WHEN w.created THEN ` + hasLegacy("w.id") + ` ELSE false END FROM won w`,
			// applyWrite for one customer and one event (Record's case),
			// with scalar arguments, as three statements (update, update
			// with change rows, create), each a smaller plan than
			// applyWrite's (PostgreSQL sets a plan up on
			// every call, and unnest and LATERAL nodes cost more to set
			// up than the work they do for one key). One row locked by
			// the write itself, so no lock order to keep.
			//
			// applyUpdate1, for a stored customer: the row if still the
			// row version read or held (version $7, xmin $9), and the
			// event's key $8 and (applyUpdate1Changes, when the stage
			// history grew) the change rows' seq $10 of that row only.
			// The key's insert is the statement itself: its row comes
			// back, with the transaction's ID (the row's new xmin),
			// exactly when the customer was written. It has no ON
			// CONFLICT: a key stored already (an event a held row's
			// customer had; a read row's keys were looked up, and a key
			// another writer stored since came with a new row version)
			// fails the whole statement, a lost race, rather than leave a
			// customer written with an event it had. So the key's insert
			// is a held row's guard, with no probe of its own. It does
			// not look for the event's legacy key: a held row that may
			// have legacy keys (stored.legacy) is written with
			// applyWrite, whose guard takes any keys. (A probe for the
			// legacy key took a fifth of the statement's time on the
			// server; with key IN (…) instead, the generic plan read all
			// of the customer's keys and filtered them.)
			applyUpdate1:        updateOne(false),
			applyUpdate1Changes: updateOne(true),
			// applyCreate1, for a customer not stored when read: the
			// customer, its event's key $7 and its change rows' seq $8;
			// when it exists after all, the stored row instead (see
			// Store.createPostgres), with which of the event's key $9 and
			// legacy key $10 it has. Either way, whether the customer may
			// have legacy keys (hasLegacy): a customer it creates may too,
			// under keys a Delete of a release before schema 5 left
			// behind (it deleted the event rows first, so a customer
			// created meanwhile kept them) and migration 3 kept as legacy
			// keys.
			applyCreate1: `WITH new AS (
	INSERT INTO {c} (id, stage, version, as_of, data, due) VALUES ($1, $2, $3, $4, $5, NULLIF($6, 9223372036854775807))
	ON CONFLICT (id) DO NOTHING RETURNING id, xmin
), ins AS (
	INSERT INTO {e} (customer_id, key) SELECT new.id, $7 FROM new
	ON CONFLICT DO NOTHING
), chg AS (
	INSERT INTO {p}changes (customer_id, seq) SELECT new.id, g FROM new, unnest($8::bigint[]) AS g
	ON CONFLICT DO NOTHING
)
SELECT id, xmin::text, NULL::bigint, NULL::bytea, NULL::text, ` + hasLegacy("$1") + ` FROM new
UNION ALL
SELECT c.id, c.xmin::text, c.version, c.data, concat_ws(',',
	(SELECT encode(e.key, 'hex') FROM {e} e WHERE e.customer_id = $1 AND e.key = $9),
	(SELECT encode(e.key, 'hex') FROM {e} e WHERE e.customer_id = $1 AND e.key = $10)), ` + hasLegacy("$1") + `
FROM {c} c WHERE c.id = $1 AND NOT EXISTS (SELECT 1 FROM new)`,
			versions: `SELECT id, version FROM {c} WHERE id = ANY ($1::text[])`,
			due:      `SELECT id, due FROM {c} WHERE due <= $1 AND (due, id) > ($2, $3) ORDER BY due, id LIMIT $4`,
			// The customer's row first: every writer locks it before it
			// writes key rows, and Delete must too, or a writer's insert
			// of a key row Delete removed waits for Delete while Delete
			// waits for the writer's row: a deadlock. Then the key rows,
			// unless the customer exists: one that a Put or Apply created
			// after the first statement looked (so that it found no row)
			// is not Delete's to strip of its Seen.
			del: []string{
				`DELETE FROM {c} WHERE id = $1`,
				`DELETE FROM {e} WHERE customer_id = $1 AND NOT EXISTS (SELECT 1 FROM {c} WHERE id = $1)`,
				`DELETE FROM {p}changes WHERE customer_id = $1 AND NOT EXISTS (SELECT 1 FROM {c} WHERE id = $1)`,
			},
			lockFeed: `SELECT last FROM {p}feed WHERE one = 1 FOR UPDATE`,
			sequence: `WITH todo AS (
	SELECT customer_id, seq, row_number() OVER (ORDER BY customer_id, seq) AS n
	FROM {p}changes WHERE pos IS NULL ORDER BY customer_id, seq LIMIT ` + strconv.Itoa(numberBatch) + `
)
UPDATE {p}changes ch SET pos = $1 + todo.n FROM todo
WHERE ch.customer_id = todo.customer_id AND ch.seq = todo.seq AND ch.pos IS NULL RETURNING ch.pos`,
			setFeed: `UPDATE {p}feed SET last = $1 WHERE one = 1`,
			// Each customer's data once per page, on its first row: a
			// customer with many changes would otherwise be sent (and
			// decoded) once per change.
			changes: `SELECT p.customer_id, p.seq, p.pos,
	CASE WHEN p.pos = min(p.pos) OVER (PARTITION BY p.customer_id) THEN (SELECT c.data FROM {c} c WHERE c.id = p.customer_id) END
FROM (SELECT customer_id, seq, pos FROM {p}changes WHERE pos > $1 ORDER BY pos LIMIT $2) p ORDER BY p.pos`,
			claim: `INSERT INTO {p}feed_cursors AS f (name, pos, owner, until) VALUES ($1, 0, $2, $4)
ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until
WHERE f.owner = excluded.owner OR f.until <= $3 RETURNING f.pos`,
			cursor:  `SELECT pos, owner, until FROM {p}feed_cursors WHERE name = $1`,
			advance: `UPDATE {p}feed_cursors SET pos = $3, until = $5 WHERE name = $1 AND owner = $2 AND until > $4 AND pos <= $3`,
			// (stage = $1 AND id > $2, written as a range of the stage
			// index, (stage, id) > ($1, $2) AND stage <= $1, so that the
			// primary key cannot give the order: with `stage = $1 AND id
			// > $2 ORDER BY id`, a generic plan made while nearly every
			// customer sat in one stage, before a VACUUM, read the
			// primary key from $2 on and filtered every customer by
			// stage.)
			listStage: `SELECT id FROM {c} WHERE (stage, id) > ($1, $2) AND stage <= $1 ORDER BY stage, id LIMIT $3`,
			count:     `SELECT stage, count(*) FROM {c} WHERE stage <> '' GROUP BY stage`,
			countAll:  `SELECT count(*) FROM {c}`,
		}
	case SQLite:
		keys := `(SELECT group_concat(hex(e.key), ',') FROM {e} e WHERE e.customer_id = c.id)`
		q = queries{
			get:     `SELECT c.version, c.data, ` + keys + ` FROM {c} c WHERE c.id = ?`,
			scan:    `SELECT c.id, c.version, c.data, ` + keys + ` FROM {c} c WHERE c.id > ? ORDER BY c.id LIMIT ?`,
			view:    `SELECT c.id, c.version, c.data, NULL FROM {c} c WHERE c.id > ? ORDER BY c.id LIMIT ?`,
			version: `SELECT version FROM {c} WHERE id = ?`,
			histLen: `SELECT coalesce(json_array_length(data, '$.history'), 0) FROM {c} WHERE id = ? AND version = ?`,
			insert:  `INSERT INTO {c} (id, stage, version, as_of, data, due) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			update:  `UPDATE {c} SET stage = ?, version = ?, as_of = ?, data = ?, due = ? WHERE id = ? AND version = ?`,
			// json_each reads the keys, in hexadecimal, from one JSON
			// array parameter.
			insKeys: `INSERT INTO {e} (customer_id, key) SELECT ?, unhex(value) FROM json_each(?) WHERE true ON CONFLICT DO NOTHING`,
			delKeys: `DELETE FROM {e} WHERE customer_id = ? AND hex(key) NOT IN (SELECT value FROM json_each(?))`,
			// The keys looked up drive the join (CROSS JOIN keeps them
			// the outer loop): one index probe each, never a pass over
			// the customer's keys.
			applyRead:  `SELECT c.version, c.data, (SELECT group_concat(hex(e.key), ',') FROM json_each(?) j CROSS JOIN {e} e WHERE e.customer_id = c.id AND e.key = unhex(j.value)) FROM {c} c WHERE c.id = ?`,
			addKeys:    `INSERT INTO {e} (customer_id, key) SELECT ?, unhex(value) FROM json_each(?) WHERE true ON CONFLICT DO NOTHING`,
			due:        `SELECT id, due FROM {c} WHERE due <= ? AND (due, id) > (?, ?) ORDER BY due, id LIMIT ?`,
			del:        []string{`DELETE FROM {e} WHERE customer_id = ?`, `DELETE FROM {p}changes WHERE customer_id = ?`, `DELETE FROM {c} WHERE id = ?`},
			addChanges: `INSERT INTO {p}changes (customer_id, seq) SELECT ?, value FROM json_each(?) WHERE true ON CONFLICT DO NOTHING`,
			lockFeed:   `SELECT last FROM {p}feed WHERE one = 1`,
			// SQLite numbers the changes one row at a time, in Go (see
			// Store.numberSQLite): its plan for PostgreSQL's UPDATE ...
			// FROM todo scanned todo for every row, quadratic in the
			// changes not numbered yet.
			unnumbered: `SELECT customer_id, seq FROM {p}changes WHERE pos IS NULL ORDER BY customer_id, seq LIMIT ` + strconv.Itoa(numberBatch),
			number:     `UPDATE {p}changes SET pos = ? WHERE customer_id = ? AND seq = ? AND pos IS NULL`,
			setFeed:    `UPDATE {p}feed SET last = ? WHERE one = 1`,
			// Each customer's data once per page, on its first row: a
			// customer with many changes would otherwise be sent (and
			// decoded) once per change.
			changes: `SELECT p.customer_id, p.seq, p.pos,
	CASE WHEN p.pos = min(p.pos) OVER (PARTITION BY p.customer_id) THEN (SELECT c.data FROM {c} c WHERE c.id = p.customer_id) END
FROM (SELECT customer_id, seq, pos FROM {p}changes WHERE pos > ? ORDER BY pos LIMIT ?) p ORDER BY p.pos`,
			claim: `INSERT INTO {p}feed_cursors AS f (name, pos, owner, until) VALUES (?1, 0, ?2, ?4)
ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until
WHERE f.owner = excluded.owner OR f.until <= ?3 RETURNING pos`,
			cursor:    `SELECT pos, owner, until FROM {p}feed_cursors WHERE name = ?`,
			advance:   `UPDATE {p}feed_cursors SET pos = ?3, until = ?5 WHERE name = ?1 AND owner = ?2 AND until > ?4 AND pos <= ?3`,
			listStage: `SELECT id FROM {c} WHERE stage = ? AND id > ? ORDER BY id LIMIT ?`,
			count:     `SELECT stage, count(*) FROM {c} WHERE stage <> '' GROUP BY stage`,
			countAll:  `SELECT count(*) FROM {c}`,
		}
	}
	if d == Postgres {
		q.nameWrite, q.nameUpdate1, q.nameUpdate1Changes, q.nameCreate1 = prefix+"apply_write", prefix+"apply_update1", prefix+"apply_update1c", prefix+"apply_create1"
	}
	for _, p := range []*string{&q.get, &q.scan, &q.view, &q.version, &q.histLen, &q.insert, &q.update, &q.insKeys, &q.delKeys,
		&q.applyRead, &q.applyWrite, &q.applyUpdate1, &q.applyUpdate1Changes, &q.applyCreate1, &q.versions, &q.addKeys, &q.due, &q.listStage, &q.count, &q.countAll,
		&q.addChanges, &q.lockFeed, &q.sequence, &q.unnumbered, &q.number, &q.setFeed, &q.changes, &q.claim, &q.cursor, &q.advance} {
		*p = r.Replace(*p)
	}
	for i := range q.del {
		q.del[i] = r.Replace(q.del[i])
	}
	return q
}
