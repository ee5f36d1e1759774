package sqlitecache

import (
	"database/sql"
	"testing"
)

// benchDBs are the two ways to open a database the benchmarks compare.
var benchDBs = []struct {
	name string
	open func(testing.TB) *sql.DB
}{
	{"modernc", func(tb testing.TB) *sql.DB { return openPlain(tb, ":memory:") }},
	{"cached", func(tb testing.TB) *sql.DB { return openCached(tb, ":memory:", capacity) }},
}

func benchTable(b *testing.B, open func(testing.TB) *sql.DB) *sql.DB {
	db := open(b)
	db.SetMaxOpenConns(1) // one in-memory database
	mustExec(b, db, `CREATE TABLE kv (id INTEGER PRIMARY KEY, name TEXT NOT NULL, n INTEGER NOT NULL)`)
	return db
}

// BenchmarkInsert inserts a small row by its key.
func BenchmarkInsert(b *testing.B) {
	for _, bd := range benchDBs {
		b.Run(bd.name, func(b *testing.B) {
			db := benchTable(b, bd.open)
			ctx := b.Context()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				if _, err := db.ExecContext(ctx, `INSERT INTO kv (id, name, n) VALUES (?, ?, ?)`, i, "name", i); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSelectByKey reads a small row by its primary key.
func BenchmarkSelectByKey(b *testing.B) {
	for _, bd := range benchDBs {
		b.Run(bd.name, func(b *testing.B) {
			db := benchTable(b, bd.open)
			ctx := b.Context()
			for i := range 1000 {
				mustExec(b, db, `INSERT INTO kv (id, name, n) VALUES (?, ?, ?)`, i, "name", i)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i = (i + 1) % 1000
				var name string
				var n int
				if err := db.QueryRowContext(ctx, `SELECT name, n FROM kv WHERE id = ?`, i).Scan(&name, &n); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
