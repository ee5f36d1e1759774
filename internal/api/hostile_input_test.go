package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/customergateway/gateway/internal/model"
)

// hostileRefs are keys for every vendor, so that a request that passed would reach all three.
const hostileRefs = `"vendor_refs":{"happytalk":{"uuid":"u-1","room_id":"r-1"},"ladiflow":{"id":"lf-1"},"engagelab":{"euid":7}}`

// hostileBody is a body that reaches every vendor, with fields laid before the refs.
func hostileBody(fields string) string {
	if fields != "" {
		fields += ","
	}
	return `{"email":"a@example.com",` + fields + hostileRefs + `}`
}

// hostileProblem reads a problem answer.
func hostileProblem(t *testing.T, body []byte) Problem {
	t.Helper()
	var p Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("answer is not a problem: %v\n%s", err, body)
	}
	return p
}

func hostileProblemFields(p Problem) []string {
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Field)
	}
	return out
}

// assertHostileRefused checks that the request was a 400 naming every field of want (and, when
// exact, nothing else), and that nothing reached any vendor.
func assertHostileRefused(t *testing.T, g *testGateway, status int, body []byte, exact bool, want ...string) {
	t.Helper()
	if status != http.StatusBadRequest {
		t.Fatalf("status %d, want 400\n%s", status, body)
	}
	p := hostileProblem(t, body)
	got := hostileProblemFields(p)
	for _, f := range want {
		if !slices.Contains(got, f) {
			t.Errorf("the 400 does not name %s: %q", f, got)
		}
	}
	if exact && len(got) != len(want) {
		t.Errorf("the 400 names %q, want exactly %q", got, want)
	}
	if !slices.IsSortedFunc(p.Errors, func(a, b model.FieldError) int { return strings.Compare(a.Field, b.Field) }) {
		t.Errorf("errors are not sorted by field: %q", got)
	}
	for _, e := range p.Errors {
		if model.TextProblem(e.Field) != "" || model.TextProblem(e.Message) != "" {
			t.Errorf("the answer carries bad text itself: %q: %q", e.Field, e.Message)
		}
	}
	if n := g.received(); n != 0 {
		t.Errorf("%d requests reached a vendor", n)
	}
}

// Every string of the body is checked on its raw bytes: what encoding/json would replace
// with U+FFFD and deliver, or deliver as a NUL, is a 400 naming the field.
func TestHostileBodyText(t *testing.T) {
	t.Parallel()
	// How each bad string is written in JSON text.
	bad := map[string]string{
		"escaped NUL":                   `a\u0000b`,
		"escaped SOH":                   `\u0001`,
		"escaped unit separator":        `\u001f`,
		"escaped carriage return":       `a\rb`,
		"escaped escape (ANSI)":         `\u001b[2J`,
		"escaped backspace":             `a\bb`,
		"escaped form feed":             `a\fb`,
		"escaped DEL":                   `\u007f`,
		"raw DEL":                       "a\x7fb",
		"escaped C1 NEL":                `\u0085`,
		"raw C1 CSI":                    "\u009b2J",
		"escaped C1 U+009F":             `\u009f`,
		"invalid byte 0xff":             "a\xffb",
		"invalid byte 0xfe":             "\xfe",
		"lone continuation byte":        "\x80",
		"truncated sequence":            "\xe3\x81",
		"overlong slash":                "\xc0\xaf",
		"overlong NUL":                  "\xc0\x80",
		"surrogate encoded in UTF-8":    "\xed\xa0\x80",
		"beyond U+10FFFF":               "\xf4\x90\x80\x80",
		"lone high surrogate":           `a\ud800b`,
		"lone low surrogate":            `\udc00`,
		"high surrogate then a letter":  `\ud83d\u0041`,
		"surrogates the wrong way":      `\ude00\ud83d`,
		"high surrogate at the end":     `x\ud83d`,
		"uppercase-hex lone surrogate":  `\uD800`,
		"NUL after valid Hangul":        `김민지\u0000`,
		"invalid byte in a long string": strings.Repeat("가", 150) + "\xff",
	}
	// Where a string can sit, as the body that puts s there and the field it is.
	places := []struct {
		field string
		body  func(s string) string
	}{
		{"full_name", func(s string) string { return hostileBody(`"full_name":"` + s + `"`) }},
		{"last_name", func(s string) string { return hostileBody(`"last_name":"` + s + `"`) }},
		{"company", func(s string) string { return hostileBody(`"company":"` + s + `"`) }},
		{"address.city", func(s string) string { return hostileBody(`"address":{"city":"` + s + `"}`) }},
		{"social.zalo", func(s string) string { return hostileBody(`"social":{"zalo":"` + s + `"}`) }},
		{"order.order_number", func(s string) string { return hostileBody(`"order":{"order_number":"` + s + `"}`) }},
		{"consultation.category_id", func(s string) string { return hostileBody(`"consultation":{"category_id":"` + s + `"}`) }},
		{"tags[2]", func(s string) string { return hostileBody(`"tags":["a","b","` + s + `"]`) }},
		{"attributes.tier", func(s string) string { return hostileBody(`"attributes":{"tier":"` + s + `"}`) }},
		{"attributes.note", func(s string) string { return hostileBody(`"attributes":{"tier":"gold","note":"` + s + `"}`) }},
	}
	g := newTestGateway(t, gatewayOptions{})
	n := 0
	for kind, s := range bad {
		for _, p := range places {
			status, _, body := g.do(http.MethodPut, "/customers/c-1", p.body(s))
			t.Run(kind+" in "+p.field, func(t *testing.T) { assertHostileRefused(t, g, status, body, false, p.field) })
			n++
		}
	}
	t.Logf("%d hostile body values sent", n)
}

// Object keys are strings too: a bad attribute name, a bad unknown field name and a key
// named twice are each named; the names in the answer are quoted, never raw.
func TestHostileBodyKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		fields string
		want   []string
	}{
		{"attribute name with NUL", `"attributes":{"ti\u0000er":"gold"}`, []string{`attributes["ti\x00er"]`}},
		{"attribute name with invalid UTF-8", "\"attributes\":{\"ti\xffer\":\"gold\"}", []string{`attributes["ti\xffer"]`}},
		{"attribute name with a lone surrogate", `"attributes":{"\ud800":"gold"}`, []string{"attributes[\"\ufffd\"]"}},
		{"attribute name with C1", `"attributes":{"tier\u0085":"gold"}`, []string{`attributes["tier\u0085"]`}},
		{"attribute name with DEL", `"attributes":{"tier\u007f":"gold"}`, []string{`attributes["tier\x7f"]`}},
		{"two bad attribute names", `"attributes":{"a\u0000":"x","b\u0001":"y"}`, []string{`attributes["a\x00"]`, `attributes["b\x01"]`}},
		{"unknown field with NUL", `"em\u0000ail":"b@example.com"`, []string{`["em\x00ail"]`}},
		{"unknown field with invalid UTF-8", "\"em\xffail\":\"b@example.com\"", []string{`["em\xffail"]`}},
		{"nested unknown field with NUL", `"address":{"ci\u0000ty":"x"}`, []string{`address["ci\x00ty"]`}},
		{"vendor ref with NUL", `"vendors":["ladiflow"],"vendor_refs":{"ladiflow":{"id":"lf\u0000"}}`, []string{"vendor_refs.ladiflow.id"}},
		{"email named twice", `"email":"b@example.com"`, []string{"email"}},
		{"email named twice through an escape", `"\u0065mail":"b@example.com"`, []string{"email"}},
		{"attribute named twice", `"attributes":{"tier":"gold","tier":"silver"}`, []string{"attributes.tier"}},
		{"vendors named twice", `"vendors":["ladiflow"],"vendors":["ladiflow","happytalk"]`, []string{"vendors"}},
		{"nested field named twice", `"address":{"city":"a","city":"b"}`, []string{"address.city"}},
	}
	g := newTestGateway(t, gatewayOptions{})
	for _, tc := range tests {
		body := hostileBody(tc.fields)
		if strings.Contains(tc.fields, `"vendor_refs"`) {
			body = `{"email":"a@example.com",` + tc.fields + `}`
		}
		status, _, answer := g.do(http.MethodPut, "/customers/c-1", body)
		t.Run(tc.name, func(t *testing.T) { assertHostileRefused(t, g, status, answer, true, tc.want...) })
	}
}

// One 400 names every offending field: bad text, the contract's own errors and the
// model's rules together, sorted.
func TestHostileBodyNamesEveryField(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, gatewayOptions{})
	body := hostileBody(`"full_name":"\u0000","tags":["ok","\ud800"],"attributes":{"tier":"\u001b","ti\u0000er":"x"},` +
		`"gender":"M","birthday":"1990-02-30","phone":"12345","address":{"city":"` + "\xff" + `","country":"vn"}`)
	status, _, answer := g.do(http.MethodPut, "/customers/c-1", body)
	assertHostileRefused(t, g, status, answer, true, "address.city", "address.country", "attributes.tier", `attributes["ti\x00er"]`,
		"birthday", "full_name", "gender", "phone", "tags[1]")
}

// No bad text reaches a vendor or the store whatever the engine: the body, the
// Idempotency-Key (PostgreSQL refuses invalid UTF-8 in text: it was a 500) and Prefer.
func TestHostileTextNeverReachesTheStore(t *testing.T) {
	t.Parallel()
	for _, e := range templates.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			g := newTestGateway(t, gatewayOptions{queue: true, dbURL: e.Fresh(t)})
			cases := []struct {
				name   string
				body   string
				header []string
				field  string
			}{
				{"NUL value, respond-async", hostileBody(`"full_name":"a\u0000b"`), []string{"Prefer", "respond-async"}, "full_name"},
				{"NUL attribute name, respond-async", hostileBody(`"attributes":{"a\u0000":"b"}`), []string{"Prefer", "respond-async"}, `attributes["a\x00"]`},
				{"NUL ref", `{"email":"a@example.com","vendor_refs":{"happytalk":{"uuid":"u\u0000","room_id":"r"}}}`, nil, "vendor_refs.happytalk.uuid"},
				{"Idempotency-Key with invalid UTF-8", hostileBody(""), []string{IdempotencyKeyHeader, "key-\xff"}, IdempotencyKeyHeader},
				{"Idempotency-Key with C1", hostileBody(""), []string{IdempotencyKeyHeader, "key-\u0085"}, IdempotencyKeyHeader},
				{"Prefer with invalid UTF-8", hostileBody(""), []string{"Prefer", "respond-async, x=\xff"}, "Prefer"},
			}
			for _, tc := range cases {
				status, _, answer := g.do(http.MethodPut, "/customers/c-1", tc.body, tc.header...)
				t.Run(tc.name, func(t *testing.T) { assertHostileRefused(t, g, status, answer, true, tc.field) })
			}
		})
	}
}

// The query string is read as written: a dry run never becomes a delivery, whatever the
// query looks like. Anything the contract does not declare exactly once, in exactly its
// form, is a 400 and nothing is sent.
func TestHostileQueryNeverDelivers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		query string
		field string
	}{
		{"dry_run=true&dry_run=false", "dry_run"},
		{"dry_run=false&dry_run=true", "dry_run"},
		{"dry_run=&dry_run=true", "dry_run"},
		{"dry_run=true&dry_run=true", "dry_run"},
		{"dry_run=true&dry_run", "dry_run"},
		{"dry_run=true;x=1", "dry_run"},
		{"dry_run=true;dry_run=false", "dry_run"},
		{"x=1;dry_run=true", "x"},
		{"dry_run;=true", "dry_run"},
		{"dry_run=true%3bx=1", "dry_run"},
		{"dry_run", "dry_run"},
		{"dry_run=", "dry_run"},
		{"dry_run=1", "dry_run"},
		{"dry_run=0", "dry_run"},
		{"dry_run=t", "dry_run"},
		{"dry_run=T", "dry_run"},
		{"dry_run=TRUE", "dry_run"},
		{"dry_run=True", "dry_run"},
		{"dry_run=FALSE", "dry_run"},
		{"dry_run=yes", "dry_run"},
		{"dry_run=on", "dry_run"},
		{"dry_run=+true", "dry_run"},
		{"dry_run=true+", "dry_run"},
		{"dry_run=%20true", "dry_run"},
		{"dry_run=true%00", "dry_run"},
		{"dry_run=%00", "dry_run"},
		{"dry_run=%ff", "dry_run"},
		{"dry_run=%c2%85", "dry_run"},
		{"dry_run=%zz", "dry_run"},
		{"dry_run=%", "dry_run"},
		{"dry_run=%2", "dry_run"},
		{"dry_run=true%", "dry_run"},
		{"dry%5frun=tr%zzue", "dry_run"},
		{"dry%zzrun=true", `dry%zzrun`},
		{"dryrun=true", "dryrun"},
		{"DRY_RUN=true", "DRY_RUN"},
		{"Dry_Run=true", "Dry_Run"},
		{"dry-run=true", "dry-run"},
		{"dry_run[]=true", `["dry_run[]"]`},
		{"dry_run%00=true", `["dry_run\x00"]`},
		{"dry_run%20=true", "dry_run "},
		{"%ff=true", `["\xff"]`},
		{"dry_run=true&callback=x", "callback"},
	}
	g := newTestGateway(t, gatewayOptions{})
	for _, tc := range tests {
		status, _, answer := g.do(http.MethodPut, "/customers/c-1?"+tc.query, hostileBody(""))
		t.Run(tc.query, func(t *testing.T) { assertHostileRefused(t, g, status, answer, false, tc.field) })
	}
	// What the schema does say is read the same way by the contract and the handler.
	for _, q := range []string{"dry_run=true", "dry_run=tru%65", "dry_run=true&", "&dry_run=true"} {
		status, _, answer := g.do(http.MethodPut, "/customers/c-1?"+q, hostileBody(""))
		if res := decodeResult(t, answer); status != http.StatusOK || res.Outcome != model.OutcomeDryRun {
			t.Errorf("?%s: %d %s, want a dry run", q, status, answer)
		}
	}
	if n := g.received(); n != 0 {
		t.Fatalf("%d requests reached a vendor", n)
	}
	status, _, answer := g.do(http.MethodPut, "/customers/c-1?dry_run=false", hostileBody(""))
	if status != http.StatusOK || g.received() != 3 {
		t.Errorf("?dry_run=false: %d %s, received %d; want a delivery", status, answer, g.received())
	}
}

// The path parameter is read as the contract validated it.
func TestHostilePathNeverDelivers(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, gatewayOptions{})
	for _, path := range []string{
		"/customers/c-1%00", "/customers/c%FF", "/customers/c%2D1", "/customers/%63-1", "/customers/c-1%0A",
		"/customers/c%E2%80%AE1", "/customers/c-1%7F", "/customers/c-1%C2%85", "/customers/c%201",
	} {
		status, _, answer := g.do(http.MethodPut, path, hostileBody(""))
		t.Run(path, func(t *testing.T) { assertHostileRefused(t, g, status, answer, true, "customer_id") })
	}
}

// The audit trail's query is held to the same reading: no parameter is read two ways.
func TestHostileAuditQuery(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, gatewayOptions{})
	const rng = "from=2022-05-26T00:00:00%2B09:00&to=2022-05-27T00:00:00%2B09:00"
	for _, tc := range []struct{ query, field string }{
		{rng + "&limit=1e2", "limit"},
		{rng + "&limit=%2B5", "limit"},
		{rng + "&limit=5.0", "limit"},
		{rng + "&limit=5&limit=6", "limit"},
		{rng + "&order=asc&order=desc", "order"},
		{rng + "&from=2022-05-25T00:00:00Z", "from"},
		{rng + ";limit=5", "to"},
		{rng + "&cursor=abc%00", "cursor"},
		{rng + "&customer_id=c%ff", "customer_id"},
		{rng + "&kind=archive%0d%0a", "kind"},
	} {
		status, _, answer := g.do(http.MethodGet, "/audit-history?"+tc.query, "")
		t.Run(tc.query, func(t *testing.T) { assertHostileRefused(t, g, status, answer, false, tc.field) })
	}
	// A repeatable parameter stays repeatable.
	if status, _, answer := g.do(http.MethodGet, "/audit-history?"+rng+"&source=happytalk&source=happytalk", ""); status != http.StatusOK {
		t.Errorf("source twice: %d %s", status, answer)
	}
}

// Valid text of every script passes unchanged, tab and newline included: the rule refuses
// controls, not languages.
func TestTextThatIsValidIsDeliveredUnchanged(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, gatewayOptions{})
	values := []string{"김민지", "Nguyễn Thị Minh Khai", "Zoë \"quoted\" \\ back", "tab\there", "two\nlines", "👩‍💻", "\u200f\u202e", "\ufffd"}
	for i, v := range values {
		enc, _ := json.Marshal(v)
		status, _, answer := g.do(http.MethodPut, fmt.Sprintf("/customers/c-%d", i), hostileBody(`"full_name":`+string(enc)))
		if status != http.StatusOK {
			t.Fatalf("%q: %d %s", v, status, answer)
		}
		if got := lastBody(t, g.sim, happyTalk)["username"]; got != v {
			t.Errorf("HappyTalk username = %q, want %q", got, v)
		}
		if got := lastBody(t, g.sim, ladiFlow)["full_name"]; got != v {
			t.Errorf("LadiFlow full_name = %q, want %q", got, v)
		}
	}
}

// An integer is read as the contract validated it: kin-openapi reads numbers as float64
// and takes 1e3 or 7.0 for integers, the handler does not, and a vendor ref kept as the
// literal sent would be read as no key at all.
func TestHostileIntegers(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, gatewayOptions{})
	for _, tc := range []struct{ fields, field string }{
		{`"vendor_refs":{"engagelab":{"euid":1e3}}`, "vendor_refs.engagelab.euid"},
		{`"vendor_refs":{"engagelab":{"euid":1E3}}`, "vendor_refs.engagelab.euid"},
		{`"vendor_refs":{"engagelab":{"euid":7.0}}`, "vendor_refs.engagelab.euid"},
		{`"vendor_refs":{"engagelab":{"euid":9223372036854775808}}`, "vendor_refs.engagelab.euid"},
		{`"lead_score":1e3,"vendor_refs":{"ladiflow":{"id":"lf"}}`, "lead_score"},
		{`"lead_score":14.0,"gender":"M","vendor_refs":{"ladiflow":{"id":"lf"}}`, "lead_score"},
	} {
		status, _, answer := g.do(http.MethodPut, "/customers/c-1", `{"email":"a@example.com",`+tc.fields+`}`)
		t.Run(tc.fields, func(t *testing.T) { assertHostileRefused(t, g, status, answer, false, tc.field) })
	}
	status, _, answer := g.do(http.MethodPut, "/customers/c-1", `{"email":"a@example.com","vendor_refs":{"engagelab":{"euid":9223372036854775807}}}`)
	if status != http.StatusOK || g.received() != 1 {
		t.Errorf("the largest euid: %d %s", status, answer)
	}
}
