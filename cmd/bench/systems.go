package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/customergateway/gateway/internal/vendorsim/engagelab"
	"github.com/customergateway/gateway/internal/vendorsim/happytalk"
	"github.com/customergateway/gateway/internal/vendorsim/ladiflow"
)

// system is one thing measured: how to start it, and whether its updates are queued.
type system struct {
	name  string // as -systems spells it
	label string // as the table shows it
	async bool   // send Prefer: respond-async, then wait for the queue to drain
	// start starts the system, and answers the PostgreSQL database it runs on, if any: its
	// counters are read around the run.
	start func(ctx context.Context, b *bench) (*process, *pgServer, error)
}

var systems = []system{
	{name: "bare", label: "a bare `net/http` fan-out (`cmd/bench/baseline`)", start: startBaseline},
	{name: "none", label: "the gateway, `GATEWAY_DATABASE_URL=none`", start: startGateway("none")},
	{name: "sqlite", label: "the gateway, default SQLite store", start: startGateway("sqlite")},
	{name: "async", label: "the gateway, SQLite, `Prefer: respond-async` (request window only)", async: true, start: startGateway("async")},
	{name: "postgres", label: "the gateway, PostgreSQL (`-postgres`)", start: startPostgres},
}

// defaultSystems are what a run measures unless -systems says otherwise: every system but
// postgres, which needs a database (-postgres, which adds it).
var defaultSystems = []string{"bare", "none", "sqlite", "async"}

func systemNames() []string {
	var names []string
	for _, s := range systems {
		names = append(names, s.name)
	}
	return names
}

func systemNamed(name string) system {
	for _, s := range systems {
		if s.name == name {
			return s
		}
	}
	panic("bench: no system " + name) // parseFlags accepts only known names
}

// bench is one run: the options, the built binaries, the stub vendors.
type bench struct {
	opts   options
	body   []byte
	dir    string   // the run's directory: binaries, logs, databases
	env    []string // every server's environment before its own variables
	stub   *process
	stderr io.Writer
}

func (b *bench) bin(name string) string { return filepath.Join(b.dir, "bin", name) }

// build compiles the three programs the run starts, once.
func (b *bench) build(ctx context.Context, root string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(b.dir, "bin")+string(filepath.Separator),
		"./cmd/gateway", "./cmd/bench/baseline", "./cmd/bench/stub")
	cmd.Dir, cmd.Stdout, cmd.Stderr = root, b.stderr, b.stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build: %w", err)
	}
	return nil
}

func (b *bench) stubURL() string { return "http://" + b.stub.addr }

func startBaseline(ctx context.Context, b *bench) (*process, *pgServer, error) {
	p, err := startProcess(ctx, "bare", b.dir, b.bin("baseline"), []string{"-addr", "127.0.0.1:0", "-vendors", b.stubURL()}, b.env, listeningAddr)
	return p, nil, err
}

// startGateway starts the gateway pointed at the stub vendors with the sandbox accounts'
// credentials, without authentication or a rate limit, on the store the system names.
func startGateway(name string) func(context.Context, *bench) (*process, *pgServer, error) {
	return func(ctx context.Context, b *bench) (*process, *pgServer, error) {
		db := "none"
		if name != "none" {
			db = "sqlite://" + filepath.Join(b.dir, name+".db") // an absolute path: sqlite:///...
		}
		p, err := startProcess(ctx, name, b.dir, b.bin("gateway"), nil, b.gatewayEnv(db), gatewayAddr)
		return p, nil, err
	}
}

// gatewayEnv is the environment of a gateway on the store db: the bench's own, the stub's
// sandbox accounts, then the -set settings, which win over the bench's defaults.
func (b *bench) gatewayEnv(db string) []string {
	vars := map[string]string{
		"GATEWAY_ADDR":         "127.0.0.1:0",
		"GATEWAY_AUTH":         "none",
		"GATEWAY_RATE_LIMIT":   "0",
		"GATEWAY_DATABASE_URL": db,
		// --sandbox's map, so the example's attributes reach HappyTalk as they do there.
		"HAPPYTALK_PARAMETER_MAP": "tier:parameter1,note:user_parameter",
	}
	maps.Copy(vars, happytalk.SandboxEnv(b.stubURL()))
	maps.Copy(vars, ladiflow.SandboxEnv(b.stubURL()))
	maps.Copy(vars, engagelab.SandboxEnv(b.stubURL()))
	for _, kv := range b.opts.set {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	env := append([]string{}, b.env...)
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		env = append(env, k+"="+vars[k])
	}
	return env
}

// measure starts sys, warms it up, and measures one window of updates.
func (b *bench) measure(ctx context.Context, sys system) (row, string, error) {
	p, pg, err := sys.start(ctx, b)
	if err != nil {
		return row{}, "", err
	}
	defer func() {
		p.stop()
		if pg != nil {
			pg.close() // the schema goes once the gateway has stopped
		}
	}()
	var pgr *pgRun
	if pg != nil {
		if pgr, err = beginPostgres(ctx, pg); err != nil {
			return row{}, "", err
		}
	}
	base := "http://" + p.addr
	l := newLoad(base, b.body, sys.async, b.opts.c)
	defer l.client.CloseIdleConnections()

	if b.opts.warmup > 0 {
		if w := l.send(ctx, 1, b.opts.warmup, b.opts.c); w.failures > 0 {
			return row{}, "", fmt.Errorf("warm-up: %d of %d updates failed, the first: %s (log: %s)", w.failures, b.opts.warmup, w.failure, p.tail())
		}
	}
	if sys.async {
		// The warm-up's deliveries go out before the window, so it starts on an empty queue.
		if _, err := drain(ctx, base, b.opts.drainTimeout); err != nil {
			return row{}, "", fmt.Errorf("warm-up: %w", err)
		}
	}
	server0, stub0, err := b.cpu(p)
	if err != nil {
		return row{}, "", err
	}
	if pgr != nil {
		if err := pgr.window(); err != nil {
			return row{}, "", err
		}
	}
	w := l.send(ctx, b.opts.warmup+1, b.opts.n, b.opts.c)
	server1, stub1, err := b.cpu(p)
	if err != nil {
		return row{}, "", err
	}
	if w.failures > 0 {
		return row{}, "", fmt.Errorf("%d of %d updates failed, the first: %s", w.failures, b.opts.n, w.failure)
	}
	r := row{
		system: sys.name, label: sys.label, updates: len(w.latencies), took: w.took,
		p50: percentile(w.latencies, 50), p99: percentile(w.latencies, 99),
		serverCPU: server1 - server0, stubCPU: stub1 - stub0,
	}
	if pgr != nil {
		note, err := pgr.note(ctx, p, r.updates, b.opts.warmup)
		return r, note, err
	}
	if !sys.async {
		return r, "", nil
	}
	took, err := drain(ctx, base, b.opts.drainTimeout)
	if err != nil {
		return row{}, "", err
	}
	server2, _, err := b.cpu(p)
	if err != nil {
		return row{}, "", err
	}
	r.drained = float64(r.updates) / (w.took + took).Seconds()
	note := fmt.Sprintf("%s: the %s queued deliveries had all gone out %.1f s after the request window "+
		"(%s updates/s delivered from the first request to the empty queue); server CPU-µs per update "+
		"including the deliveries: %s.", sys.name, thousands(float64(3*r.updates)), took.Seconds(),
		thousands(r.drained), thousands(perUpdate(server2-server0, r.updates)))
	return r, note, nil
}

// cpu reads the CPU used so far by p and by the stub vendors.
func (b *bench) cpu(p *process) (server, stub time.Duration, err error) {
	if server, err = cpuTime(p.pid()); err != nil {
		return 0, 0, err
	}
	if stub, err = cpuTime(b.stub.pid()); err != nil {
		return 0, 0, err
	}
	return server, stub, nil
}

// drain waits until the gateway's /metrics says no delivery is queued and answers how long
// that took. Each scrape counts the queue, a scan of it: polled every 100 ms a draining
// queue of 9,000 spent 7% of the gateway's CPU on the scrapes (CPU profile), so the poll
// waits for about a quarter of the time the queue still needs at the rate seen so far, at
// least 50 ms and at most a second.
func drain(ctx context.Context, base string, timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	first, last := -1.0, -1.0
	for {
		n, err := queued(ctx, base)
		if err != nil && ctx.Err() == nil {
			return 0, err
		}
		if err == nil && n == 0 {
			return time.Since(start), nil
		}
		if err == nil {
			last = n
			if first < 0 {
				first = n
			}
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("the queue did not drain within %v (%v deliveries still queued)", timeout, last)
		case <-time.After(nextPoll(first, last, time.Since(start))):
		}
	}
}

// nextPoll is how long drain waits before its next scrape: a quarter of the time the last
// count still needs at the rate from the first count to it over elapsed, within 50 ms and
// a second; 100 ms until the queue has been seen to move.
func nextPoll(first, last float64, elapsed time.Duration) time.Duration {
	const least, most = 50 * time.Millisecond, time.Second
	if first <= last || elapsed <= 0 {
		return 100 * time.Millisecond
	}
	perSecond := (first - last) / elapsed.Seconds()
	wait := time.Duration(last / perSecond / 4 * float64(time.Second))
	return min(max(wait, least), most)
}

// queued asks the gateway's /metrics for gateway_deliveries_queued.
func queued(ctx context.Context, base string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET /metrics: HTTP %d", resp.StatusCode)
	}
	return queuedMetric(resp.Body)
}

// queuedMetric reads the value of gateway_deliveries_queued from a Prometheus text
// exposition.
func queuedMetric(r io.Reader) (float64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if ok && name == "gateway_deliveries_queued" {
			return strconv.ParseFloat(strings.TrimSpace(value), 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("/metrics has no gateway_deliveries_queued")
}
