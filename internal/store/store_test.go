package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/store/storetest"
)

// engines lists SQLite always and PostgreSQL when storetest.PostgresEnv is set, each making
// empty databases: for the tests of the migrations themselves.
func engines() []storetest.Engine { return storetest.Engines() }

// forEachEngine runs test once per engine, in parallel, each on a migrated database of its own.
func forEachEngine(t *testing.T, test func(t *testing.T, s *Store)) {
	t.Helper()
	for _, e := range templates.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			test(t, openStore(t, e.Fresh(t)))
		})
	}
}

func openStore(t *testing.T, rawURL string) *Store {
	t.Helper()
	s, err := Open(t.Context(), rawURL)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestParseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url, engine, target, errPart string
	}{
		{url: "sqlite:///var/lib/gateway/gateway.db", engine: EngineSQLite, target: "/var/lib/gateway/gateway.db"},
		{url: "sqlite://data/gateway.db", engine: EngineSQLite, target: "data/gateway.db"},
		{url: "sqlite::memory:", engine: EngineSQLite, target: ":memory:"},
		{url: "postgres://u:secret@db:5432/gw?sslmode=disable", engine: EnginePostgres, target: "postgres://u:secret@db:5432/gw?sslmode=disable"},
		{url: "postgresql://db/gw", engine: EnginePostgres, target: "postgresql://db/gw"},
		{url: "sqlite://", errPart: "names no file"},
		{url: "sqlite:///x.db?_pragma=journal_mode(DELETE)", errPart: "no query"},
		{url: "mysql://u:secret@db/gw", errPart: `"mysql"`},
	}
	for _, tc := range tests {
		engine, target, err := parseURL(tc.url)
		if tc.errPart != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errPart) || strings.Contains(err.Error(), "secret") {
				t.Errorf("parseURL(%q) error = %v, want one naming %s and no secret", tc.url, err, tc.errPart)
			}
			continue
		}
		if err != nil || engine != tc.engine || target != tc.target {
			t.Errorf("parseURL(%q) = %q, %q, %v; want %q, %q", tc.url, engine, target, err, tc.engine, tc.target)
		}
	}
}

// TestMigrationsApplyOnce opens one database twice: the first Open applies every migration,
// the second finds the schema current and applies nothing, and the data stays.
func TestMigrationsApplyOnce(t *testing.T) {
	t.Parallel()
	for _, e := range engines() {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			url := e.Fresh(t)
			first := openStore(t, url)
			if first.Engine() != e.Name {
				t.Fatalf("Engine() = %s, want %s", first.Engine(), e.Name)
			}
			if _, _, err := first.MergeRefs(t.Context(), "c-1", refsLF("lf-1")); err != nil {
				t.Fatal(err)
			}
			applied, err := migrate(t.Context(), first.w, e.Name)
			if err != nil || applied != 0 {
				t.Fatalf("second migrate applied %d migrations, err %v; want none", applied, err)
			}
			second := openStore(t, url)
			var version int64
			if err := second.r.QueryRowContext(t.Context(), "SELECT max(version_id) FROM goose_db_version").Scan(&version); err != nil {
				t.Fatal(err)
			}
			if want := migrationCount(t); version != want {
				t.Errorf("schema version %d, want %d", version, want)
			}
			var river int64
			if err := second.r.QueryRowContext(t.Context(), "SELECT max(version) FROM river_migration").Scan(&river); err != nil || river != riverSchemaVersion {
				t.Errorf("river schema version %d (err %v), want %d", river, err, riverSchemaVersion)
			}
			if refs, ok, err := second.Refs(t.Context(), "c-1"); err != nil || !ok || refs.Of(ladiFlow).String("id") != "lf-1" {
				t.Errorf("after reopening, refs = %+v, %v, %v", refs, ok, err)
			}
		})
	}
}

func migrationCount(t *testing.T) int64 {
	entries, err := migrations.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	return int64(len(entries) + len(goMigrations()))
}

// TestSQLitePragmas checks the settings the writer depends on: WAL for readers beside the
// writer, a busy timeout for other processes, foreign keys on.
func TestSQLitePragmas(t *testing.T) {
	t.Parallel()
	s := openStore(t, templates.SQLite(t))
	tests := []struct {
		pragma, want string
		writerOnly   bool
	}{
		{pragma: "journal_mode", want: "wal"},
		{pragma: "busy_timeout", want: "5000"},
		{pragma: "foreign_keys", want: "1"},
		{pragma: "synchronous", want: "1", writerOnly: true},
		{pragma: "query_only", want: "0", writerOnly: true},
	}
	for _, tc := range tests {
		pools := map[string]*sql.DB{"writer": s.w, "reader": s.r}
		if tc.writerOnly {
			delete(pools, "reader")
		}
		for name, db := range pools {
			var got string
			if err := db.QueryRowContext(t.Context(), "PRAGMA "+tc.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("%s: PRAGMA %s = %s, want %s", name, tc.pragma, got, tc.want)
			}
		}
	}
	if s.w.Stats().MaxOpenConnections != 1 {
		t.Errorf("writer pool allows %d connections, want 1", s.w.Stats().MaxOpenConnections)
	}
	if _, err := s.r.ExecContext(t.Context(), "DELETE FROM vendor_refs"); err == nil {
		t.Error("the read pool accepted a write")
	}
}

// TestSQLiteInMemory keeps its data for the life of the store: the single connection is
// never recycled.
func TestSQLiteInMemory(t *testing.T) {
	t.Parallel()
	s := openStore(t, "sqlite::memory:")
	if _, _, err := s.MergeRefs(t.Context(), "c-1", refsLF("lf-1")); err != nil {
		t.Fatal(err)
	}
	refs, ok, err := s.Refs(t.Context(), "c-1")
	if err != nil || !ok || refs.Of(ladiFlow).String("id") != "lf-1" {
		t.Fatalf("Refs = %+v, %v, %v", refs, ok, err)
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// A PostgreSQL replica keeps the sessions a burst opened for the next one: none is closed
// for being idle beyond the pool's idle bound, so a steady load opens no new session.
func TestPostgresPoolKeepsItsSessions(t *testing.T) {
	t.Parallel()
	for _, e := range storetest.Engines() {
		if e.Name != EnginePostgres {
			continue
		}
		s := openStore(t, e.Fresh(t))
		for range 3 {
			var wg sync.WaitGroup
			for range postgresConns {
				wg.Go(func() {
					// Held at once: each read takes a session of its own.
					if _, err := s.r.ExecContext(t.Context(), `SELECT pg_sleep(0.05)`); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
		}
		if st := s.r.Stats(); st.MaxIdleClosed != 0 || st.OpenConnections > postgresConns {
			t.Fatalf("pool: %d sessions closed as idle beyond the bound, %d open", st.MaxIdleClosed, st.OpenConnections)
		}
	}
}

// The transaction observer is told of each transaction: committed, or rolled back when
// its work failed.
func TestTxObserverSeesEveryTransaction(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []bool
	s := openStore(t, "sqlite://"+t.TempDir()+"/gateway.db")
	WithTxObserver(func(d time.Duration, committed bool) {
		mu.Lock()
		defer mu.Unlock()
		if d <= 0 {
			t.Errorf("a transaction of %v", d)
		}
		got = append(got, committed)
	})(s)
	fields := fieldsOf(t, `{"email":"a@example.com"}`, 1)
	if _, err := s.QueueDelivery(t.Context(), "c-1", ladiFlow, fields, model.Origin{}, time.Now(), time.Hour, noJob); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if _, err := s.QueueDelivery(t.Context(), "c-2", ladiFlow, fields, model.Origin{}, time.Now(), time.Hour, func(*sql.Tx) error { return boom }); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || !got[0] || got[1] {
		t.Fatalf("observed %v, want [true false]", got)
	}
}

// A SQLite store's commits leave checkpoints to a connection of its own: the writer's
// automatic checkpoints are off, and what is committed still reaches the database file
// while the store is open.
func TestSQLiteCheckpointsOffTheWriter(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "gateway.db")
	s := openStore(t, "sqlite://"+path)
	var auto int
	if err := s.w.QueryRowContext(t.Context(), `PRAGMA wal_autocheckpoint`).Scan(&auto); err != nil || auto != 0 {
		t.Fatalf("the writer's wal_autocheckpoint is %d (%v), want 0", auto, err)
	}
	const n = 300
	for i := range n {
		if _, _, err := s.MergeRefs(t.Context(), fmt.Sprintf("c-%d", i), refsLF(fmt.Sprintf("lf-%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	// The file is copied and read again when it has changed (a checkpoint writes it), or
	// 100 ms after the last look, should a write have fallen in the same mtime tick.
	copyDir := t.TempDir()
	var seen, looked time.Time
	waitFor(t, fmt.Sprintf("the database file alone to hold the %d customers' refs committed", n), func() bool {
		fi, err := os.Stat(path)
		if err != nil || (fi.ModTime().Equal(seen) && time.Since(looked) < 100*time.Millisecond) {
			return false
		}
		seen, looked = fi.ModTime(), time.Now()
		got, err := refsInFileAlone(t.Context(), path, copyDir)
		return err == nil && got == n
	})
}

// refsInFileAlone counts the refs in a copy (made in dir) of the SQLite file at path without
// its WAL: what checkpoints have copied into the file. A copy taken mid-checkpoint may not
// open; its error is answered.
func refsInFileAlone(ctx context.Context, path, dir string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	cp := filepath.Join(dir, "alone.db")
	if err := os.WriteFile(cp, b, 0o600); err != nil {
		return 0, err
	}
	db, err := sql.Open("sqlite", cp)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n int
	err = db.QueryRowContext(ctx, `SELECT COUNT(DISTINCT customer_id) FROM customer_refs`).Scan(&n)
	return n, err
}

// delivered is what the vendor received from the gateway for the customer, as a queued
// delivery reads it before it is sent (BeforeSend).
func (s *Store) delivered(ctx context.Context, customerID string, vendor model.Vendor) (model.Delivered, error) {
	d, _, err := s.BeforeSend(ctx, customerID, vendor)
	return d, err
}

// The pools the metrics report are named for what they do: a SQLite file's one writing
// connection and its readers, or the one pool that does both.
func TestPoolsAreNamedForWhatTheyDo(t *testing.T) {
	t.Parallel()
	check := func(s *Store, want map[string]int) {
		t.Helper()
		got := map[string]int{}
		for name, db := range s.Pools() {
			got[name] = db.Stats().MaxOpenConnections
		}
		if !maps.Equal(got, want) {
			t.Errorf("%s pools (name: most sessions) = %v, want %v", s.Engine(), got, want)
		}
	}
	check(openStore(t, "sqlite::memory:"), map[string]int{"pool": 1})
	for _, e := range engines() {
		want := map[string]int{"writer": 1, "readers": sqliteReaders}
		if e.Name == EnginePostgres {
			want = map[string]int{"pool": postgresConns}
		}
		check(openStore(t, e.Fresh(t)), want)
	}
}
