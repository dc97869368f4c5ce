package sqlstore

import "testing"

func TestSchemaVersionCountsMigrations(t *testing.T) {
	if SchemaVersion != len(migrations) {
		t.Fatalf("SchemaVersion = %d, but there are %d migrations", SchemaVersion, len(migrations))
	}
	for i, m := range migrations {
		if m.name == "" || (len(m.postgres) == 0 && m.only != "sqlite") || (len(m.sqlite) == 0 && m.only != "postgres") {
			t.Errorf("migration %d (%q) lacks a name or the statements of a dialect", i+1, m.name)
		}
	}
}
