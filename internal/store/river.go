package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// riverSchemaVersion is the River schema the gateway runs against, applied by River's own
// migrator (its SQL differs per engine) after the gateway's goose migrations, under the
// same lock. A River upgrade that needs a newer schema raises it.
const riverSchemaVersion = 8

// RiverDriver is the River driver for the store's engine, over the store's writer pool (on
// SQLite its single connection, so River's writes queue with the gateway's instead of
// failing with SQLITE_BUSY).
func (s *Store) RiverDriver() riverdriver.Driver[*sql.Tx] {
	return riverDriver(s.engine, s.w)
}

func riverDriver(engine string, db *sql.DB) riverdriver.Driver[*sql.Tx] {
	if engine == EnginePostgres {
		return riverdatabasesql.New(db)
	}
	return riversqlite.New(db)
}

// migrateRiver creates River's tables up to riverSchemaVersion and answers how many of
// River's migrations it applied. River runs them outside a transaction: it says some of
// them cannot share one.
func migrateRiver(ctx context.Context, db *sql.DB, engine string) (int, error) {
	m, err := rivermigrate.New(riverDriver(engine, db), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return 0, fmt.Errorf("store: river migrator: %w", err)
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, &rivermigrate.MigrateOpts{TargetVersion: riverSchemaVersion})
	if err != nil {
		return 0, fmt.Errorf("store: apply river migrations: %w", err)
	}
	return len(res.Versions), nil
}
