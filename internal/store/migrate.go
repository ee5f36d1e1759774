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
// migration that must differ would move the set into one directory per dialect. River's
// tables, whose SQL differs per engine, are made by River's own migrator (river.go).
//
//go:embed migrations/*.sql
var migrations embed.FS

// migrate brings the schema up to date, the gateway's tables with goose and River's with
// River's own migrator, and answers how many migrations it applied. On PostgreSQL replicas
// starting together take turns through one advisory lock held over both.
func migrate(ctx context.Context, db *sql.DB, engine string) (int, error) {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return 0, fmt.Errorf("store: migrations: %w", err)
	}
	dialect := goose.DialectSQLite3
	if engine == EnginePostgres {
		dialect = goose.DialectPostgres
		unlock, err := lockSchema(ctx, db)
		if err != nil {
			return 0, err
		}
		defer unlock()
	}
	p, err := goose.NewProvider(dialect, db, fsys, goose.WithDisableGlobalRegistry(true), goose.WithGoMigrations(goMigrations()...))
	if err != nil {
		return 0, fmt.Errorf("store: migrations: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: apply migrations: %w", err)
	}
	river, err := migrateRiver(ctx, db, engine)
	return len(results) + river, err
}

// lockSchema takes the schema's migration lock on a connection of its own and answers the
// function that gives it back.
func lockSchema(ctx context.Context, db *sql.DB) (func(), error) {
	locker, err := schemaLocker(ctx, db)
	if err != nil {
		return nil, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: migration lock: %w", err)
	}
	if err := locker.SessionLock(ctx, conn); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("store: migration lock: %w", err)
	}
	return func() {
		_ = locker.SessionUnlock(context.WithoutCancel(ctx), conn)
		_ = conn.Close()
	}, nil
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
