// Package storetest makes fresh, empty databases for tests: a SQLite file always, and a
// schema of its own on the PostgreSQL server named by GATEWAY_TEST_POSTGRES_URL when set.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	// The PostgreSQL driver, to create and drop test schemas.
	_ "github.com/jackc/pgx/v5/stdlib"
)

// PostgresEnv names the PostgreSQL server the tests may use; .ci/run sets it.
const PostgresEnv = "GATEWAY_TEST_POSTGRES_URL"

// Engine makes a fresh, empty database for one test and answers its URL.
type Engine struct {
	Name  string
	Fresh func(t testing.TB) string
}

// Engines lists SQLite always and PostgreSQL when PostgresEnv is set.
func Engines() []Engine {
	es := []Engine{{Name: "sqlite", Fresh: SQLite}}
	if os.Getenv(PostgresEnv) != "" {
		es = append(es, Engine{Name: "postgres", Fresh: Postgres})
	}
	return es
}

// SQLite answers the URL of a new database file in the test's temporary directory.
func SQLite(t testing.TB) string {
	return "sqlite://" + filepath.Join(t.TempDir(), "gateway.db")
}

// Postgres creates a schema of its own for the test on PostgresEnv's server, so runs and
// packages never share tables, drops it when the test ends, and answers a URL whose
// search_path selects it.
func Postgres(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		t.Fatalf("%s is not set", PostgresEnv)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "gateway_test_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema on %s: %v", PostgresEnv, err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
