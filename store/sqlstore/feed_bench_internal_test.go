package sqlstore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkChangesBacklog lists the first page of a change feed whose
// backlog=N changes are not numbered yet (a dispatcher that was down), on
// SQLite: numbering them must cost O(N log N), not O(N²). An op numbers
// the backlog and reads a page of 100.
func BenchmarkChangesBacklog(b *testing.B) {
	for _, n := range []int{1000, 8000} {
		b.Run(fmt.Sprintf("sqlite/backlog=%d", n), func(b *testing.B) {
			ctx := context.Background()
			s, err := Connect(ctx, "sqlite://"+filepath.Join(b.TempDir(), "feed.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				tx, err := s.db.Begin()
				if err != nil {
					b.Fatal(err)
				}
				for _, q := range []string{`DELETE FROM ` + s.Table("changes"), `UPDATE ` + s.Table("feed") + ` SET last = 0`} {
					if _, err := tx.Exec(q); err != nil {
						b.Fatal(err)
					}
				}
				for k := range n {
					if _, err := tx.Exec(`INSERT INTO `+s.Table("changes")+` (customer_id, seq) VALUES (?, ?)`, fmt.Sprintf("c%05d", k%997), 1+k/997); err != nil {
						b.Fatal(err)
					}
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if _, err := s.Changes(ctx, 0, 100); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
