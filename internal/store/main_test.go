package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"testing"

	"github.com/customergateway/gateway/internal/store/storetest"
)

// templates makes the tests' migrated databases, copies of one migrated per engine.
var templates = storetest.NewTemplates(storetest.Migrator(Open))

func TestMain(m *testing.M) {
	code := m.Run()
	if err := templates.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "storetest:", err)
		code = max(code, 1)
	}
	os.Exit(code)
}

// TestTemplatesAreMigrated: a database the templates copy is current, so a test's Open
// applies nothing, of the gateway's migrations or River's, and the copies do not share data.
func TestTemplatesAreMigrated(t *testing.T) {
	t.Parallel()
	for _, e := range templates.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			first, second := openStore(t, e.Fresh(t)), openStore(t, e.Fresh(t))
			for _, s := range []*Store{first, second} {
				if applied, err := migrate(t.Context(), s.w, e.Name); err != nil || applied != 0 {
					t.Fatalf("a copy of the template applied %d migrations, err %v; want none", applied, err)
				}
			}
			if _, _, err := first.MergeRefs(t.Context(), "c-1", refsLF("lf-1")); err != nil {
				t.Fatal(err)
			}
			if _, ok, err := second.Refs(t.Context(), "c-1"); err != nil || ok {
				t.Fatalf("another copy sees the first one's refs: %v, %v", ok, err)
			}
		})
	}
}

// TestPostgresCopyHandedOnEmpty: a PostgreSQL copy a test has written to, and left a session
// open on, reaches the next test as the template was migrated: no rows, sequences at their
// start, the migrations' records kept.
func TestPostgresCopyHandedOnEmpty(t *testing.T) {
	t.Parallel()
	if os.Getenv(storetest.PostgresEnv) == "" {
		return // SQLite copies are new files; TestTemplatesAreMigrated covers them
	}
	// Templates of its own, so that the second test is sure to get the first one's copy.
	tp := storetest.NewTemplates(storetest.Migrator(Open))
	t.Cleanup(func() {
		if err := tp.Close(); err != nil {
			t.Error(err)
		}
	})
	var first string
	parent := t
	t.Run("writes", func(t *testing.T) {
		first = tp.Postgres(t)
		s := openStore(t, first)
		if _, _, err := s.MergeRefs(t.Context(), "c-1", refsLF("lf-1")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.w.ExecContext(t.Context(), `SELECT nextval('river_job_id_seq')`); err != nil {
			t.Fatal(err)
		}
		left, err := sql.Open("pgx", first)
		if err != nil {
			t.Fatal(err)
		}
		// Closed when the whole test ends, after this subtest has handed its copy on.
		parent.Cleanup(func() { _ = left.Close() })
		// Neither closed nor ended: a session the test leaves behind in a transaction that
		// holds a lock on customers, as a stuck query would.
		tx, err := left.BeginTx(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := tx.QueryRow(`SELECT count(*) FROM customers`).Scan(&n); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("reads", func(t *testing.T) {
		url := tp.Postgres(t)
		if url != first {
			t.Fatalf("a new copy %s, want the first test's %s handed on", url, first)
		}
		s := openStore(t, url)
		if _, ok, err := s.Refs(t.Context(), "c-1"); err != nil || ok {
			t.Fatalf("the first test's refs are still there: %v, %v", ok, err)
		}
		var next, migrations int
		if err := s.w.QueryRowContext(t.Context(), `SELECT nextval('river_job_id_seq')`).Scan(&next); err != nil || next != 1 {
			t.Fatalf("river_job_id_seq goes on at %d (%v), want 1", next, err)
		}
		if err := s.w.QueryRowContext(t.Context(), `SELECT count(*) FROM goose_db_version`).Scan(&migrations); err != nil || migrations == 0 {
			t.Fatalf("goose_db_version holds %d rows (%v): the migrations' records are gone", migrations, err)
		}
	})
}
