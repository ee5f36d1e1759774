package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"
)

const testKey = "gk_test_SECRET_0123456789"

// expect is the one request a fake gateway accepts, and its answer.
type expect struct {
	method string
	// uri is the request target exactly as sent: escaped path and sorted query.
	uri string
	// auth is the Authorization header wanted; "" wants none at all.
	auth   string
	status int
	ctype  string // default application/json, or application/problem+json for 4xx/5xx
	body   string
}

// fakeGateway starts a gateway on 127.0.0.1 that checks each request against e and answers
// e's body; a request that differs fails the test and is answered 500. It returns the base
// URL and the count of requests it received.
func fakeGateway(t *testing.T, e expect) (string, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		bad := false
		if r.Method != e.method {
			t.Errorf("method = %s, want %s", r.Method, e.method)
			bad = true
		}
		if r.RequestURI != e.uri {
			t.Errorf("request target = %q, want %q", r.RequestURI, e.uri)
			bad = true
		}
		got := r.Header.Values("Authorization")
		switch {
		case e.auth == "" && len(got) != 0:
			t.Errorf("Authorization = %q, want none", got)
			bad = true
		case e.auth != "" && (len(got) != 1 || got[0] != e.auth):
			t.Errorf("Authorization = %q, want %q", got, e.auth)
			bad = true
		}
		if bad {
			http.Error(w, "unexpected request", http.StatusInternalServerError)
			return
		}
		ct := e.ctype
		if ct == "" {
			ct = "application/json"
			if e.status >= 400 {
				ct = "application/problem+json"
			}
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(e.status)
		_, _ = w.Write([]byte(e.body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &hits
}

// run runs the CLI with env as its whole environment.
func run(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	code = Run(ctx, args, func(k string) string { return env[k] }, &out, &errOut)
	so, se := out.String(), errOut.String()
	if strings.Contains(so, testKey) || strings.Contains(se, testKey) {
		t.Errorf("the key was printed:\nstdout:\n%s\nstderr:\n%s", so, se)
	}
	return code, so, se
}

const updateBody = `{"update_id":"0190f0c2-7c1e-7a3b-9d2e-5f1a2b3c4d5e","customer_id":"c-1","caller":"crm",
"received_at":"2026-03-01T09:30:00.123456Z","outcome":"partial","results":{
"ladiflow":{"status":"queued","attempts":3,"queued_until":"2026-03-02T09:30:00Z","reason":"vendor_unavailable","error":{"vendor_code":503,"message":"maintenance"},"warnings":[]},
"happytalk":{"status":"ok","attempts":1,"delivered_at":"2026-03-01T09:30:01.5Z","warnings":[]},
"engagelab":{"status":"rejected","attempts":1,"error":{"vendor_code":422,"message":"phone: not a number"},"warnings":["name cut to 40 characters"]}}}`

const updateTable = `update 0190f0c2-7c1e-7a3b-9d2e-5f1a2b3c4d5e  customer c-1  caller crm  received 2026-03-01T09:30:00Z  outcome partial

VENDOR     STATUS    ATTEMPTS  DELIVERED/QUEUED-UNTIL  ERROR
engagelab  rejected  1         -                       422: phone: not a number
happytalk  ok        1         2026-03-01T09:30:01Z    -
ladiflow   queued    3         2026-03-02T09:30:00Z    vendor_unavailable; 503: maintenance
`

const deliveryFailed = `{"delivery_id":"d-2","update_id":"u-2","update_ids":["u-2"],"customer_id":"c-1","vendor":"ladiflow","status":"failed","attempts":7,"queued_at":"2026-03-01T09:30:00Z","queued_until":"2026-03-02T09:30:00Z","ended_at":"2026-03-02T09:30:00Z","error":"ladiflow answered 503: maintenance","retryable":true}`

const listBody = `{"deliveries":[` + deliveryFailed + `,
{"delivery_id":"d-1","update_id":"u-1","customer_id":"c-1","vendor":"ladiflow","status":"failed","attempts":2,"queued_at":"2026-02-28T10:00:00Z","queued_until":"2026-03-01T10:00:00.999Z","error":{"vendor_code":500,"message":"boom"}}],
"next_cursor":"d-1"}`

const listTable = `DELIVERY  STATUS  VENDOR    CUSTOMER  ATTEMPTS  QUEUED-UNTIL          ERROR
d-2       failed  ladiflow  c-1       7         2026-03-02T09:30:00Z  ladiflow answered 503: maintenance
d-1       failed  ladiflow  c-1       2         2026-03-01T10:00:00Z  500: boom
next: gateway deliveries list --status failed --vendor ladiflow --customer c-1 --limit 2 --cursor d-1
`

const retriedBody = `{"delivery_id":"d-2","update_id":"u-2","customer_id":"c-1","vendor":"ladiflow","status":"queued","attempts":0,"queued_at":"2026-03-03T08:00:00Z","queued_until":"2026-03-04T08:00:00Z"}`

const retriedTable = `DELIVERY  STATUS  VENDOR    CUSTOMER  ATTEMPTS  QUEUED-UNTIL          ERROR
d-2       queued  ladiflow  c-1       0         2026-03-04T08:00:00Z  -
`

const cancelledBody = `{"delivery_id":"d-3","update_id":"u-3","customer_id":"c-9","vendor":"happytalk","status":"cancelled","attempts":4,"queued_at":"2026-03-03T08:00:00Z","queued_until":"2026-03-04T08:00:00Z","ended_at":"2026-03-03T09:00:00Z"}`

const cancelledTable = `DELIVERY  STATUS     VENDOR     CUSTOMER  ATTEMPTS  QUEUED-UNTIL          ERROR
d-3       cancelled  happytalk  c-9       4         2026-03-04T08:00:00Z  -
`

// indented is body as --json must print it.
func indented(t *testing.T, body string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(body), "", "  "); err != nil {
		t.Fatal(err)
	}
	return buf.String() + "\n"
}

// TestCommands runs every subcommand against a gateway that checks what it receives, as a
// table and with --json.
func TestCommands(t *testing.T) {
	t.Parallel()
	listArgs := []string{"deliveries", "list", "--status", "failed", "--vendor", "ladiflow", "--customer", "c-1", "--limit", "2"}
	cases := []struct {
		name string
		args []string
		want expect
		out  string
	}{
		{"updates get", []string{"updates", "get", "0190f0c2-7c1e-7a3b-9d2e-5f1a2b3c4d5e"},
			expect{method: "GET", uri: "/updates/0190f0c2-7c1e-7a3b-9d2e-5f1a2b3c4d5e", status: 200, body: updateBody}, updateTable},
		{"deliveries list", listArgs,
			expect{method: "GET", uri: "/deliveries?customer_id=c-1&limit=2&status=failed&vendor=ladiflow", status: 200, body: listBody}, listTable},
		{"deliveries list with a cursor", []string{"deliveries", "list", "--cursor", "d-1"},
			expect{method: "GET", uri: "/deliveries?cursor=d-1", status: 200, body: `{"deliveries":[],"next_cursor":null}`}, "no deliveries\n"},
		{"deliveries list, a hint to quote", []string{"deliveries", "list", "--vendor", "lädi flow"},
			expect{method: "GET", uri: "/deliveries?vendor=l%C3%A4di+flow", status: 200, body: `{"deliveries":[],"next_cursor":"c;$(id)"}`},
			"no deliveries\nnext: gateway deliveries list --vendor 'lädi flow' --cursor 'c;$(id)'\n"},
		{"deliveries retry", []string{"deliveries", "retry", "d-2"},
			expect{method: "POST", uri: "/deliveries/d-2/retry", status: 202, body: retriedBody}, retriedTable},
		{"deliveries cancel", []string{"deliveries", "cancel", "d-3"},
			expect{method: "DELETE", uri: "/deliveries/d-3", status: 200, body: cancelledBody}, cancelledTable},
	}
	for _, tc := range cases {
		for _, asJSON := range []bool{false, true} {
			name := tc.name
			if asJSON {
				name += " --json"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				e := tc.want
				e.auth = "Bearer " + testKey
				base, hits := fakeGateway(t, e)
				args := append([]string{}, tc.args...)
				want := tc.out
				if asJSON {
					args = append(args, "--json")
					want = indented(t, e.body)
				}
				code, stdout, stderr := run(t, map[string]string{"GATEWAY_URL": base, "GATEWAY_API_KEY": testKey}, args...)
				if code != 0 || stderr != "" {
					t.Fatalf("exit %d, stderr:\n%s", code, stderr)
				}
				if stdout != want {
					t.Errorf("stdout:\n%s\nwant:\n%s", stdout, want)
				}
				if n := hits.Load(); n != 1 {
					t.Errorf("the gateway got %d requests, want 1", n)
				}
			})
		}
	}
}

// TestConnection checks where the request goes and with which key: flags over the
// environment, the environment over the defaults, and no Authorization header without a key.
func TestConnection(t *testing.T) {
	t.Parallel()
	t.Run("--url and --key over the environment", func(t *testing.T) {
		t.Parallel()
		base, _ := fakeGateway(t, expect{method: "GET", uri: "/updates/u-1", auth: "Bearer flag-key", status: 200, body: updateBody})
		env := map[string]string{"GATEWAY_URL": "http://127.0.0.1:1", "GATEWAY_API_KEY": testKey}
		if code, _, stderr := run(t, env, "updates", "get", "--url", base, "--key", "flag-key", "u-1"); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	})
	t.Run("no key sends no Authorization", func(t *testing.T) {
		t.Parallel()
		base, _ := fakeGateway(t, expect{method: "GET", uri: "/updates/u-1", status: 200, body: updateBody})
		if code, _, stderr := run(t, map[string]string{"GATEWAY_URL": base}, "updates", "get", "u-1"); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	})
	t.Run("a key file's trailing newline is not sent", func(t *testing.T) {
		t.Parallel()
		base, _ := fakeGateway(t, expect{method: "GET", uri: "/updates/u-1", auth: "Bearer " + testKey, status: 200, body: updateBody})
		if code, _, stderr := run(t, map[string]string{"GATEWAY_URL": base, "GATEWAY_API_KEY": testKey + "\n"}, "updates", "get", "u-1"); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	})
	t.Run("a path prefix is kept", func(t *testing.T) {
		t.Parallel()
		base, _ := fakeGateway(t, expect{method: "POST", uri: "/gw/deliveries/d-1/retry", status: 202, body: retriedBody})
		if code, _, stderr := run(t, nil, "deliveries", "retry", "d-1", "--url", base+"/gw/"); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	})
	t.Run("the default is 127.0.0.1:8080", func(t *testing.T) {
		t.Parallel()
		inv, err := findCommand(commands["updates"], "get").parse("updates get", []string{"u-1"}, func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		if got := inv.client.base.String(); got != "http://127.0.0.1:8080" {
			t.Errorf("base = %s", got)
		}
		if inv.client.http.Timeout != 30*time.Second {
			t.Errorf("timeout = %s", inv.client.http.Timeout)
		}
	})
}

// TestEscaping checks that an id is one path segment, whatever it holds.
func TestEscaping(t *testing.T) {
	t.Parallel()
	const id = "a/b?c#d e%"
	const esc = "a%2Fb%3Fc%23d%20e%25"
	cases := []struct {
		args []string
		want expect
	}{
		{[]string{"updates", "get", id}, expect{method: "GET", uri: "/updates/" + esc, status: 200, body: updateBody}},
		{[]string{"deliveries", "retry", id}, expect{method: "POST", uri: "/deliveries/" + esc + "/retry", status: 202, body: retriedBody}},
		{[]string{"deliveries", "cancel", id}, expect{method: "DELETE", uri: "/deliveries/" + esc, status: 200, body: cancelledBody}},
		{[]string{"deliveries", "list", "--vendor", "a&b=c", "--cursor", "x?y/z"}, expect{method: "GET", uri: "/deliveries?cursor=x%3Fy%2Fz&vendor=a%26b%3Dc", status: 200, body: listBody}},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args[:2], " "), func(t *testing.T) {
			t.Parallel()
			base, hits := fakeGateway(t, tc.want)
			if code, _, stderr := run(t, map[string]string{"GATEWAY_URL": base}, tc.args...); code != 0 || hits.Load() != 1 {
				t.Fatalf("exit %d, %d requests: %s", code, hits.Load(), stderr)
			}
		})
	}
}

// TestFlagsAfterID checks that flags are read before, after and around the id, and that "--"
// lets an id start with a dash.
func TestFlagsAfterID(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args func(base string) []string
		uri  string
	}{
		{"after", func(b string) []string {
			return []string{"deliveries", "retry", "d-2", "--json", "--url", b, "--key", testKey, "--timeout", "5s"}
		}, "/deliveries/d-2/retry"},
		{"before", func(b string) []string {
			return []string{"deliveries", "retry", "--json", "--url", b, "--key=" + testKey, "d-2"}
		}, "/deliveries/d-2/retry"},
		{"around", func(b string) []string {
			return []string{"deliveries", "retry", "--url", b, "d-2", "--key", testKey, "-json"}
		}, "/deliveries/d-2/retry"},
		{"an id after --", func(b string) []string {
			return []string{"deliveries", "retry", "--url", b, "--key", testKey, "--json", "--", "-d-2"}
		}, "/deliveries/-d-2/retry"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			base, _ := fakeGateway(t, expect{method: "POST", uri: tc.uri, auth: "Bearer " + testKey, status: 202, body: retriedBody})
			code, stdout, stderr := run(t, nil, tc.args(base)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if stdout != indented(t, retriedBody) {
				t.Errorf("--json was not applied; stdout:\n%s", stdout)
			}
		})
	}
}

// TestProblems checks that an error answer exits 1 and says on stderr what the gateway said,
// and with --json also prints the problem's body on stdout.
func TestProblems(t *testing.T) {
	t.Parallel()
	notFound := `{"type":"https://gateway.example/problems/not-found","title":"Not Found","status":404,"detail":"no update with this id is kept","request_id":"req-7"}`
	conflict := `{"type":"https://gateway.example/problems/conflict","title":"Conflict","status":409,"detail":"the delivery has ended: there is nothing left to cancel"}`
	invalid := `{"type":"https://gateway.example/problems/invalid","title":"Invalid request","status":400,"detail":"the query is not valid","errors":[{"field":"status","message":"must be one of queued, failed, rejected, cancelled"}]}`
	cases := []struct {
		name   string
		args   []string
		want   expect
		stderr []string
	}{
		{"updates get 404", []string{"updates", "get", "u-404"},
			expect{method: "GET", uri: "/updates/u-404", status: 404, body: notFound},
			[]string{"Not Found (404)", "no update with this id is kept", "request id: req-7"}},
		{"deliveries retry 409", []string{"deliveries", "retry", "d-1"},
			expect{method: "POST", uri: "/deliveries/d-1/retry", status: 409, body: strings.Replace(conflict, "has ended: there is nothing left to cancel", "is still queued", 1)},
			[]string{"Conflict (409)", "the delivery is still queued"}},
		{"deliveries cancel 409", []string{"deliveries", "cancel", "d-1"},
			expect{method: "DELETE", uri: "/deliveries/d-1", status: 409, body: conflict},
			[]string{"Conflict (409)", "nothing left to cancel"}},
		{"deliveries list 400", []string{"deliveries", "list", "--status", "lost"},
			expect{method: "GET", uri: "/deliveries?status=lost", status: 400, body: invalid},
			[]string{"Invalid request (400)", "the query is not valid", "status: must be one of queued"}},
		{"forbidden without a title", []string{"deliveries", "list"},
			expect{method: "GET", uri: "/deliveries", status: 403, body: `{"status":403,"detail":"the key lacks deliveries:manage"}`},
			[]string{"Forbidden (403)", "the key lacks deliveries:manage"}},
		{"a proxy's page", []string{"updates", "get", "u-1"},
			expect{method: "GET", uri: "/updates/u-1", status: 502, ctype: "text/html", body: "<html>bad gateway</html>\n<p>more</p>"},
			[]string{"Bad Gateway (502)", "<html>bad gateway</html>"}},
	}
	for _, tc := range cases {
		for _, asJSON := range []bool{false, true} {
			name := tc.name
			if asJSON {
				name += " --json"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				e := tc.want
				e.auth = "Bearer " + testKey
				base, _ := fakeGateway(t, e)
				args := append([]string{}, tc.args...)
				if asJSON {
					args = append(args, "--json")
				}
				code, stdout, stderr := run(t, map[string]string{"GATEWAY_URL": base, "GATEWAY_API_KEY": testKey}, args...)
				if code != 1 {
					t.Errorf("exit %d, want 1", code)
				}
				for _, s := range tc.stderr {
					if !strings.Contains(stderr, s) {
						t.Errorf("stderr lacks %q:\n%s", s, stderr)
					}
				}
				if strings.Contains(stderr, "usage:") {
					t.Errorf("an answered error printed the usage:\n%s", stderr)
				}
				wantOut := ""
				if asJSON && json.Valid([]byte(e.body)) {
					wantOut = indented(t, e.body)
				}
				if stdout != wantOut {
					t.Errorf("stdout:\n%s\nwant:\n%s", stdout, wantOut)
				}
			})
		}
	}
}

// TestFailures checks what is not an answer: an unreachable gateway, a slow one past
// --timeout, a success whose body is not the JSON expected. Each exits 1.
func TestFailures(t *testing.T) {
	t.Parallel()
	t.Run("unreachable", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.NotFoundHandler())
		base := srv.URL
		srv.Close()
		code, _, stderr := run(t, map[string]string{"GATEWAY_URL": base, "GATEWAY_API_KEY": testKey}, "updates", "get", "u-1")
		if code != 1 || !strings.Contains(stderr, "cannot reach the gateway") {
			t.Errorf("exit %d, stderr:\n%s", code, stderr)
		}
	})
	t.Run("slower than --timeout", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		t.Cleanup(srv.Close)
		t.Cleanup(func() { close(release) })
		start := time.Now()
		code, _, stderr := run(t, nil, "deliveries", "list", "--url", srv.URL, "--timeout", "200ms")
		if code != 1 || !strings.Contains(stderr, "Timeout") {
			t.Errorf("exit %d, stderr:\n%s", code, stderr)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %s", d)
		}
	})
	t.Run("not the JSON expected", func(t *testing.T) {
		t.Parallel()
		base, _ := fakeGateway(t, expect{method: "GET", uri: "/deliveries", status: 200, body: `{"deliveries":"none"}`})
		code, stdout, stderr := run(t, map[string]string{"GATEWAY_URL": base}, "deliveries", "list")
		if code != 1 || stdout != "" || !strings.Contains(stderr, "not the JSON expected") {
			t.Errorf("exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
		}
	})
	t.Run("--json of a body that is not JSON", func(t *testing.T) {
		t.Parallel()
		base, _ := fakeGateway(t, expect{method: "GET", uri: "/updates/u-1", status: 200, body: `not json`})
		code, stdout, stderr := run(t, map[string]string{"GATEWAY_URL": base}, "updates", "get", "u-1", "--json")
		if code != 1 || stdout != "" || !strings.Contains(stderr, "not JSON") {
			t.Errorf("exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
		}
	})
}

// TestUsage checks that a command line the CLI cannot run exits 2 with the usage and sends
// nothing, and that --help prints the usage on stdout and exits 0.
func TestUsage(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	env := map[string]string{"GATEWAY_URL": srv.URL, "GATEWAY_API_KEY": testKey}
	bad := [][]string{
		{},
		{"update", "get", "u-1"},
		{"updates"},
		{"updates", "list"},
		{"updates", "get"},
		{"updates", "get", "u-1", "u-2"},
		{"updates", "get", ".."},
		{"updates", "get", ""},
		{"updates", "get", "u-1", "--status", "failed"},
		{"deliveries"},
		{"deliveries", "list", "d-1"},
		{"deliveries", "list", "--limit", "ten"},
		{"deliveries", "list", "--limit", "-1"},
		{"deliveries", "list", "--bogus"},
		{"deliveries", "retry"},
		{"deliveries", "cancel", "d-1", "--timeout", "0s"},
		{"deliveries", "cancel", "d-1", "--url", "127.0.0.1:8080"},
		{"deliveries", "cancel", "d-1", "--url", "ftp://127.0.0.1"},
		{"deliveries", "cancel", "d-1", "--url", "http://127.0.0.1:8080/?x=1"},
		{"deliveries", "cancel", "d-1", "--key"},
	}
	for _, args := range bad {
		code, stdout, stderr := run(t, env, args...)
		if code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
		if stdout != "" || !strings.Contains(stderr, "usage: gateway ") {
			t.Errorf("%q: stdout %q, stderr:\n%s", args, stdout, stderr)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("usage errors sent %d requests", n)
	}
	for _, args := range [][]string{{"--help"}, {"updates", "--help"}, {"deliveries", "-h"}, {"deliveries", "list", "--help"}, {"updates", "get", "u-1", "-h"}} {
		code, stdout, stderr := run(t, env, args...)
		if code != 0 || stderr != "" || stdout != usageText {
			t.Errorf("%q: exit %d, stderr %q, stdout:\n%s", args, code, stderr, stdout)
		}
	}
	if hits.Load() != 0 {
		t.Error("--help sent a request")
	}
}

// hostile is text a hostile server might send to take over the terminal: colour and cursor
// escapes, a C1 control sequence introducer, a bell, a title-setting OSC, a right-to-left
// override, invalid UTF-8, and line breaks to forge rows.
const hostile = "\x1b[31mred\x1b[0m\u009b2J\x07\x1b]0;owned\x07\u202eevil\xff\nforged\trow\r"

// TestHostileText checks that nothing a terminal would act on reaches it: not in a table, not
// in --json (where the value must survive as escapes), not in an error on stderr.
func TestHostileText(t *testing.T) {
	t.Parallel()
	jsonHostile, err := json.Marshal(hostile) // escapes C0, keeps C1 and U+202E raw, replaces \xff
	if err != nil {
		t.Fatal(err)
	}
	// A raw C1 and U+202E and invalid UTF-8 are valid inside a JSON string as a server may
	// send it; put them back raw, as json.Marshal would not.
	raw := strings.NewReplacer(`\u202e`, "\u202e", `\ufffd`, "\xff").Replace(string(jsonHostile))
	update := `{"update_id":` + raw + `,"customer_id":"c-1","caller":` + raw + `,"received_at":` + raw + `,"outcome":"partial",` +
		`"results":{` + raw + `:{"status":` + raw + `,"attempts":1,"reason":` + raw + `,"error":{"vendor_code":` + raw + `,"message":` + raw + `},"warnings":[]}}}`
	list := `{"deliveries":[{"delivery_id":` + raw + `,"update_id":"u","customer_id":` + raw + `,"vendor":` + raw + `,"status":"failed","attempts":1,"queued_at":"2026-03-01T09:30:00Z","queued_until":` + raw + `,"error":` + raw + `}],"next_cursor":` + raw + `}`
	problem := `{"title":` + raw + `,"status":409,"detail":` + raw + `,"errors":[{"field":` + raw + `,"message":` + raw + `}],"request_id":` + raw + `}`
	if !json.Valid([]byte(update)) || !json.Valid([]byte(list)) || !json.Valid([]byte(problem)) {
		t.Fatal("the hostile bodies are not valid JSON")
	}
	for _, r := range "\u009b\u202e" {
		if !strings.ContainsRune(update, r) {
			t.Fatalf("the hostile body lacks %U raw", r)
		}
	}
	cases := []struct {
		name string
		args []string
		want expect
	}{
		{"updates get", []string{"updates", "get", "u-1"}, expect{method: "GET", uri: "/updates/u-1", status: 200, body: update}},
		{"deliveries list", []string{"deliveries", "list"}, expect{method: "GET", uri: "/deliveries", status: 200, body: list}},
		{"deliveries cancel 409", []string{"deliveries", "cancel", "d-1"}, expect{method: "DELETE", uri: "/deliveries/d-1", status: 409, body: problem}},
		{"a proxy's page", []string{"deliveries", "retry", "d-1"}, expect{method: "POST", uri: "/deliveries/d-1/retry", status: 502, ctype: "text/plain", body: hostile}},
	}
	for _, tc := range cases {
		for _, asJSON := range []bool{false, true} {
			name := tc.name
			if asJSON {
				name += " --json"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				base, _ := fakeGateway(t, tc.want)
				args := append([]string{}, tc.args...)
				if asJSON {
					args = append(args, "--json")
				}
				_, stdout, stderr := run(t, map[string]string{"GATEWAY_URL": base}, args...)
				for stream, s := range map[string]string{"stdout": stdout, "stderr": stderr} {
					if r, ok := unsafeIn(s); ok {
						t.Errorf("%s holds %U:\n%q", stream, r, s)
					}
				}
				if !strings.Contains(stdout+stderr, "red") || !strings.Contains(stdout+stderr, "evil") {
					t.Errorf("the printable text was lost:\nstdout %q\nstderr %q", stdout, stderr)
				}
				if asJSON && stdout != "" {
					var got, want any
					if err := json.Unmarshal([]byte(stdout), &got); err != nil {
						t.Fatalf("--json printed invalid JSON: %v\n%q", err, stdout)
					}
					_ = json.Unmarshal([]byte(tc.want.body), &want)
					if !reflect.DeepEqual(got, want) {
						t.Errorf("--json changed the value:\n%#v\nwant\n%#v", got, want)
					}
				}
				if !asJSON && tc.want.status == 200 {
					// One line per row: line breaks in values must not forge rows.
					wantLines := map[string]int{"updates get": 4, "deliveries list": 3}[tc.name]
					if n := strings.Count(stdout, "\n"); n != wantLines {
						t.Errorf("%d lines, want %d:\n%s", n, wantLines, stdout)
					}
				}
			})
		}
	}
}

// unsafeIn finds a rune a terminal would act on in s: any control character but the line
// feed ending a line, a bidirectional control, or invalid UTF-8. It is written apart from the
// package's own list, so a gap there shows here.
func unsafeIn(s string) (rune, bool) {
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			return r, true
		case r == '\n':
		case r < 0x20, r >= 0x7f && r < 0xa0, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			return r, true
		}
	}
	return 0, false
}
