package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// migrations holds the schema, shared by both engines while their SQL can be the same. A
// migration that must differ would move the set into one directory per dialect.
//
//go:embed migrations/*.sql
var migrations embed.FS

// migrate brings the schema up to date with goose and reports the migrations it applied.
// On PostgreSQL, replicas starting together take turns through an advisory lock.
func migrate(ctx context.Context, db *sql.DB, engine string) ([]*goose.MigrationResult, error) {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	dialect := goose.DialectSQLite3
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if engine == EnginePostgres {
		dialect = goose.DialectPostgres
		locker, err := schemaLocker(ctx, db)
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, db, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: apply migrations: %w", err)
	}
	return results, nil
}

// schemaLocker returns an advisory locker whose id is derived from the current schema, so
// that replicas of one schema take turns while unrelated schemas (parallel test runs, other
// services) do not wait on each other.
func schemaLocker(ctx context.Context, db *sql.DB) (lock.SessionLocker, error) {
	var schema sql.NullString
	if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return nil, fmt.Errorf("store: read current schema: %w", err)
	}
	if !schema.Valid {
		return nil, errors.New("store: no schema of the search_path exists: create it first")
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte("customergateway/store:" + schema.String))
	// Probe every second for up to five minutes: a slow migration of another replica is
	// worth waiting for, a dead one is not.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(int64(h.Sum64())), lock.WithLockTimeout(1, 300))
	if err != nil {
		return nil, fmt.Errorf("store: migration lock: %w", err)
	}
	return locker, nil
}
