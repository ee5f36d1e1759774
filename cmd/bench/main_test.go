package main

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	t.Parallel()
	// Fields 14 and 15 (utime, stime) are 1500 and 250 in every good line.
	tail := " S 1 1234 1234 0 -1 4194560 3513 0 0 0 1500 250 0 0 20 0 9 0 123456 1203456000 5678 18446744073709551615"
	for _, tc := range []struct {
		name, line string
		want       int64
		wantErr    bool
	}{
		{name: "plain", line: "1234 (gateway)" + tail, want: 1750},
		{name: "spaces and parentheses in the name", line: "1234 (a b) (c))" + tail, want: 1750},
		{name: "newline at the end", line: "1234 (gateway)" + tail + "\n", want: 1750},
		{name: "no name", line: "1234 gateway" + tail, wantErr: true},
		{name: "cut short", line: "1234 (gateway) S 1 1234 1234 0 -1 4194560 3513 0 0 0 1500", wantErr: true},
		{name: "not a number", line: "1234 (gateway) S 1 1234 1234 0 -1 4194560 3513 0 0 0 x 250 0", wantErr: true},
		{name: "negative", line: "1234 (gateway) S 1 1234 1234 0 -1 4194560 3513 0 0 0 -5 250 0", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := parseProcStat(tc.line)
			got := st.cpu
			if tc.wantErr {
				if err == nil {
					t.Fatalf("parseProcStat's cpu = %d, want an error", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("parseProcStat's cpu = %d, %v; want %d", got, err, tc.want)
			}
		})
	}
	// Field 4 is the parent; 16 and 17 (cutime, cstime) the children waited for.
	st, err := parseProcStat("1234 (postgres) S 77 1234 1234 0 -1 4194560 3513 0 0 0 1500 250 30 12 20 0 9 0 123456")
	if err != nil || st != (procStat{ppid: 77, cpu: 1750, reaped: 42}) {
		t.Errorf("parseProcStat = %+v, %v; want ppid 77, cpu 1750, reaped 42", st, err)
	}
	if d := ticksToDuration(1750); d != 17500*time.Millisecond {
		t.Errorf("ticksToDuration(1750) = %v, want 17.5s", d)
	}
}

// TestCPUTimeGrows reads this very process's /proc stat while it burns CPU: the count must
// move within a few seconds.
func TestCPUTimeGrows(t *testing.T) {
	t.Parallel()
	before, err := cpuTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	x := 0
	for time.Now().Before(deadline) {
		for i := range 1_000_000 {
			x += i
		}
		now, err := cpuTime(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if now > before {
			return
		}
	}
	t.Fatalf("CPU time stayed at %v for 10 s of work (%d)", before, x)
}

func msec(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestPercentile(t *testing.T) {
	t.Parallel()
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[len(hundred)-1-i] = msec(i + 1) // descending: percentile must sort
	}
	ten := []time.Duration{msec(7), msec(3), msec(10), msec(1), msec(5), msec(2), msec(9), msec(4), msec(8), msec(6)}
	for _, tc := range []struct {
		name string
		ds   []time.Duration
		p    float64
		want time.Duration
	}{
		{"none", nil, 50, 0},
		{"one p50", []time.Duration{msec(5)}, 50, msec(5)},
		{"one p99", []time.Duration{msec(5)}, 99, msec(5)},
		{"hundred p50", hundred, 50, msec(50)},
		{"hundred p99", hundred, 99, msec(99)},
		{"hundred p100", hundred, 100, msec(100)},
		{"ten p50", ten, 50, msec(5)},
		{"ten p99", ten, 99, msec(10)},
		{"ten p1", ten, 1, msec(1)},
	} {
		if got := percentile(tc.ds, tc.p); got != tc.want {
			t.Errorf("%s: percentile = %v, want %v", tc.name, got, tc.want)
		}
	}
	if ten[0] != msec(7) {
		t.Error("percentile sorted its argument")
	}
}

func TestTable(t *testing.T) {
	t.Parallel()
	rows := []row{
		{system: "bare", label: "bare", updates: 1000, took: time.Second, p50: msec(3), p99: msec(9), serverCPU: 300 * time.Millisecond, stubCPU: 100 * time.Millisecond},
		{system: "none", label: "none", updates: 1000, took: 2 * time.Second, p50: msec(6), p99: msec(18), serverCPU: 600 * time.Millisecond, stubCPU: 100 * time.Millisecond},
		{system: "sqlite", label: "sqlite", updates: 2000, took: 4 * time.Second, serverCPU: 3 * time.Second, stubCPU: 200 * time.Millisecond},
	}
	for _, tc := range []struct {
		row, base string
		want      float64
	}{
		{"bare", "bare", 1}, {"none", "bare", 2}, {"sqlite", "bare", 5}, {"sqlite", "none", 2.5}, {"bare", "none", 0.5},
	} {
		i := slices.IndexFunc(rows, func(r row) bool { return r.system == tc.row })
		if got, ok := ratio(rows, rows[i], tc.base); !ok || got != tc.want {
			t.Errorf("ratio(%s, %s) = %v, %v; want %v", tc.row, tc.base, got, ok, tc.want)
		}
	}
	if _, ok := ratio(rows[1:], rows[1], "bare"); ok {
		t.Error("ratio to a system that was not run is ok")
	}

	var out bytes.Buffer
	printTable(&out, rows)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{
		"| bare | 1,000 | 3.0 ms | 9.0 ms | 300 | 1.00x | 0.50x | 100 |",
		"| none | 500 | 6.0 ms | 18.0 ms | 600 | 2.00x | 1.00x | 100 |",
		"| sqlite | 500 | 0.0 ms | 0.0 ms | 1,500 | 5.00x | 2.50x | 100 |",
	}
	if len(lines) != 2+len(want) || !slices.Equal(lines[2:], want) {
		t.Errorf("table:\n%s\nwant rows:\n%s", out.String(), strings.Join(want, "\n"))
	}

	out.Reset()
	printTable(&out, rows[2:])
	if got := strings.Split(strings.TrimSpace(out.String()), "\n")[2]; got != "| sqlite | 500 | 0.0 ms | 0.0 ms | 1,500 | - | - | 100 |" {
		t.Errorf("without the bases: %q", got)
	}
}

// Over rounds, each system's ratio to each base is listed round by round, taken within the
// round, with the median; a base that was not run gives no line.
func TestSpread(t *testing.T) {
	t.Parallel()
	round := func(bare, none, sqlite time.Duration) []row {
		return []row{
			{system: "bare", updates: 1000, serverCPU: bare},
			{system: "none", updates: 1000, serverCPU: none},
			{system: "sqlite", updates: 1000, serverCPU: sqlite},
		}
	}
	ms := time.Millisecond
	rounds := [][]row{round(300*ms, 600*ms, 1200*ms), round(400*ms, 600*ms, 1500*ms), round(200*ms, 500*ms, 1000*ms)}
	var out bytes.Buffer
	printSpread(&out, rounds)
	want := []string{
		"ratios in each of 3 rounds (median last):",
		"",
		"- none / bare: 2.00x, 1.50x, 2.50x (median 2.00x)",
		"- sqlite / bare: 4.00x, 3.75x, 5.00x (median 4.00x)",
		"- sqlite / none: 2.00x, 2.50x, 2.00x (median 2.00x)",
	}
	if got := strings.Split(strings.TrimSpace(out.String()), "\n"); !slices.Equal(got, want) {
		t.Errorf("spread:\n%s\nwant:\n%s", out.String(), strings.Join(want, "\n"))
	}
	// With the async system and the SQLite store, how fast the queue drained against the
	// store's synchronous rate, round by round.
	drainRound := func(direct, drained float64) []row {
		return []row{{system: "sqlite", updates: 1000, took: time.Duration(float64(time.Second) * 1000 / direct)}, {system: "async", drained: drained}}
	}
	out.Reset()
	printSpread(&out, [][]row{drainRound(2000, 1000), drainRound(2500, 1000), drainRound(2000, 1200)})
	if got := strings.Split(strings.TrimSpace(out.String()), "\n"); got[len(got)-1] != "- async drained / sqlite delivered (updates/s): 0.50x, 0.40x, 0.60x (median 0.50x)" {
		t.Errorf("drain spread:\n%s", out.String())
	}
	if l := drainLine(drainRound(2000, 1000)); l != "async drained 0.50x as fast as the SQLite store delivered synchronously (updates/s)." {
		t.Errorf("drain line: %q", l)
	}
	if l := drainLine(drainRound(2000, 1000)[:1]); l != "" {
		t.Errorf("drain line without the async system: %q", l)
	}
	out.Reset()
	printSpread(&out, [][]row{rounds[0][2:], rounds[1][2:]})
	if got := strings.TrimSpace(out.String()); got != "ratios in each of 2 rounds (median last):" {
		t.Errorf("without the bases: %q", got)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median of four = %v", m)
	}
}

func TestThousands(t *testing.T) {
	t.Parallel()
	for x, want := range map[float64]string{0: "0", 999.4: "999", 999.6: "1,000", 12345.6: "12,346", 1234567: "1,234,567", -4321: "-4,321"} {
		if got := thousands(x); got != want {
			t.Errorf("thousands(%v) = %q, want %q", x, got, want)
		}
	}
}

func TestQueuedMetric(t *testing.T) {
	t.Parallel()
	page := `# HELP gateway_deliveries_queued_total something else
gateway_deliveries_queued_total 99
# HELP gateway_deliveries_queued Vendor deliveries waiting in the durable queue.
# TYPE gateway_deliveries_queued gauge
gateway_deliveries_queued 42
go_goroutines 17
`
	if n, err := queuedMetric(strings.NewReader(page)); err != nil || n != 42 {
		t.Errorf("queuedMetric = %v, %v; want 42", n, err)
	}
	if n, err := queuedMetric(strings.NewReader("go_goroutines 17\n")); err == nil {
		t.Errorf("queuedMetric without the gauge = %v, want an error", n)
	}
}

func TestAddresses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		read    addrFunc
		line    string
		want    string
		wantErr bool
	}{
		{"stub", listeningAddr, "listening 127.0.0.1:41234", "127.0.0.1:41234", false},
		{"stub, other line", listeningAddr, "stub: something", "", false},
		{"gateway", gatewayAddr, `{"level":"info","addr":"127.0.0.1:8080","vendors":["happytalk","ladiflow","engagelab"],"message":"gateway listening"}`, "127.0.0.1:8080", false},
		{"gateway, other line", gatewayAddr, `{"level":"info","message":"sandbox: started"}`, "", false},
		{"gateway, not JSON", gatewayAddr, `gateway listening`, "", false},
		{"gateway, a vendor missing", gatewayAddr, `{"addr":"127.0.0.1:8080","vendors":["happytalk","ladiflow"],"message":"gateway listening"}`, "", true},
	} {
		got, err := tc.read(tc.line)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("%s: %q, %v; want %q (error: %v)", tc.name, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestParseFlags(t *testing.T) {
	t.Parallel()
	o, err := parseFlags(nil, &bytes.Buffer{})
	if err != nil || o.n != 3000 || o.c != 32 || o.warmup != 300 || o.rounds != 1 || !slices.Equal(o.systems, []string{"bare", "none", "sqlite", "async"}) {
		t.Errorf("defaults: %+v, %v", o, err)
	}
	if o, err := parseFlags([]string{"-systems", "none, bare"}, &bytes.Buffer{}); err != nil || !slices.Equal(o.systems, []string{"none", "bare"}) {
		t.Errorf("-systems none,bare: %v, %v", o.systems, err)
	}
	if o, err := parseFlags([]string{"-rounds", "3"}, &bytes.Buffer{}); err != nil || o.rounds != 3 || o.n != 3000 {
		t.Errorf("-rounds 3: %+v, %v", o, err)
	}
	set := []string{"-set", "GATEWAY_QUEUE_WORKERS=16", "-set", "GATEWAY_LOG_LEVEL=debug", "-set", "GATEWAY_LOG_LEVEL=INFO"}
	if o, err := parseFlags(set, &bytes.Buffer{}); err != nil || !slices.Equal(o.set, []string{"GATEWAY_QUEUE_WORKERS=16", "GATEWAY_LOG_LEVEL=debug", "GATEWAY_LOG_LEVEL=INFO"}) {
		t.Errorf("-set twice: %q, %v", o.set, err)
	}
	const pgURL = "postgres://u@127.0.0.1:5432/db?sslmode=disable"
	if o, err := parseFlags([]string{"-postgres", pgURL}, &bytes.Buffer{}); err != nil || !slices.Equal(o.systems, []string{"bare", "none", "sqlite", "async", "postgres"}) || o.postgres != pgURL {
		t.Errorf("-postgres alone adds the system: %v, %q, %v", o.systems, o.postgres, err)
	}
	if o, err := parseFlags([]string{"-postgres", pgURL, "-systems", "none"}, &bytes.Buffer{}); err != nil || !slices.Equal(o.systems, []string{"none"}) {
		t.Errorf("-systems wins over -postgres: %v, %v", o.systems, err)
	}
	for _, args := range [][]string{{"-systems", "krakend"}, {"-systems", ","}, {"-systems", "none,postgres"},
		{"-systems", "postgres", "-postgres", "127.0.0.1:5432"}, {"-postgres", "mysql://u@h/db"}, {"-n", "0"}, {"-c", "0"}, {"-warmup", "-1"}, {"extra"},
		{"-set", "GATEWAY_QUEUE_WORKERS"}, {"-set", "=16"}, {"-set", "HAPPYTALK_TOKEN=t"}, {"-set", "PATH=/tmp"},
		{"-set", "GATEWAY_DATABASE_URL=none"}, {"-set", "GATEWAY_ADDR=0.0.0.0:80"}, {"-rounds", "0"}, {"-rounds", "10"},
		{"-set", "GATEWAY_LOG_LEVEL=warn"}, {"-set", "GATEWAY_LOG_LEVEL=2"}, {"-set", "GATEWAY_LOG_LEVEL=loud"}, {"-set", "GATEWAY_LOG_FORMAT=console"}} {
		if _, err := parseFlags(args, &bytes.Buffer{}); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}

func TestServerEnv(t *testing.T) {
	t.Parallel()
	got := serverEnv([]string{"PATH=/bin", "GATEWAY_AUTH=x", "HAPPYTALK_TOKEN=t", "LADIFLOW_API_KEY=k", "ENGAGELAB_API_KEY=k", "HOME=/h"})
	if !slices.Equal(got, []string{"PATH=/bin", "HOME=/h"}) {
		t.Errorf("serverEnv = %q", got)
	}
}

// A gateway's environment has the bench's defaults and the stub's accounts, and -set's
// settings over them, the last of a name winning; nothing of the caller's GATEWAY_ ones.
func TestGatewayEnv(t *testing.T) {
	t.Parallel()
	b := &bench{
		opts: options{set: []string{"GATEWAY_QUEUE_WORKERS=16", "GATEWAY_RATE_LIMIT=5", "GATEWAY_QUEUE_WORKERS=32"}},
		env:  serverEnv([]string{"PATH=/bin", "GATEWAY_QUEUE_WORKERS=4"}),
		stub: &process{addr: "127.0.0.1:9"},
	}
	env := b.gatewayEnv("none")
	want := []string{"PATH=/bin", "GATEWAY_AUTH=none", "GATEWAY_DATABASE_URL=none", "GATEWAY_RATE_LIMIT=5", "GATEWAY_QUEUE_WORKERS=32"}
	for _, kv := range want {
		if !slices.Contains(env, kv) {
			t.Errorf("no %s in %q", kv, env)
		}
	}
	for _, kv := range env {
		if kv == "GATEWAY_QUEUE_WORKERS=4" || kv == "GATEWAY_QUEUE_WORKERS=16" || kv == "GATEWAY_RATE_LIMIT=0" {
			t.Errorf("%s in %q", kv, env)
		}
		if strings.HasPrefix(kv, "LADIFLOW_") && strings.Contains(kv, "URL") && !strings.Contains(kv, "127.0.0.1:9") {
			t.Errorf("%s does not point at the stub", kv)
		}
	}
}

// The drain's polls wait a quarter of what the queue still needs at the rate seen, within
// 50 ms and a second, and 100 ms until the queue has moved.
func TestNextPoll(t *testing.T) {
	for _, tc := range []struct {
		first, last float64
		elapsed     time.Duration
		want        time.Duration
	}{
		{9000, 9000, 0, 100 * time.Millisecond},                     // nothing seen to move yet
		{9000, 9000, time.Second, 100 * time.Millisecond},           // stuck: keep looking
		{9000, 8000, time.Second, time.Second},                      // 8 s to go: at most a second
		{9000, 6000, 10 * time.Second, time.Second},                 // 300/s, 20 s to go
		{9000, 1000, 8 * time.Second, 250 * time.Millisecond},       // 1000/s, 1 s to go
		{9000, 100, 8900 * time.Millisecond, 50 * time.Millisecond}, // 1000/s, 0.1 s to go: the floor
	} {
		if got := nextPoll(tc.first, tc.last, tc.elapsed); got != tc.want {
			t.Errorf("nextPoll(%v, %v, %v) = %v, want %v", tc.first, tc.last, tc.elapsed, got, tc.want)
		}
	}
}
