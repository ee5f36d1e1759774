// Package store keeps what the gateway remembers between requests: each customer's vendor
// refs, Idempotency-Key replies and the gateway's own audit events. It runs on embedded
// SQLite (modernc.org/sqlite, pure Go) by default and on PostgreSQL (pgx) when several
// replicas share one database; both go through database/sql and the same SQL.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	// The drivers register themselves as "pgx" and "sqlite"; the store opens SQLite through
	// sqlitecache, the tests and storetest by the name.
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/customergateway/gateway/internal/store/sqlitecache"
)

// The engines a store runs on, as Engine reports them.
const (
	EngineSQLite   = "sqlite"
	EnginePostgres = "postgres"
)

// sqliteBusyTimeout is how long a SQLite connection waits for another process's lock.
const sqliteBusyTimeout = 5 * time.Second

// postgresConns is the size of a replica's PostgreSQL pool, busy or idle.
const postgresConns = 16

// sqliteReaders is the size of the read pool of a SQLite file: WAL lets readers run beside
// the one writer.
const sqliteReaders = 4

// Store is the gateway's database. It is safe for concurrent use.
type Store struct {
	engine string
	// w takes every write; on SQLite it holds a single connection, so writers queue in the
	// pool instead of failing with SQLITE_BUSY. r serves reads; it is w itself on
	// PostgreSQL and for an in-memory SQLite database.
	w, r  *sql.DB
	lease time.Duration
	// completed runs when an update's last queued delivery ends (OnCompleted).
	completed CompletedFunc
	// observeTx is told how long each transaction took and whether it committed.
	observeTx func(d time.Duration, committed bool)
	// group commits the requests' writes together (inGroupTx).
	group *committer
	// checkpoints copies a SQLite file's WAL into it, off the writer (checkpoint.go).
	checkpoints *checkpointer
	// updateWritten is when a request last handed an update's write over (Unix ns).
	updateWritten atomic.Int64
}

// UpdatesWrittenSince reports whether a request handed an update's write over at t or
// later (WriteQueuedUpdate, RecordUpdate): the queue runs fewer attempts at once while
// updates are being written, so that the writer serves the requests first.
func (s *Store) UpdatesWrittenSince(t time.Time) bool { return s.updateWritten.Load() >= t.UnixNano() }

// noteUpdateWrite records that a request is writing an update now (UpdatesWrittenSince).
func (s *Store) noteUpdateWrite() { s.updateWritten.Store(time.Now().UnixNano()) }

// WithTxObserver has observe told, after each store transaction, how long it took and
// whether it committed (the gateway's store transaction latency metric).
func WithTxObserver(observe func(d time.Duration, committed bool)) Option {
	return func(s *Store) { s.observeTx = observe }
}

// Option adjusts a store at Open.
type Option func(*Store)

// Open connects to the database named by rawURL and applies the embedded migrations.
//
// rawURL is sqlite:///abs/path.db, sqlite://relative/path.db, sqlite::memory: (one
// connection, gone at Close: for tests), or postgres://... / postgresql://... (any pgx
// connection string; a search_path parameter selects the schema).
func Open(ctx context.Context, rawURL string, opts ...Option) (*Store, error) {
	engine, target, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	s := &Store{engine: engine, lease: DefaultInFlightLease}
	for _, o := range opts {
		o(s)
	}
	if engine == EnginePostgres {
		err = s.openPostgres(target)
	} else {
		err = s.openSQLite(target)
	}
	if err != nil {
		return nil, err
	}
	if err := s.w.PingContext(ctx); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("store: connect to %s: %w", engine, err)
	}
	if _, err := migrate(ctx, s.w, engine); err != nil {
		_ = s.Close()
		return nil, err
	}
	s.startCommitters(committers(engine))
	return s, nil
}

// parseURL splits a GATEWAY_DATABASE_URL into its engine and what its driver opens. Errors
// never repeat the URL: it may carry a password.
func parseURL(rawURL string) (engine, target string, err error) {
	switch {
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		return EnginePostgres, rawURL, nil
	case strings.HasPrefix(rawURL, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(rawURL, "sqlite:"), "//")
		if path == "" {
			return "", "", errors.New("store: sqlite URL names no file (sqlite:///abs/path.db, sqlite://relative.db or sqlite::memory:)")
		}
		if strings.ContainsAny(path, "?#") {
			return "", "", errors.New("store: sqlite URL takes no query or fragment: the store sets its own pragmas")
		}
		return EngineSQLite, path, nil
	}
	scheme, _, _ := strings.Cut(rawURL, ":")
	return "", "", fmt.Errorf("store: unsupported database URL scheme %q (want sqlite: or postgres:)", scheme)
}

// Pools answers the store's connection pools by the name the metrics give each (db_name):
// "writer" and "readers" for a SQLite file, its one writing connection and the pool that
// reads beside it; "pool" where one pool does both (PostgreSQL, an in-memory SQLite
// database).
func (s *Store) Pools() map[string]*sql.DB {
	if s.r == s.w {
		return map[string]*sql.DB{"pool": s.w}
	}
	return map[string]*sql.DB{"writer": s.w, "readers": s.r}
}

func (s *Store) openPostgres(connString string) error {
	db, err := sql.Open("pgx", connString)
	if err != nil {
		return fmt.Errorf("store: open postgres: %w", err)
	}
	// As many idle sessions as open ones: with fewer, a burst closes the sessions it opened
	// as soon as it ends and opens them again on the next (35-113 new sessions per 15 s
	// under a steady load, issue 12). Idle ones still close after five minutes.
	db.SetMaxOpenConns(postgresConns)
	db.SetMaxIdleConns(postgresConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	s.w, s.r = db, db
	return nil
}

func (s *Store) openSQLite(path string) error {
	common := url.Values{}
	common.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", sqliteBusyTimeout.Milliseconds()))
	common.Add("_pragma", "foreign_keys(1)")

	wq := cloneValues(common)
	if path != ":memory:" {
		wq.Add("_pragma", "journal_mode(WAL)")
		// NORMAL is durable across application crashes in WAL mode; only a power cut can
		// lose the last transactions, which FULL would keep at a sync per commit.
		wq.Add("_pragma", "synchronous(NORMAL)")
		// Checkpoints run on a connection of their own (checkpoint.go), not in commits.
		wq.Add("_pragma", "wal_autocheckpoint(0)")
		// Statement journals (a multi-row statement that may fail midway: River's batch
		// insert, the merged upserts) stay in memory instead of spilling, past 64 KiB, to a
		// temporary file written a syscall per page. They hold at most one batch's pages.
		wq.Add("_pragma", "temp_store(MEMORY)")
	}
	// IMMEDIATE takes the write lock at BEGIN, so a read-then-write transaction never
	// fails midway on a lock another process took first.
	wq.Set("_txlock", "immediate")
	wc, err := sqlitecache.Connector(path + "?" + wq.Encode())
	if err != nil {
		return fmt.Errorf("store: open sqlite: %w", err)
	}
	w := sql.OpenDB(wc)
	w.SetMaxOpenConns(1)
	// database/sql must never close the only connection: an in-memory database would go with it.
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s.w, s.r = w, w
	if path == ":memory:" {
		return nil
	}

	rq := cloneValues(common)
	rq.Add("_pragma", "query_only(1)")
	rc, err := sqlitecache.Connector(path + "?" + rq.Encode())
	if err != nil {
		_ = w.Close()
		return fmt.Errorf("store: open sqlite: %w", err)
	}
	cc, err := sqlitecache.Connector(path + "?" + common.Encode())
	if err != nil {
		_ = w.Close()
		return fmt.Errorf("store: open sqlite: %w", err)
	}
	r := sql.OpenDB(rc)
	r.SetMaxOpenConns(sqliteReaders)
	r.SetMaxIdleConns(sqliteReaders)
	s.r = r
	s.checkpoints = startCheckpoints(sql.OpenDB(cc), checkpointInterval)
	return nil
}

func cloneValues(v url.Values) url.Values {
	c := url.Values{}
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// Engine reports the database engine: EngineSQLite or EnginePostgres.
func (s *Store) Engine() string { return s.engine }

// Ping checks that the database answers, for /readyz.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping %s: %w", s.engine, err)
	}
	return nil
}

// committers is how many batches of requests' writes commit at once: one on SQLite, whose
// one writer takes one transaction at a time; on PostgreSQL a quarter of the pool, leaving
// the rest to reads and the queue's work.
func committers(engine string) int {
	if engine == EnginePostgres {
		return postgresConns / 4
	}
	return 1
}

// Close finishes the writes being committed and releases the connections.
func (s *Store) Close() error {
	s.stopCommitters()
	var errs []error
	// The checkpoints' connection first: the writer's, closed last, checkpoints what is left.
	if s.checkpoints != nil {
		errs = append(errs, s.checkpoints.close())
	}
	if s.r != nil && s.r != s.w {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	return errors.Join(errs...)
}

// inTx runs fn in a transaction on the writer and commits when fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	ctx, end := s.txSpan(ctx)
	start := time.Now()
	defer func() {
		end(err)
		if s.observeTx != nil {
			s.observeTx(time.Since(start), err == nil)
		}
	}()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// nanos is how the store writes an instant: Unix nanoseconds, which both engines order
// alike and which keep Go's full precision.
func nanos(t time.Time) int64 { return t.UnixNano() }

// fromNanos reads an instant back in UTC.
func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// placeholders writes a row of n parameters numbered after the first `after` of a
// statement: ($1, $2) on PostgreSQL; (?, ?) on SQLite, which reads $N as a named parameter
// and looks each one up in a list, slowly in statements with many of them.
func (s *Store) placeholders(after, n int) string {
	ps := make([]string, n)
	for i := range ps {
		ps[i] = "?"
		if s.engine == EnginePostgres {
			ps[i] = fmt.Sprintf("$%d", after+i+1)
		}
	}
	return "(" + strings.Join(ps, ", ") + ")"
}
