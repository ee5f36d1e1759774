package sqlitecache

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// openCached opens dsn through the cache, keeping up to capacity statements a connection.
func openCached(t testing.TB, dsn string, capacity int) *sql.DB {
	t.Helper()
	base, err := sqlite.NewConnector(dsn)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(&connector{base: base, capacity: capacity})
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// openPlain opens dsn with modernc's driver alone, to compare with.
func openPlain(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// oneConn returns one connection of db, closed at the end of the test.
func oneConn(t testing.TB, db *sql.DB) *sql.Conn {
	t.Helper()
	sc, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sc.Close() })
	return sc
}

// cacheStats is what a connection's cache holds and has done.
type cacheStats struct {
	prepares, closes int
	queries          []string // the cached queries, the most recently used first
}

func statsOf(t testing.TB, sc *sql.Conn) cacheStats {
	t.Helper()
	var s cacheStats
	err := sc.Raw(func(dc any) error {
		c := dc.(*conn)
		s.prepares, s.closes = c.prepares, c.closes
		for el := c.lru.Front(); el != nil; el = el.Next() {
			s.queries = append(s.queries, el.Value.(*entry).query)
		}
		if len(s.queries) != len(c.entries) {
			return fmt.Errorf("lru holds %d statements, the map %d", len(s.queries), len(c.entries))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// connOf returns sc's cache itself, to look at after the pool closed it.
func connOf(t testing.TB, sc *sql.Conn) *conn {
	t.Helper()
	var c *conn
	if err := sc.Raw(func(dc any) error { c = dc.(*conn); return nil }); err != nil {
		t.Fatal(err)
	}
	return c
}

func mustExec(t testing.TB, q interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, query string, args ...any) sql.Result {
	t.Helper()
	r, err := q.ExecContext(t.Context(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return r
}

func TestStatementPreparedOncePerConnection(t *testing.T) {
	t.Parallel()
	sc := oneConn(t, openCached(t, ":memory:", capacity))
	mustExec(t, sc, `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`)
	const n = 50
	for i := range n {
		mustExec(t, sc, `INSERT INTO t (id, v) VALUES (?, ?)`, i, fmt.Sprint("v", i))
	}
	for i := range n {
		var v string
		if err := sc.QueryRowContext(t.Context(), `SELECT v FROM t WHERE id = ?`, i).Scan(&v); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprint("v", i); v != want {
			t.Fatalf("row %d: got %q, want %q", i, v, want)
		}
	}
	if err := sc.PingContext(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := statsOf(t, sc)
	want := []string{`SELECT v FROM t WHERE id = ?`, `INSERT INTO t (id, v) VALUES (?, ?)`, `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`}
	if got.prepares != 3 || got.closes != 0 || !slices.Equal(got.queries, want) {
		t.Fatalf("after %d inserts and selects: %+v, want 3 prepares of %q", n, got, want)
	}
}

func TestPrepareIsTheCallers(t *testing.T) {
	t.Parallel()
	db := openCached(t, ":memory:", capacity)
	db.SetMaxOpenConns(1)
	sc := oneConn(t, db)
	st, err := sc.PrepareContext(t.Context(), `SELECT ? + 1`)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		var n int
		if err := st.QueryRowContext(t.Context(), i).Scan(&n); err != nil || n != i+1 {
			t.Fatalf("SELECT %d + 1: %d, %v", i, n, err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if s := statsOf(t, sc); s.prepares != 0 || len(s.queries) != 0 {
		t.Fatalf("a statement the caller prepared went through the cache: %+v", s)
	}
}

// ids reads the rest of rs as integers.
func ids(t *testing.T, rs *sql.Rows) []int {
	t.Helper()
	var got []int
	for rs.Next() {
		var id int
		if err := rs.Scan(&id); err != nil {
			t.Fatal(err)
		}
		got = append(got, id)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestQueryAgainWhileItsRowsAreOpen(t *testing.T) {
	t.Parallel()
	db := openCached(t, ":memory:", capacity)
	db.SetMaxOpenConns(1)
	sc := oneConn(t, db)
	ctx := t.Context()
	mustExec(t, sc, `CREATE TABLE t (id INTEGER PRIMARY KEY)`)
	mustExec(t, sc, `INSERT INTO t (id) VALUES (1), (2), (3), (4)`)
	const q = `SELECT id FROM t WHERE id >= ? ORDER BY id`

	tx, err := sc.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	outer, err := tx.QueryContext(ctx, q, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !outer.Next() {
		t.Fatal("no first row")
	}
	var first int
	if err := outer.Scan(&first); err != nil || first != 1 {
		t.Fatalf("first row: %d, %v", first, err)
	}
	// The same text with other arguments, twice nested, and an Exec of it.
	middle, err := tx.QueryContext(ctx, q, 2)
	if err != nil {
		t.Fatal(err)
	}
	inner, err := tx.QueryContext(ctx, q, 3)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, tx, q, 4)
	if got := ids(t, inner); !slices.Equal(got, []int{3, 4}) {
		t.Fatalf("inner query: %v", got)
	}
	if got := ids(t, middle); !slices.Equal(got, []int{2, 3, 4}) {
		t.Fatalf("middle query: %v", got)
	}
	if got := ids(t, outer); !slices.Equal(got, []int{2, 3, 4}) {
		t.Fatalf("rest of the outer query: %v", got)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	// The cached statement is free again, and runs with new arguments.
	if got := ids(t, must(sc.QueryContext(ctx, q, 2))); !slices.Equal(got, []int{2, 3, 4}) {
		t.Fatalf("query after the nested ones: %v", got)
	}
	if s := statsOf(t, sc); s.prepares != 3 {
		t.Fatalf("the busy statement's reruns were cached: %+v", s)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestEvictedWhileBusy(t *testing.T) {
	t.Parallel()
	db := openCached(t, ":memory:", 2)
	db.SetMaxOpenConns(1)
	sc := oneConn(t, db)
	ctx := t.Context()
	mustExec(t, sc, `CREATE TABLE t (id INTEGER PRIMARY KEY)`)
	mustExec(t, sc, `INSERT INTO t (id) VALUES (1), (2), (3)`)

	rs, err := sc.QueryContext(ctx, `SELECT id FROM t ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	if !rs.Next() {
		t.Fatal("no first row")
	}
	mustExec(t, sc, `SELECT 1`)
	mustExec(t, sc, `SELECT 2`) // evicts the busy SELECT id, which stays open
	if s := statsOf(t, sc); s.closes != 2 || slices.Contains(s.queries, `SELECT id FROM t ORDER BY id`) {
		t.Fatalf("after evicting the busy statement: %+v", s)
	}
	if got := ids(t, rs); !slices.Equal(got, []int{2, 3}) {
		t.Fatalf("rows of the evicted statement: %v", got)
	}
	if err := rs.Close(); err != nil {
		t.Fatal(err)
	}
	if s := statsOf(t, sc); s.closes != 3 {
		t.Fatalf("closing the rows did not close the evicted statement: %+v", s)
	}
}

func TestEviction(t *testing.T) {
	t.Parallel()
	db := openCached(t, ":memory:", 3)
	db.SetMaxOpenConns(1)
	sc := oneConn(t, db)
	run := func(n int) {
		t.Helper()
		var got int
		if err := sc.QueryRowContext(t.Context(), fmt.Sprintf("SELECT %d", n)).Scan(&got); err != nil || got != n {
			t.Fatalf("SELECT %d: %d, %v", n, got, err)
		}
	}
	for n := range 5 {
		run(n)
	}
	if s := statsOf(t, sc); s.prepares != 5 || s.closes != 2 || !slices.Equal(s.queries, []string{"SELECT 4", "SELECT 3", "SELECT 2"}) {
		t.Fatalf("after 5 queries in a cache of 3: %+v", s)
	}
	run(2) // now the most recently used: SELECT 3 goes next
	run(5)
	if s := statsOf(t, sc); s.prepares != 6 || s.closes != 3 || !slices.Equal(s.queries, []string{"SELECT 5", "SELECT 2", "SELECT 4"}) {
		t.Fatalf("after using SELECT 2 again and adding SELECT 5: %+v", s)
	}
	run(0) // evicted at first: prepared again
	if s := statsOf(t, sc); s.prepares != 7 || s.closes != 4 || len(s.queries) != 3 {
		t.Fatalf("after SELECT 0 again: %+v", s)
	}

	c := connOf(t, sc)
	if err := sc.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if c.closes != c.prepares || c.lru.Len() != 0 || len(c.entries) != 0 {
		t.Fatalf("after the connection closed: %d prepared, %d closed, %d kept", c.prepares, c.closes, c.lru.Len())
	}
}

func TestScriptRunsWholeEveryTime(t *testing.T) {
	t.Parallel()
	sc := oneConn(t, openCached(t, ":memory:", capacity))
	mustExec(t, sc, `CREATE TABLE c (a INTEGER, b INTEGER)`)
	mustExec(t, sc, `INSERT INTO c VALUES (0, 0)`)
	const script = `
		UPDATE c SET a = a + 1;
		UPDATE c SET b = b + 10;
	`
	for range 3 {
		mustExec(t, sc, script)
	}
	var a, b int
	if err := sc.QueryRowContext(t.Context(), `SELECT a, b FROM c`).Scan(&a, &b); err != nil {
		t.Fatal(err)
	}
	if a != 3 || b != 30 {
		t.Fatalf("after the script ran 3 times: a=%d b=%d, want 3 and 30", a, b)
	}
	if s := statsOf(t, sc); slices.Contains(s.queries, script) {
		t.Fatalf("the script was cached: %+v", s)
	}
}

// TestCacheableAgreesWithModernc checks the script rule against modernc's own split: it
// keeps a prepared handle (its stmt.pstmt) only for a text that is one whole statement.
func TestCacheableAgreesWithModernc(t *testing.T) {
	t.Parallel()
	dc, err := (&sqlite.Driver{}).Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	if _, err := dc.(driver.ExecerContext).ExecContext(t.Context(), `CREATE TABLE t (a)`, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		query string
		// uncachedStatement is a statement the rule takes for a script; runs uncached.
		uncachedStatement bool
	}{
		{query: "SELECT 1"},
		{query: "SELECT 1;"},
		{query: "  SELECT 1\n"},
		{query: "SELECT 1 -- note"},
		{query: "SELECT 1; "},
		{query: "SELECT 1;\n"},
		{query: "SELECT 1;;"},
		{query: "SELECT 1; -- note"},
		{query: "SELECT 1; SELECT 2"},
		{query: "SELECT 1;\nSELECT 2;"},
		{query: "SELECT ';'"},
		{query: "SELECT 'it''s;', x'3b'"},
		{query: "SELECT 'a' || ';' || 'b'; SELECT 2"},
		{query: `SELECT 1 AS "a;""b", 2 AS [c;d], 3 AS ` + "`e;f`"},
		{query: "SELECT 1 -- one; two\n + 2 /* three; */;"},
		{query: "SELECT 1 /* ; */; /* more */"},
		{query: "SELECT 1 /* ; to the end"},
		{query: "SELECT 1 --; to the end"},
		{query: "UPDATE t SET a = -- Materialize once; reevaluating is costly\n(SELECT 1)"},
		{query: "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END", uncachedStatement: true},
	} {
		s, err := dc.Prepare(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		pstmt := reflect.ValueOf(s).Elem().FieldByName("pstmt")
		if !pstmt.IsValid() {
			t.Fatalf("modernc's statement has no pstmt field any more: check its single-statement path again")
		}
		single := pstmt.Uint() != 0
		_ = s.Close()
		if got, want := cacheable(tc.query), single && !tc.uncachedStatement; got != want {
			t.Errorf("cacheable(%q) = %v; modernc keeps a handle: %v", tc.query, got, single)
		}
	}
}

func TestSchemaChangeAfterCaching(t *testing.T) {
	t.Parallel()
	sc := oneConn(t, openCached(t, ":memory:", capacity))
	ctx := t.Context()
	mustExec(t, sc, `CREATE TABLE t (a INTEGER)`)
	mustExec(t, sc, `INSERT INTO t VALUES (1)`)
	columns := func() ([]string, []any) {
		t.Helper()
		rs, err := sc.QueryContext(ctx, `SELECT * FROM t`)
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		cols, err := rs.Columns()
		if err != nil {
			t.Fatal(err)
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if !rs.Next() {
			t.Fatal("no row")
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		return cols, vals
	}
	if cols, vals := columns(); !slices.Equal(cols, []string{"a"}) || !reflect.DeepEqual(vals, []any{int64(1)}) {
		t.Fatalf("before ALTER TABLE: %v %v", cols, vals)
	}
	mustExec(t, sc, `ALTER TABLE t ADD COLUMN b TEXT DEFAULT 'x'`)
	if cols, vals := columns(); !slices.Equal(cols, []string{"a", "b"}) || !reflect.DeepEqual(vals, []any{int64(1), "x"}) {
		t.Fatalf("after ADD COLUMN: %v %v", cols, vals)
	}
	mustExec(t, sc, `DROP TABLE t`)
	mustExec(t, sc, `CREATE TABLE t (c BLOB, d REAL, e INTEGER)`)
	mustExec(t, sc, `INSERT INTO t VALUES (x'00ff', 1.5, 7)`)
	if cols, vals := columns(); !slices.Equal(cols, []string{"c", "d", "e"}) || !reflect.DeepEqual(vals, []any{[]byte{0, 0xff}, 1.5, int64(7)}) {
		t.Fatalf("after the table was made again: %v %v", cols, vals)
	}
	if s := statsOf(t, sc); !slices.Contains(s.queries, `SELECT * FROM t`) || s.prepares != 7 {
		t.Fatalf("SELECT * was prepared again rather than reprepared by SQLite: %+v", s)
	}
}

// roundTrip writes values of every kind and reads them back, twice on each statement so
// that the second run reuses a statement that had other values bound, and returns what
// the database and database/sql reported.
func roundTrip(t *testing.T, db *sql.DB) []any {
	t.Helper()
	ctx := t.Context()
	sc := oneConn(t, db)
	var out []any
	mustExec(t, sc, `CREATE TABLE v (id INTEGER PRIMARY KEY, i INTEGER, f REAL, s TEXT, b BLOB, ts DATETIME, d DATE, any)`)
	zone := time.FixedZone("X", -(3*3600 + 1800))
	rows := [][]any{
		{int64(1), int64(-1 << 62), 3.25, "héllo\x00wörld", []byte{0, 1, 2, 0xff}, time.Date(2024, 2, 29, 23, 59, 59, 123456789, time.UTC), time.Date(1999, 12, 31, 0, 0, 0, 0, zone), true},
		{int64(2), nil, nil, nil, nil, nil, nil, nil},
		{int64(3), int64(0), 0.0, "", []byte{}, time.Time{}, time.Unix(0, 0), []byte("blob in any")},
		{int64(4), sql.NullInt64{Int64: 9, Valid: true}, float32(1.5), sql.NullString{}, []byte(nil), time.Date(2030, 1, 1, 1, 1, 1, 1000, zone), "2020-01-01", 7.0},
	}
	for _, r := range rows {
		res := mustExec(t, sc, `INSERT INTO v VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, r...)
		out = append(out, must(res.LastInsertId()), must(res.RowsAffected()))
	}
	res := mustExec(t, sc, `UPDATE v SET any = :a WHERE id >= :lo`, sql.Named("a", "named"), sql.Named("lo", 3))
	out = append(out, must(res.RowsAffected()))
	res = mustExec(t, sc, `UPDATE v SET i = $1 + i WHERE id = $2`, 5, 4)
	out = append(out, must(res.RowsAffected()))
	for _, lo := range []int{1, 2, 4, 1} {
		rs, err := sc.QueryContext(ctx, `SELECT * FROM v WHERE id >= ? ORDER BY id`, lo)
		if err != nil {
			t.Fatal(err)
		}
		types, err := rs.ColumnTypes()
		if err != nil {
			t.Fatal(err)
		}
		for _, ct := range types {
			length, hasLength := ct.Length()
			nullable, hasNullable := ct.Nullable()
			out = append(out, ct.Name(), ct.DatabaseTypeName(), fmt.Sprint(ct.ScanType()), length, hasLength, nullable, hasNullable)
		}
		for rs.Next() {
			vals := make([]any, len(types))
			ptrs := make([]any, len(types))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rs.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			out = append(out, vals...)
		}
		if err := rs.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// Query with no rows, and Exec of a query that returns rows.
	rs, err := sc.QueryContext(ctx, `SELECT id FROM v WHERE id > ?`, 100)
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, must(rs.Columns()), rs.Next())
	_ = rs.Close()
	res = mustExec(t, sc, `SELECT * FROM v`)
	out = append(out, must(res.RowsAffected()))
	return out
}

func TestValuesRoundTripAsWithModernc(t *testing.T) {
	t.Parallel()
	for _, dsn := range []string{":memory:", ":memory:?_time_format=sqlite&_texttotime=1", ":memory:?_inttotime=1"} {
		want := roundTrip(t, openPlain(t, dsn))
		got := roundTrip(t, openCached(t, dsn, capacity))
		if len(got) != len(want) {
			t.Fatalf("%s: %d values, modernc alone gives %d", dsn, len(got), len(want))
		}
		for i := range want {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Errorf("%s: value %d: %#v, modernc alone gives %#v", dsn, i, got[i], want[i])
			}
		}
	}
}

// failures runs statements that fail and returns their errors.
func failures(t *testing.T, db *sql.DB) []error {
	t.Helper()
	ctx := t.Context()
	sc := oneConn(t, db)
	mustExec(t, sc, `CREATE TABLE u (id INTEGER PRIMARY KEY, k TEXT UNIQUE NOT NULL)`)
	const insert = `INSERT INTO u (id, k) VALUES (?, ?)`
	mustExec(t, sc, insert, 1, "a")
	var errs []error
	for range 2 {
		_, err := sc.ExecContext(ctx, `SELEC 1`)
		errs = append(errs, err)
		_, err = sc.QueryContext(ctx, `SELECT nope FROM u`)
		errs = append(errs, err)
	}
	_, err := sc.ExecContext(ctx, insert, 2, "a")
	errs = append(errs, err)
	_, err = sc.ExecContext(ctx, insert, 1, "b")
	errs = append(errs, err)
	_, err = sc.ExecContext(ctx, insert, 3, nil)
	errs = append(errs, err)
	mustExec(t, sc, insert, 2, "b") // the statement that failed still works
	// An error at the first step of a query, and at a later one.
	_, err = sc.QueryContext(ctx, `SELECT json(?)`, "{")
	errs = append(errs, err)
	rs, err := sc.QueryContext(ctx, `SELECT json(CASE id WHEN 1 THEN '1' ELSE k END) FROM u ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rs.Next() {
	}
	errs = append(errs, rs.Err(), rs.Close())
	return errs
}

func TestErrorsAsWithModernc(t *testing.T) {
	t.Parallel()
	want := failures(t, openPlain(t, ":memory:"))
	db := openCached(t, ":memory:", capacity)
	got := failures(t, db)
	if len(got) != len(want) {
		t.Fatalf("%d errors, modernc alone gives %d", len(got), len(want))
	}
	for i := range want {
		if fmt.Sprint(got[i]) != fmt.Sprint(want[i]) {
			t.Errorf("error %d: %v, modernc alone gives %v", i, got[i], want[i])
		}
		if want[i] == nil {
			continue
		}
		var gotErr, wantErr *sqlite.Error
		if !errors.As(got[i], &gotErr) || !errors.As(want[i], &wantErr) || gotErr.Code() != wantErr.Code() {
			t.Errorf("error %d: %#v is not modernc's %#v", i, got[i], want[i])
		}
	}
	var se *sqlite.Error
	if !errors.As(got[4], &se) || se.Code() != sqlite3.SQLITE_CONSTRAINT_UNIQUE {
		t.Errorf("duplicate key: %v, want SQLITE_CONSTRAINT_UNIQUE", got[4])
	}

	sc := oneConn(t, db)
	for _, q := range []string{`SELEC 1`, `SELECT nope FROM u`} {
		if _, err := sc.ExecContext(t.Context(), q); err == nil {
			t.Fatalf("%s: no error", q)
		}
	}
	if s := statsOf(t, sc); s.prepares != 0 || len(s.queries) != 0 {
		t.Fatalf("a failed prepare was cached: %+v", s)
	}
}

func TestContextInterruptsCachedQuery(t *testing.T) {
	t.Parallel()
	sc := oneConn(t, openCached(t, "file:"+filepath.Join(t.TempDir(), "c.db"), capacity))
	const count = `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) SELECT count(*) FROM c`
	var n int64
	if err := sc.QueryRowContext(t.Context(), count, 10).Scan(&n); err != nil || n != 10 {
		t.Fatalf("count to 10: %d, %v", n, err)
	}
	for _, run := range []func(ctx context.Context) error{
		func(ctx context.Context) error { return sc.QueryRowContext(ctx, count, int64(1)<<62).Scan(&n) },
		func(ctx context.Context) error { _, err := sc.ExecContext(ctx, count, int64(1)<<62); return err },
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		err := run(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("a query with a deadline ended with %v, want the deadline", err)
		}
	}
	if err := sc.QueryRowContext(t.Context(), count, 20).Scan(&n); err != nil || n != 20 {
		t.Fatalf("count to 20 after the interrupted ones: %d, %v", n, err)
	}
	if s := statsOf(t, sc); s.prepares != 1 {
		t.Fatalf("the interrupted runs did not use the cached statement: %+v", s)
	}
}

func TestConcurrentConnections(t *testing.T) {
	t.Parallel()
	dsn := "file:" + filepath.Join(t.TempDir(), "c.db") + "?_pragma=busy_timeout(20000)&_pragma=journal_mode(WAL)&_txlock=immediate"
	db := openCached(t, dsn, 8)
	db.SetMaxOpenConns(4)
	ctx := t.Context()
	mustExec(t, db, `CREATE TABLE t (g INTEGER, i INTEGER, v TEXT, PRIMARY KEY (g, i))`)
	mustExec(t, db, `CREATE TABLE n (g INTEGER PRIMARY KEY, count INTEGER)`)
	const goroutines, each = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			errs <- func() error {
				if _, err := db.ExecContext(ctx, `INSERT INTO n VALUES (?, 0)`, g); err != nil {
					return err
				}
				for i := range each {
					if _, err := db.ExecContext(ctx, `INSERT INTO t VALUES (?, ?, ?)`, g, i, fmt.Sprint(g, "-", i)); err != nil {
						return err
					}
					var v string
					if err := db.QueryRowContext(ctx, `SELECT v FROM t WHERE g = ? AND i = ?`, g, i).Scan(&v); err != nil {
						return err
					}
					if want := fmt.Sprint(g, "-", i); v != want {
						return fmt.Errorf("read %q, want %q", v, want)
					}
					// Statements of this goroutine and of others, on several connections, and
					// a query nested in its own open rows.
					if err := countInTx(ctx, db, g, i+1); err != nil {
						return err
					}
					if _, err := db.ExecContext(ctx, fmt.Sprintf("SELECT %d", i%12)); err != nil {
						return err
					}
				}
				return nil
			}()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var rowsN, counts int
	if err := db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM t), (SELECT sum(count) FROM n)`).Scan(&rowsN, &counts); err != nil {
		t.Fatal(err)
	}
	if rowsN != goroutines*each || counts != goroutines*each {
		t.Fatalf("%d rows and %d counted, want %d", rowsN, counts, goroutines*each)
	}
}

// countInTx checks in one transaction that goroutine g has want rows, reading them twice
// at once, and counts one more.
func countInTx(ctx context.Context, db *sql.DB, g, want int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	const q = `SELECT i FROM t WHERE g = ? ORDER BY i`
	outer, err := tx.QueryContext(ctx, q, g)
	if err != nil {
		return err
	}
	defer outer.Close()
	n := 0
	for outer.Next() {
		n++
		if n == 1 {
			// Enough other statements to evict the busy one from a cache of 8.
			for k := range 10 {
				if _, err := tx.ExecContext(ctx, fmt.Sprintf("SELECT %d", 100+k)); err != nil {
					return err
				}
			}
			inner, err := tx.QueryContext(ctx, q, g)
			if err != nil {
				return err
			}
			m := 0
			for inner.Next() {
				m++
			}
			if err := errors.Join(inner.Err(), inner.Close()); err != nil {
				return err
			}
			if m != want {
				return fmt.Errorf("inner query: %d rows, want %d", m, want)
			}
		}
	}
	if err := errors.Join(outer.Err(), outer.Close()); err != nil {
		return err
	}
	if n != want {
		return fmt.Errorf("outer query: %d rows, want %d", n, want)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE n SET count = count + 1 WHERE g = ?`, g); err != nil {
		return err
	}
	return tx.Commit()
}

// TestSameInterfacesAsModernc checks that database/sql finds on the cache's connection the
// optional interfaces it looks for on modernc's, and no others. Execer and Queryer, which
// modernc also has, are left out: database/sql uses them only without the context ones.
func TestSameInterfacesAsModernc(t *testing.T) {
	t.Parallel()
	base, err := sqlite.NewConnector(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	plain, err := base.Connect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	cached, err := (&connector{base: base, capacity: capacity}).Connect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer cached.Close()
	checks := map[string]func(driver.Conn) bool{
		"ConnBeginTx":        func(c driver.Conn) bool { _, ok := c.(driver.ConnBeginTx); return ok },
		"ConnPrepareContext": func(c driver.Conn) bool { _, ok := c.(driver.ConnPrepareContext); return ok },
		"ExecerContext":      func(c driver.Conn) bool { _, ok := c.(driver.ExecerContext); return ok },
		"QueryerContext":     func(c driver.Conn) bool { _, ok := c.(driver.QueryerContext); return ok },
		"Pinger":             func(c driver.Conn) bool { _, ok := c.(driver.Pinger); return ok },
		"SessionResetter":    func(c driver.Conn) bool { _, ok := c.(driver.SessionResetter); return ok },
		"Validator":          func(c driver.Conn) bool { _, ok := c.(driver.Validator); return ok },
		"NamedValueChecker":  func(c driver.Conn) bool { _, ok := c.(driver.NamedValueChecker); return ok },
	}
	for name, has := range checks {
		if has(cached) != has(plain) {
			t.Errorf("%s: the cache's connection has it: %v, modernc's: %v", name, has(cached), has(plain))
		}
	}
}
