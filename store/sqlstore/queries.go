package sqlstore

import "strings"

// queries holds the SQL text of one store, with its table names filled in.
type queries struct {
	get, scan         string
	getLocked         string // PostgreSQL: get, locking the row (see loadLocked)
	lockNew           string // PostgreSQL: a transaction-scoped advisory lock
	insert, update    string // PostgreSQL: one statement that also syncs events
	insEvents, delEvs string // SQLite only
	version           string
	del               []string
	listStage, count  string
	countAll          string
}

func buildQueries(d Dialect, prefix string) queries {
	r := strings.NewReplacer("{c}", prefix+"customers", "{e}", prefix+"events")
	var q queries
	switch d {
	case Postgres:
		digests := `(SELECT string_agg(e.digest::text, ',') FROM {e} e WHERE e.customer_id = c.id)`
		q = queries{
			get:       `SELECT c.version, c.data, ` + digests + ` FROM {c} c WHERE c.id = $1`,
			getLocked: `SELECT c.version, c.data, ` + digests + `, (SELECT v.version FROM {c} v WHERE v.id = $1) FROM {c} c WHERE c.id = $1 FOR UPDATE OF c`,
			lockNew:   `SELECT pg_advisory_xact_lock($1)`,
			scan:      `SELECT c.id, c.version, c.data, ` + digests + ` FROM {c} c WHERE c.id > $1 ORDER BY c.id LIMIT $2`,
			// The customer write, the new event rows and the removal of
			// event rows no longer in Seen are one statement, hence one
			// transaction. ins and del act only when upd wrote a row, i.e.
			// when the compare-and-swap won.
			insert: `WITH upd AS (
	INSERT INTO {c} (id, stage, version, as_of, data) VALUES ($1, $2, $3, $4, $5)
	ON CONFLICT (id) DO NOTHING RETURNING id
), ins AS (
	INSERT INTO {e} (customer_id, digest) SELECT upd.id, d FROM upd, unnest($6::bigint[]) AS d
	ON CONFLICT DO NOTHING
), del AS (
	DELETE FROM {e} e USING upd WHERE e.customer_id = upd.id AND NOT (e.digest = ANY ($6::bigint[]))
)
SELECT count(*) FROM upd`,
			update: `WITH upd AS (
	UPDATE {c} SET stage = $2, version = $3, as_of = $4, data = $5 WHERE id = $1 AND version = $7 RETURNING id
), ins AS (
	INSERT INTO {e} (customer_id, digest) SELECT upd.id, d FROM upd, unnest($6::bigint[]) AS d
	ON CONFLICT DO NOTHING
), del AS (
	DELETE FROM {e} e USING upd WHERE e.customer_id = upd.id AND NOT (e.digest = ANY ($6::bigint[]))
)
SELECT count(*) FROM upd`,
			version: `SELECT version FROM {c} WHERE id = $1`,
			// The customer's row first: every writer (Put, Update) locks
			// it before it writes event rows, and Delete must too, or a
			// writer's insert of an event row Delete removed waits for
			// Delete while Delete waits for the writer's row: a deadlock.
			// Then the event rows, unless the customer exists: one that a
			// Put or Update created after the first statement looked (so
			// that it found no row) is not Delete's to strip of its Seen.
			del: []string{
				`DELETE FROM {c} WHERE id = $1`,
				`DELETE FROM {e} WHERE customer_id = $1 AND NOT EXISTS (SELECT 1 FROM {c} WHERE id = $1)`,
			},
			listStage: `SELECT id FROM {c} WHERE stage = $1 AND id > $2 ORDER BY id LIMIT $3`,
			count:     `SELECT stage, count(*) FROM {c} GROUP BY stage`,
			countAll:  `SELECT count(*) FROM {c}`,
		}
	case SQLite:
		digests := `(SELECT group_concat(e.digest, ',') FROM {e} e WHERE e.customer_id = c.id)`
		q = queries{
			get:    `SELECT c.version, c.data, ` + digests + ` FROM {c} c WHERE c.id = ?`,
			scan:   `SELECT c.id, c.version, c.data, ` + digests + ` FROM {c} c WHERE c.id > ? ORDER BY c.id LIMIT ?`,
			insert: `INSERT INTO {c} (id, stage, version, as_of, data) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			update: `UPDATE {c} SET stage = ?, version = ?, as_of = ?, data = ? WHERE id = ? AND version = ?`,
			// json_each reads the digests from one JSON array parameter.
			insEvents: `INSERT INTO {e} (customer_id, digest) SELECT ?, value FROM json_each(?) WHERE true ON CONFLICT DO NOTHING`,
			delEvs:    `DELETE FROM {e} WHERE customer_id = ? AND digest NOT IN (SELECT value FROM json_each(?))`,
			version:   `SELECT version FROM {c} WHERE id = ?`,
			del:       []string{`DELETE FROM {e} WHERE customer_id = ?`, `DELETE FROM {c} WHERE id = ?`},
			listStage: `SELECT id FROM {c} WHERE stage = ? AND id > ? ORDER BY id LIMIT ?`,
			count:     `SELECT stage, count(*) FROM {c} GROUP BY stage`,
			countAll:  `SELECT count(*) FROM {c}`,
		}
	}
	q.get, q.scan, q.getLocked = r.Replace(q.get), r.Replace(q.scan), r.Replace(q.getLocked)
	q.insert, q.update = r.Replace(q.insert), r.Replace(q.update)
	q.insEvents, q.delEvs = r.Replace(q.insEvents), r.Replace(q.delEvs)
	q.version, q.listStage = r.Replace(q.version), r.Replace(q.listStage)
	q.count, q.countAll = r.Replace(q.count), r.Replace(q.countAll)
	for i := range q.del {
		q.del[i] = r.Replace(q.del[i])
	}
	return q
}
