// Command bench measures the gateway side by side with a bare net/http fan-out, in one run on
// this machine's loopback: `make bench`. It builds cmd/gateway, cmd/bench/baseline and
// cmd/bench/stub, starts the stub vendors (which answer the three vendors' success bodies at
// once), then, one system at a time, starts the system as a process of its own, warms it up,
// and sends a bounded number of updates (cmd/loadgen/update.json, each to a customer of its
// own, over keep-alive connections). It prints throughput, p50/p99 latency and the server's
// CPU per update read from /proc/<pid>/stat before and after the measured window, with the
// ratios to the bare fan-out and to the gateway without a store; the stub's CPU per update
// shows that it is not what limits the run. Compare the ratios: the figures are one run's
// on a machine that does everything at once. -postgres URL adds the gateway on PostgreSQL,
// on a schema of its own in that database, with what the server did beside the table
// (postgres.go).
//
//	go run ./cmd/bench [-n 3000] [-c 32] [-warmup 300] [-systems bare,none,sqlite,async] [-rounds 1] [-set GATEWAY_X=y ...] [-postgres postgres://...]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "bench:", err)
		}
		os.Exit(1)
	}
}

// options are the command line's.
type options struct {
	n, c, warmup int
	systems      []string
	body         string
	timeout      time.Duration
	drainTimeout time.Duration
	// rounds is how many times the systems are measured in turn.
	rounds int
	// postgres is the database the postgres system runs on (-postgres).
	postgres string
	// set are the gateway settings (NAME=VALUE) given with -set, in order; a later one of a
	// name wins.
	set []string
}

// fixedSettings are the variables that make each system what it is: -set may not change them.
var fixedSettings = []string{"GATEWAY_ADDR", "GATEWAY_DATABASE_URL"}

// parseSetting checks one -set NAME=VALUE: a gateway setting (GATEWAY_...) that does not
// define the systems, and leaves the line the bench learns each gateway's address from (the
// JSON "gateway listening", logged at info) in the log.
func parseSetting(kv string) error {
	name, value, ok := strings.Cut(kv, "=")
	switch {
	case !ok || name == "":
		return fmt.Errorf("%q is not NAME=VALUE", kv)
	case !strings.HasPrefix(name, "GATEWAY_"):
		return fmt.Errorf("%s is not a gateway setting (GATEWAY_...)", name)
	case slices.Contains(fixedSettings, name):
		return fmt.Errorf("%s is what each system sets for itself", name)
	case name == "GATEWAY_LOG_FORMAT" && value != "json",
		name == "GATEWAY_LOG_LEVEL" && !logsInfo(value):
		return fmt.Errorf("%s=%s would hide the JSON line, logged at info, that the bench reads each gateway's address from", name, value)
	}
	return nil
}

// logsInfo reports whether a gateway run with GATEWAY_LOG_LEVEL=level writes info lines,
// reading the level as the gateway does.
func logsInfo(level string) bool {
	l, err := zerolog.ParseLevel(level)
	return err == nil && l <= zerolog.InfoLevel
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.n, "n", 3000, "updates measured per system (at most 100,000)")
	fs.IntVar(&o.c, "c", 32, "concurrent connections")
	fs.IntVar(&o.warmup, "warmup", 300, "updates sent to each system before measuring")
	systems := fs.String("systems", strings.Join(defaultSystems, ","), "systems to measure, in this order (postgres needs -postgres)")
	fs.StringVar(&o.postgres, "postgres", "", "a PostgreSQL database URL (postgres://...) for the postgres system, which it adds to the default -systems; a schema of its own is made in it and dropped")
	fs.StringVar(&o.body, "body", "", "the update to send (default: the module's cmd/loadgen/update.json)")
	fs.DurationVar(&o.timeout, "timeout", 15*time.Minute, "stop the whole run after this long")
	fs.DurationVar(&o.drainTimeout, "drain-timeout", 5*time.Minute, "longest wait for the async queue to drain")
	fs.IntVar(&o.rounds, "rounds", 1, "how many times to measure the systems in turn (1-9); with more than one, each ratio's spread")
	fs.Func("set", "a gateway setting NAME=VALUE for every gateway started (repeatable; the caller's own GATEWAY_ variables are not passed on)", func(kv string) error {
		if err := parseSetting(kv); err != nil {
			return err
		}
		o.set = append(o.set, kv)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.n < 1 || o.n > 100_000 || o.c < 1 || o.c > 1024 || o.warmup < 0 || o.warmup > 100_000 || o.rounds < 1 || o.rounds > 9 {
		return o, errors.New("-n must be 1-100000, -c 1-1024, -warmup 0-100000 and -rounds 1-9")
	}
	for s := range strings.SplitSeq(*systems, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if !slices.Contains(systemNames(), s) {
			return o, fmt.Errorf("-systems: unknown system %q (known: %s)", s, strings.Join(systemNames(), ", "))
		}
		o.systems = append(o.systems, s)
	}
	if len(o.systems) == 0 {
		return o, errors.New("-systems names none")
	}
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "systems" })
	if o.postgres != "" && !explicit {
		o.systems = append(o.systems, "postgres")
	}
	if slices.Contains(o.systems, "postgres") {
		if _, err := withParams(o.postgres, nil); err != nil {
			return o, fmt.Errorf("-systems postgres needs -postgres postgres://...: %w", err)
		}
	}
	return o, nil
}

// run is the whole program; environ is the environment the servers start from (with every
// variable the gateway or a vendor adapter reads removed).
func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if runtime.GOOS != "linux" {
		return fmt.Errorf("bench reads each server's CPU from /proc: it runs on Linux, not %s", runtime.GOOS)
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()

	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	if o.body == "" {
		o.body = filepath.Join(root, "cmd", "loadgen", "update.json")
	}
	body, err := os.ReadFile(o.body)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "gateway-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	fmt.Fprintln(stderr, "bench: building the gateway, the baseline and the stub vendors")
	b := &bench{opts: o, body: body, dir: dir, env: serverEnv(environ), stderr: stderr}
	if err := b.build(ctx, root); err != nil {
		return err
	}
	stub, err := startProcess(ctx, "stub", dir, b.bin("stub"), []string{"-addr", "127.0.0.1:0"}, b.env, listeningAddr)
	if err != nil {
		return err
	}
	defer stub.stop()
	b.stub = stub

	fmt.Fprintf(stdout, "%d updates per system after %d of warm-up, %d at a time, on %d CPUs (%s):\n\n",
		o.n, o.warmup, o.c, runtime.NumCPU(), "loopback; one run's figures: compare the ratios")
	if len(o.set) > 0 {
		fmt.Fprintf(stdout, "gateway settings: %s\n\n", strings.Join(o.set, " "))
	}
	var rounds [][]row
	for i := 1; i <= o.rounds; i++ {
		rows, notes, err := b.round(ctx)
		if err != nil {
			return err
		}
		if o.rounds > 1 {
			fmt.Fprintf(stdout, "round %d of %d:\n\n", i, o.rounds)
		}
		printTable(stdout, rows)
		if l := drainLine(rows); l != "" {
			notes = append(notes, l)
		}
		for _, n := range notes {
			fmt.Fprintln(stdout)
			fmt.Fprintln(stdout, n)
		}
		fmt.Fprintln(stdout)
		rounds = append(rounds, rows)
	}
	if o.rounds > 1 {
		printSpread(stdout, rounds)
	}
	return nil
}

// round measures every system once, in the order given, and answers their rows and notes.
func (b *bench) round(ctx context.Context) ([]row, []string, error) {
	var rows []row
	var notes []string
	for _, name := range b.opts.systems {
		sys := systemNamed(name)
		fmt.Fprintf(b.stderr, "bench: %s: %d warm-up and %d measured updates, %d at a time\n", sys.name, b.opts.warmup, b.opts.n, b.opts.c)
		r, note, err := b.measure(ctx, sys)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", sys.name, err)
		}
		rows = append(rows, r)
		if note != "" {
			notes = append(notes, note)
		}
	}
	return rows, notes, nil
}

// moduleRoot is the directory of the gateway's go.mod, where the packages are built from.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run bench inside the gateway's module (go env GOMOD names no go.mod)")
	}
	return filepath.Dir(gomod), nil
}

// serverEnv is environ without anything the gateway or its adapters read, so the caller's
// own configuration cannot change what is measured.
func serverEnv(environ []string) []string {
	var env []string
	for _, kv := range environ {
		if !strings.HasPrefix(kv, "GATEWAY_") && !strings.HasPrefix(kv, "HAPPYTALK_") &&
			!strings.HasPrefix(kv, "LADIFLOW_") && !strings.HasPrefix(kv, "ENGAGELAB_") {
			env = append(env, kv)
		}
	}
	return env
}
