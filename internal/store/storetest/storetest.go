// Package storetest makes fresh databases for tests: a SQLite file always, and a database or
// schema of its own on the PostgreSQL server named by GATEWAY_TEST_POSTGRES_URL when set.
//
// Engines, SQLite and Postgres make empty databases, for tests of the migrations themselves.
// A Templates makes migrated ones: it migrates one template per engine once per test binary
// and copies it for each test, so a test's store.Open finds nothing left to apply. It takes
// the migration as a function (store.Open, through Migrator) rather than importing
// internal/store, whose own tests use this package.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	// The drivers: pgx to create and drop test databases and schemas, SQLite to checkpoint
	// the template file.
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

// PostgresEnv names the PostgreSQL server the tests may use; .ci/run sets it.
const PostgresEnv = "GATEWAY_TEST_POSTGRES_URL"

// Engine makes a fresh database for one test and answers its URL.
type Engine struct {
	Name  string
	Fresh func(t testing.TB) string
}

// Engines lists SQLite always and PostgreSQL when PostgresEnv is set, each making empty
// databases.
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
	base := postgresBase(t)
	admin := openAdmin(t, base.String())
	t.Cleanup(func() { _ = admin.Close() })
	schema := uniqueName("gateway_test_")
	if _, err := admin.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema on %s: %v", PostgresEnv, err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	q := base.Query()
	q.Set("search_path", schema)
	base.RawQuery = q.Encode()
	return base.String()
}

// Migrate brings the empty database at url up to date.
type Migrate func(ctx context.Context, url string) error

// Migrator is a Migrate that opens the database with open (store.Open, which applies the
// migrations) and closes it again.
func Migrator[S io.Closer, O any](open func(context.Context, string, ...O) (S, error)) Migrate {
	return func(ctx context.Context, url string) error {
		s, err := open(ctx, url)
		if err != nil {
			return err
		}
		return s.Close()
	}
}

// Templates makes migrated databases, each a copy of a template migrated once: a SQLite file
// read into memory, and on PostgreSQL a template database (CREATE DATABASE ... TEMPLATE),
// each test's copy a database of its own while the test runs, emptied again when it ends
// and handed to a later test. It is safe for concurrent use; a package's TestMain calls
// Close after its tests, which drops the copies and the template.
type Templates struct {
	migrate Migrate

	sqliteOnce sync.Once
	sqliteDB   []byte
	sqliteErr  error

	pgOnce sync.Once
	pg     *pgTemplate
	pgErr  error
}

// NewTemplates makes templates migrated by migrate, when a test first asks for one.
func NewTemplates(migrate Migrate) *Templates { return &Templates{migrate: migrate} }

// Engines lists SQLite always and PostgreSQL when PostgresEnv is set, each making migrated
// databases.
func (tp *Templates) Engines() []Engine {
	es := []Engine{{Name: "sqlite", Fresh: tp.SQLite}}
	if os.Getenv(PostgresEnv) != "" {
		es = append(es, Engine{Name: "postgres", Fresh: tp.Postgres})
	}
	return es
}

// SQLite answers the URL of a migrated database file in the test's temporary directory.
func (tp *Templates) SQLite(t testing.TB) string {
	t.Helper()
	tp.sqliteOnce.Do(func() { tp.sqliteDB, tp.sqliteErr = tp.sqliteTemplate() })
	if tp.sqliteErr != nil {
		t.Fatalf("storetest: SQLite template: %v", tp.sqliteErr)
	}
	path := filepath.Join(t.TempDir(), "gateway.db")
	if err := os.WriteFile(path, tp.sqliteDB, 0o600); err != nil {
		t.Fatal(err)
	}
	return "sqlite://" + path
}

// sqliteTemplate migrates a file in a directory of its own and answers its bytes. Closing the
// store checkpoints its WAL into the file; the template checks that and checkpoints again, so
// the file alone is the whole database.
func (tp *Templates) sqliteTemplate() ([]byte, error) {
	dir, err := os.MkdirTemp("", "storetest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "template.db")
	if err := tp.migrate(context.Background(), "sqlite://"+path); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return nil, err
	}
	var busy, logged, checkpointed int
	err = db.QueryRow("PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logged, &checkpointed)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if busy != 0 {
		return nil, errors.New("checkpoint: the template is still in use")
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		return nil, fmt.Errorf("checkpoint left %d bytes in the WAL", fi.Size())
	}
	return os.ReadFile(path)
}

// Postgres answers the URL of a database of the test's own on PostgresEnv's server, a copy
// of the migrated template as it was migrated: a new copy, or one an earlier test used and
// that was emptied since. When the test ends its copy is emptied for the next.
func (tp *Templates) Postgres(t testing.TB) string {
	t.Helper()
	base := postgresBase(t)
	tp.pgOnce.Do(func() { tp.pg, tp.pgErr = newPGTemplate(base, tp.migrate) })
	if tp.pgErr != nil {
		t.Fatalf("storetest: PostgreSQL template: %v", tp.pgErr)
	}
	name, err := tp.pg.take()
	if err != nil {
		t.Fatalf("storetest: copy the PostgreSQL template: %v", err)
	}
	t.Cleanup(func() { tp.pg.giveBack(name) })
	return databaseURL(base, name)
}

// Close drops the PostgreSQL template and its copies, and answers what went wrong with any
// drop or with emptying a copy. A package's TestMain calls it after its tests; the SQLite
// template lives in memory only.
func (tp *Templates) Close() error {
	if tp.pg == nil {
		return nil
	}
	return tp.pg.close()
}

// pgTemplate is a migrated database on the server, the copies made of it ahead of the tests
// that take them, and the copies tests are done with, emptied for the next. Copying (CREATE
// DATABASE ... TEMPLATE) writes the whole database through the server's WAL, and each DROP
// DATABASE forces a checkpoint: a few hundred milliseconds of the server's work each, where
// emptying a copy (a DELETE of each table) is a few milliseconds. So a package makes about
// as many copies as it runs PostgreSQL tests at once, and drops them only at the end.
type pgTemplate struct {
	admin *sql.DB // on the database PostgresEnv names
	base  *url.URL
	name  string
	empty string // the statements that empty every table the migrations left empty

	copies chan pgCopy // made ahead; the filler stops at stop
	stop   chan struct{}
	filler sync.WaitGroup

	mu     sync.Mutex
	idle   []string // copies emptied since a test used them
	made   []string // every copy taken, to drop at close
	failed error    // what went wrong emptying a copy, for close
	// emptiers hold a session on each copy emptied, kept for its next emptying: a new
	// PostgreSQL session costs the server a process (about 40 ms of CPU on these machines),
	// as much as emptying the copy itself.
	emptiers map[string]*sql.DB
}

// pgCopy is a copy of the template, or why it could not be made.
type pgCopy struct {
	name string
	err  error
}

// emptyTimeout bounds emptying a copy, so that a session nothing can end fails the package
// rather than hanging it.
const emptyTimeout = 30 * time.Second

// copiesAhead is how many copies wait for tests: enough for the tests a package runs at once.
const copiesAhead = 2

func newPGTemplate(base *url.URL, migrate Migrate) (*pgTemplate, error) {
	admin, err := sql.Open("pgx", base.String())
	if err != nil {
		return nil, err
	}
	admin.SetMaxOpenConns(8)
	admin.SetMaxIdleConns(4)
	ctx := context.Background()
	p := &pgTemplate{admin: admin, base: base, name: uniqueName("gateway_template_"),
		copies: make(chan pgCopy, copiesAhead), stop: make(chan struct{})}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+p.name); err != nil {
		_ = admin.Close()
		return nil, fmt.Errorf("create database (the %s user needs CREATEDB): %w", PostgresEnv, err)
	}
	err = migrate(ctx, databaseURL(base, p.name))
	if err == nil {
		p.empty, err = emptyingStatement(ctx, databaseURL(base, p.name))
	}
	if err == nil {
		// A template that takes no connections: a copy fails while anyone is connected to
		// the template, and nobody can be.
		_, err = admin.ExecContext(ctx, "ALTER DATABASE "+p.name+" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false")
	}
	if err != nil {
		_, derr := admin.ExecContext(ctx, "DROP DATABASE "+p.name+" WITH (FORCE)")
		return nil, errors.Join(fmt.Errorf("migrate: %w", err), derr, admin.Close())
	}
	p.filler.Go(p.fill)
	return p, nil
}

// fill makes copies until stop, each waiting in copies for a test to take it.
func (p *pgTemplate) fill() {
	for {
		c := pgCopy{name: uniqueName("gateway_test_")}
		if _, err := p.admin.ExecContext(context.Background(), "CREATE DATABASE "+c.name+" TEMPLATE "+p.name); err != nil {
			c = pgCopy{err: err}
		}
		select {
		case p.copies <- c:
		case <-p.stop:
			if c.err == nil {
				p.mu.Lock()
				p.made = append(p.made, c.name)
				p.mu.Unlock()
			}
			return
		}
	}
}

// emptyingStatement answers the statements that empty every table of the migrated
// database at url that holds no rows: all but the migrations' own records (goose's and
// River's versions), which a copy keeps as they are. A DELETE of each, the tables that
// refer to others first, then the tables' own sequences set back to their start, all run
// as one implicit transaction (the simple protocol). Not TRUNCATE: it makes every table and
// index a new file, about 80 ms of the server's time for this schema against 5 for deleting
// the few rows a test leaves. The deleted rows stay until a vacuum (autovacuum, where the
// server runs it) or the copy's drop at the end of the package.
func emptyingStatement(ctx context.Context, url string) (string, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return "", err
	}
	defer db.Close()
	// Every name as regclass prints it (qualified only outside the search path), so the
	// three lists below spell a table alike.
	tables, err := textRows(ctx, db, `SELECT (quote_ident(schemaname) || '.' || quote_ident(tablename))::regclass::text
		FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`)
	if err != nil {
		return "", err
	}
	var empty []string
	for _, table := range tables {
		var holdsRows bool
		if err := db.QueryRowContext(ctx, "SELECT EXISTS (SELECT FROM "+table[0]+")").Scan(&holdsRows); err != nil {
			return "", err
		}
		if !holdsRows {
			empty = append(empty, table[0])
		}
	}
	if len(empty) == 0 {
		return "", errors.New("the migrated template has no empty table")
	}
	refs, err := textRows(ctx, db, `SELECT conrelid::regclass::text, confrelid::regclass::text
		FROM pg_constraint WHERE contype = 'f' AND conrelid <> confrelid`)
	if err != nil {
		return "", err
	}
	ordered, err := referringFirst(empty, refs)
	if err != nil {
		return "", err
	}
	sequences, err := textRows(ctx, db, `SELECT s.oid::regclass::text, d.refobjid::regclass::text
		FROM pg_class s JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid
			AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
		WHERE s.relkind = 'S' ORDER BY 1`)
	if err != nil {
		return "", err
	}
	var stmts []string
	for _, table := range ordered {
		stmts = append(stmts, "DELETE FROM "+table)
	}
	for _, seq := range sequences {
		if slices.Contains(empty, seq[1]) { // a sequence of a table emptied
			stmts = append(stmts, "ALTER SEQUENCE "+seq[0]+" RESTART")
		}
	}
	return strings.Join(stmts, "; "), nil
}

// textRows answers query's rows, each column as text.
func textRows(ctx context.Context, db *sql.DB, query string) ([][]string, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	cols, err := rows.Columns()
	if err != nil {
		return nil, errors.Join(err, rows.Close())
	}
	var out [][]string
	for rows.Next() {
		row := make([]string, len(cols))
		dest := make([]any, len(cols))
		for i := range row {
			dest[i] = &row[i]
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, errors.Join(err, rows.Close())
		}
		out = append(out, row)
	}
	return out, errors.Join(rows.Err(), rows.Close())
}

// referringFirst orders tables so that a table referring to another (refs: referrer and
// referred) comes before it: deleting in that order never leaves a row referring to a
// deleted one.
func referringFirst(tables []string, refs [][]string) ([]string, error) {
	referredBy := map[string][]string{} // referred -> referrers, among tables
	for _, ref := range refs {
		if slices.Contains(tables, ref[0]) && slices.Contains(tables, ref[1]) {
			referredBy[ref[1]] = append(referredBy[ref[1]], ref[0])
		}
	}
	var out []string
	done := map[string]bool{}
	for len(out) < len(tables) {
		progressed := false
		for _, t := range tables {
			if done[t] || slices.ContainsFunc(referredBy[t], func(r string) bool { return !done[r] }) {
				continue
			}
			done[t], progressed = true, true
			out = append(out, t)
		}
		if !progressed {
			return nil, fmt.Errorf("tables refer to each other in a cycle: %v", refs)
		}
	}
	return out, nil
}

// take answers a copy emptied since an earlier test, or else one made ahead.
func (p *pgTemplate) take() (string, error) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		name := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return name, nil
	}
	p.mu.Unlock()
	c := <-p.copies
	if c.err != nil {
		return "", c.err
	}
	p.mu.Lock()
	p.made = append(p.made, c.name)
	p.mu.Unlock()
	return c.name, nil
}

// giveBack empties the copy a test is done with and keeps it for the next; a copy that
// cannot be emptied is not handed on, and close reports why.
func (p *pgTemplate) giveBack(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), emptyTimeout)
	defer cancel()
	err := p.emptyCopy(ctx, name)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.failed = errors.Join(p.failed, fmt.Errorf("empty database %s: %w", name, err))
		return
	}
	p.idle = append(p.idle, name)
}

// emptyCopy ends the sessions a test left on database name (a store not closed, a stuck
// query), as DROP DATABASE ... WITH (FORCE) would, waiting for each to end, and empties its
// tables.
func (p *pgTemplate) emptyCopy(ctx context.Context, name string) error {
	db, err := p.emptier(name)
	if err != nil {
		return err
	}
	if err := endSessions(ctx, db); err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, p.empty)
	return err
}

// endSessions ends every session on db's database but its own, and waits until none is
// left, at most 5 s. A session the test's store closed may still be listed, exiting, when
// it is asked to end: pg_terminate_backend then answers false, a warning, not an error, so
// what counts is the list read again in a statement of its own (each reads the server's
// activity afresh).
func endSessions(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		var left int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&left); err != nil {
			return err
		}
		if left == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d sessions the test left did not end within 5 s", left)
		}
		if _, err := db.ExecContext(ctx, `SELECT pg_terminate_backend(pid, 1000) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()`); err != nil {
			return err
		}
	}
}

// emptier is the pool of one session that empties copy name, opened on its first use.
func (p *pgTemplate) emptier(name string) (*sql.DB, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if db, ok := p.emptiers[name]; ok {
		return db, nil
	}
	db, err := sql.Open("pgx", databaseURL(p.base, name))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxIdleTime(0)
	if p.emptiers == nil {
		p.emptiers = map[string]*sql.DB{}
	}
	p.emptiers[name] = db
	return db, nil
}

// drop drops database name, ending what is still connected to it.
func (p *pgTemplate) drop(ctx context.Context, name string) error {
	if _, err := p.admin.ExecContext(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

func (p *pgTemplate) close() error {
	close(p.stop)
	p.filler.Wait()
	ctx := context.Background()
	p.mu.Lock()
	names := p.made
	var closes []error
	for _, db := range p.emptiers {
		closes = append(closes, db.Close())
	}
	p.mu.Unlock()
	for len(p.copies) > 0 {
		if c := <-p.copies; c.err == nil {
			names = append(names, c.name)
		}
	}
	// Dropped at once: the checkpoints the drops ask for are shared.
	errs := make([]error, len(names))
	var drops sync.WaitGroup
	for i, name := range names {
		drops.Go(func() { errs[i] = p.drop(ctx, name) })
	}
	drops.Wait()
	_, err := p.admin.ExecContext(ctx, "ALTER DATABASE "+p.name+" WITH IS_TEMPLATE false")
	if err == nil {
		_, err = p.admin.ExecContext(ctx, "DROP DATABASE "+p.name+" WITH (FORCE)")
	}
	return errors.Join(p.failed, errors.Join(closes...), errors.Join(errs...), err, p.admin.Close())
}

// postgresBase is PostgresEnv's URL, or the test fails when it is not set.
func postgresBase(t testing.TB) *url.URL {
	t.Helper()
	raw := os.Getenv(PostgresEnv)
	if raw == "" {
		t.Fatalf("%s is not set", PostgresEnv)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	return u
}

func openAdmin(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// databaseURL is base naming database name instead, in its default schema.
func databaseURL(base *url.URL, name string) string {
	u := *base
	u.Path = "/" + name
	q := u.Query()
	q.Del("search_path")
	u.RawQuery = q.Encode()
	return u.String()
}

// uniqueName is prefix and 12 random hex digits: a name no other test, package or run uses.
func uniqueName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}
