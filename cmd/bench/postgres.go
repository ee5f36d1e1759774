package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, as the gateway's store uses
)

// pgServer is the PostgreSQL database the postgres system runs on: a schema of its own in
// the -postgres database, made before the gateway starts and dropped after it stopped, so
// that nothing a run leaves meets the next. The server's own counters are read around the
// run: what pg_stat_database counts for the database, and the CPU of the server's
// processes when it runs on this machine.
type pgServer struct {
	admin      *sql.DB
	schema     string
	app        string // the gateway's application_name: its sessions are told apart by it
	gatewayURL string
	// postmaster is the server's first process, 0 when the server is not on this machine
	// (its CPU is then not read).
	postmaster int
}

// pgCounters are the database's counts in pg_stat_database: every transaction committed
// (a statement outside one counts as one) and every session opened.
type pgCounters struct {
	commits, sessions int64
}

// openPostgres makes the run's schema in the database dsn names.
func openPostgres(ctx context.Context, dsn string) (*pgServer, error) {
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("-postgres: %w", err)
	}
	admin.SetMaxOpenConns(1) // one session, whose backend's parent is the postmaster
	pg := &pgServer{admin: admin, schema: fmt.Sprintf("gateway_bench_%d_%d", os.Getpid(), time.Now().UnixNano())}
	pg.app = pg.schema
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+pg.schema); err != nil {
		admin.Close()
		return nil, fmt.Errorf("-postgres: %w", err)
	}
	if pg.gatewayURL, err = withParams(dsn, map[string]string{"search_path": pg.schema, "application_name": pg.app}); err != nil {
		pg.close()
		return nil, err
	}
	var backend int
	if err := admin.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&backend); err != nil {
		pg.close()
		return nil, fmt.Errorf("-postgres: %w", err)
	}
	if st, err := readProcStat(backend); err == nil {
		pg.postmaster = st.ppid
	}
	return pg, nil
}

// withParams is the URL dsn with params set in its query.
func withParams(dsn string, params map[string]string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("-postgres: %q is not a postgres://... URL", dsn)
	}
	q := u.Query()
	for k, v := range params {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// counters reads the database's counts.
func (pg *pgServer) counters(ctx context.Context) (pgCounters, error) {
	var c pgCounters
	err := pg.admin.QueryRowContext(ctx, `SELECT xact_commit, sessions FROM pg_stat_database WHERE datname = current_database()`).Scan(&c.commits, &c.sessions)
	if err != nil {
		return c, fmt.Errorf("pg_stat_database: %w", err)
	}
	return c, nil
}

// openedSince counts the gateway's sessions open now that began at or after t.
func (pg *pgServer) openedSince(ctx context.Context, t time.Time) (int, error) {
	var n int
	err := pg.admin.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = $1 AND backend_start >= $2`, pg.app, t).Scan(&n)
	return n, err
}

// waitGatewayGone waits until no session of the gateway's is left: a backend writes what it
// counted to pg_stat_database as it exits, a moment after its client closed it.
func (pg *pgServer) waitGatewayGone(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		var n int
		if err := pg.admin.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = $1`, pg.app).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d sessions of the gateway still open %v after it stopped", n, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// cpu is the CPU the server's processes have used so far: the postmaster's own and that of
// the children it has reaped (sessions that ended), and each live child's; false when the
// server is not on this machine.
func (pg *pgServer) cpu() (time.Duration, bool, error) {
	if pg.postmaster == 0 {
		return 0, false, nil
	}
	main, err := readProcStat(pg.postmaster)
	if err != nil {
		return 0, false, err
	}
	ticks := main.cpu + main.reaped
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, false, err
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readProcStat(pid)
		if err != nil || st.ppid != pg.postmaster {
			continue // not a child, or gone since the directory was read
		}
		ticks += st.cpu
	}
	return ticksToDuration(ticks), true, nil
}

// close drops the run's schema and ends the bench's own session.
func (pg *pgServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _ = pg.admin.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+pg.schema+" CASCADE")
	_ = pg.admin.Close()
}

// startPostgres starts the gateway on a schema of its own in the -postgres database.
func startPostgres(ctx context.Context, b *bench) (*process, *pgServer, error) {
	if b.opts.postgres == "" {
		return nil, nil, errors.New("the postgres system needs -postgres URL")
	}
	pg, err := openPostgres(ctx, b.opts.postgres)
	if err != nil {
		return nil, nil, err
	}
	p, err := startProcess(ctx, "postgres", b.dir, b.bin("gateway"), nil, b.gatewayEnv(pg.gatewayURL), gatewayAddr)
	if err != nil {
		pg.close()
		return nil, nil, err
	}
	return p, pg, nil
}

// pgRun is what the postgres system measures of the server around one run.
type pgRun struct {
	pg *pgServer
	// start is read once the gateway listens (its migrations done), cpu0 as the window
	// begins.
	start  pgCounters
	cpu0   time.Duration
	hasCPU bool
	began  time.Time
}

// beginPostgres reads the server's counters once the gateway listens.
func beginPostgres(ctx context.Context, pg *pgServer) (*pgRun, error) {
	c, err := pg.counters(ctx)
	if err != nil {
		return nil, err
	}
	return &pgRun{pg: pg, start: c}, nil
}

// window marks the measured window's start.
func (r *pgRun) window() error {
	var err error
	r.began = time.Now()
	r.cpu0, r.hasCPU, err = r.pg.cpu()
	return err
}

// note stops the gateway p once the window's updates (after warmup more) are answered,
// waits for its sessions to end, and says what the server did: its CPU per update over the
// window, the sessions the gateway opened during it, and over the whole run, warm-up
// included, its commits per update and the sessions it opened.
func (r *pgRun) note(ctx context.Context, p *process, updates, warmup int) (string, error) {
	cpu1, _, err := r.pg.cpu()
	if err != nil {
		return "", err
	}
	opened, err := r.pg.openedSince(ctx, r.began)
	if err != nil {
		return "", err
	}
	p.stop()
	if err := r.pg.waitGatewayGone(ctx, 30*time.Second); err != nil {
		return "", err
	}
	end, err := r.pg.counters(ctx)
	if err != nil {
		return "", err
	}
	server := "not on this machine, so its CPU is not read"
	if r.hasCPU {
		server = fmt.Sprintf("%s CPU-µs per update in its own processes over the window", thousands(perUpdate(cpu1-r.cpu0, updates)))
	}
	all := updates + warmup
	return fmt.Sprintf("postgres: PostgreSQL %s; %d sessions opened by the gateway during the window and still open at its end; "+
		"over the gateway's whole run (warm-up included, pg_stat_database, where a statement outside a transaction counts as a commit): "+
		"%.2f commits per update and %d sessions opened.",
		server, opened, float64(end.commits-r.start.commits)/float64(all), end.sessions-r.start.sessions), nil
}
