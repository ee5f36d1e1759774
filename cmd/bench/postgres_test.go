package main

import (
	"database/sql"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/store/storetest"
)

// The postgres system's counters, on a real server: a session that opens with the
// gateway's URL lands in the run's schema, is told apart by its application_name, and its
// commits and its session are counted once it has gone; the schema is dropped at the end.
// It runs where the store's PostgreSQL tests run (storetest.Engines: GATEWAY_TEST_POSTGRES_URL,
// which .ci/run sets).
func TestPostgresCounters(t *testing.T) {
	t.Parallel()
	for _, e := range storetest.Engines() {
		if e.Name == "postgres" {
			testPostgresCounters(t, e.Fresh(t))
		}
	}
}

func testPostgresCounters(t *testing.T, dsn string) {
	ctx := t.Context()
	pg, err := openPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			pg.close()
		}
	})
	begun := time.Now().Add(-time.Second) // the server's clock, read by another process
	run, err := beginPostgres(ctx, pg)
	if err != nil {
		t.Fatal(err)
	}
	cpu0, local, err := pg.cpu()
	if err != nil {
		t.Fatal(err)
	}

	gw, err := sql.Open("pgx", pg.gatewayURL)
	if err != nil {
		t.Fatal(err)
	}
	gw.SetMaxOpenConns(1)
	var schema string
	if err := gw.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil || schema != pg.schema {
		t.Fatalf("the gateway's session is in schema %q (%v), want %q", schema, err, pg.schema)
	}
	const commits = 20
	if _, err := gw.ExecContext(ctx, "CREATE TABLE t (n INTEGER)"); err != nil {
		t.Fatal(err)
	}
	for i := range commits {
		if _, err := gw.ExecContext(ctx, "INSERT INTO t VALUES ($1)", i); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := pg.openedSince(ctx, begun); err != nil || n != 1 {
		t.Errorf("sessions of the gateway's opened since the start: %d (%v), want 1", n, err)
	}
	if err := pg.waitGatewayGone(ctx, 100*time.Millisecond); err == nil {
		t.Error("waitGatewayGone returned while the gateway's session was open")
	}
	gw.Close()
	if err := pg.waitGatewayGone(ctx, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if n, err := pg.openedSince(ctx, begun); err != nil || n != 0 {
		t.Errorf("%d sessions of the gateway's left after waiting for them to end (%v)", n, err)
	}
	end, err := pg.counters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := end.commits - run.start.commits; got < commits+1 {
		t.Errorf("%d commits counted, want at least the session's %d", got, commits+1)
	}
	if got := end.sessions - run.start.sessions; got < 1 {
		t.Errorf("%d sessions counted, want at least the gateway's one", got)
	}
	if cpu1, _, err := pg.cpu(); err != nil || (local && cpu1 < cpu0) {
		t.Errorf("the server's CPU went from %v to %v (%v): it never goes down", cpu0, cpu1, err)
	}

	pg.close()
	closed = true
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var left int
	if err := admin.QueryRowContext(ctx, "SELECT COUNT(*) FROM pg_namespace WHERE nspname = $1", pg.schema).Scan(&left); err != nil || left != 0 {
		t.Errorf("schema %s left after close (%d, %v)", pg.schema, left, err)
	}
}
