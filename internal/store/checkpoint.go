package store

import (
	"context"
	"database/sql"
	"time"
)

// SQLite's WAL is copied back into the database file by checkpoints. By default the
// connection whose commit takes the WAL past 1,000 pages runs one inside that commit,
// holding the store's one writer meanwhile, its writes to the file and its fsync included.
// The writer turns that off (wal_autocheckpoint(0)) and a connection of its own
// checkpoints every checkpointInterval instead, PASSIVE: beside the readers and the writer,
// never waiting for either. make bench, two runs each way: Prefer: respond-async accepted
// 929 and 1,168 updates/s (952 and 791 before) and the queue drained at 194 and 211
// updates/s (174 and 164). Every 100 ms drained alike but cost the test suite, with its
// hundreds of short-lived stores, about 7 CPU-seconds; every second, nothing measurable.
// Durability is the same: a commit is in the WAL either way, and closing the store's last
// connection still checkpoints what is left.
const checkpointInterval = time.Second

// checkpointer checkpoints a SQLite database in WAL mode until close.
type checkpointer struct {
	db     *sql.DB // one connection, not query_only
	cancel context.CancelFunc
	done   chan struct{}
}

func startCheckpoints(db *sql.DB, every time.Duration) *checkpointer {
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxIdleTime(0)
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{db: db, cancel: cancel, done: make(chan struct{})}
	go c.run(ctx, every)
	return c
}

func (c *checkpointer) run(ctx context.Context, every time.Duration) {
	defer close(c.done)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			c.checkpoint()
		}
	}
}

// checkpoint copies what it can of the WAL into the database file. Its error is left for
// the next tick, as SQLite leaves an automatic checkpoint's: a busy one (another process's
// checkpoint) is no failure, and the WAL keeps every commit until one succeeds.
func (c *checkpointer) checkpoint() {
	ctx, cancel := context.WithTimeout(context.Background(), sqliteBusyTimeout)
	defer cancel()
	_, _ = c.db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
}

// close stops the checkpoints and closes their connection; a second close does nothing, as
// a second Close of the store's pools does (cancel and sql.DB.Close are both idempotent).
func (c *checkpointer) close() error {
	c.cancel()
	<-c.done
	return c.db.Close()
}
