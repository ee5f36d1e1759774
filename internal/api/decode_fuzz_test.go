package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/customergateway/gateway/internal/model"
)

// FuzzDecodeUpdate runs a PUT /customers/{id} request, query string and body, through the
// contract's validation and the handler's decode, as the gateway does before a delivery.
// It must never panic; a 400 must be valid text itself; and whatever passes must decode,
// hold only valid text with nothing replaced on the way, and have a query string that
// every reader reads one way (so a dry run is a dry run).
//
//	go test -run '^$' -fuzz '^FuzzDecodeUpdate$' -fuzztime 30s ./internal/api
func FuzzDecodeUpdate(f *testing.F) {
	for _, s := range []struct{ query, body string }{
		{"", fullUpdate},
		{"dry_run=true", `{"email":"a@example.com","vendor_refs":{"ladiflow":{"id":"lf"}}}`},
		{"dry_run=false", `{"full_name":"김민지","attributes":{"tier":"gold"},"tags":["a"]}`},
		{"dry_run=true;x=1", `{"email":"a@example.com"}`},
		{"dry_run=&dry_run=true", `{}`},
		{"dry_run=1", `{"full_name":"a\u0000b"}`},
		{"dry_run=%zz", `{"full_name":"a\ud800b"}`},
		{"", "{\"full_name\":\"a\xffb\"}"},
		{"", `{"attributes":{"ti\u0000er":"x"}}`},
		{"", `{"email":"a@example.com","email":"b@example.com"}`},
		{"", `{"vendor_refs":{"engagelab":{"euid":1e3}}}`},
		{"", `{"lead_score":7.0}`},
		{"", `{"birthday":"1990-02-30","birthday_calendar":"lunar"}`},
		{"", `{"phone":"12345","gender":"M"}`},
		{"", `[]`},
		{"", `{"tags":[`},
	} {
		f.Add(s.query, []byte(s.body))
	}
	c := loadContract(f)
	rules := customerRules("KR")
	f.Fuzz(func(t *testing.T, query string, body []byte) {
		r := httptest.NewRequest(http.MethodPut, "/customers/c-1", bytes.NewReader(body))
		r.URL.RawQuery = query
		r.Header.Set("Content-Type", "application/json")
		status, _, errs := c.validate(r)
		switch status {
		case 0:
		case http.StatusBadRequest:
			errs = mergeFieldErrors(errs, rules(r, body)) // the rest of the 400's path
			if len(errs) == 0 {
				t.Fatal("a 400 names no field")
			}
			for _, e := range errs {
				if model.TextProblem(e.Field) != "" || model.TextProblem(e.Message) != "" {
					t.Fatalf("the 400 carries bad text: %q: %q", e.Field, e.Message)
				}
			}
			return
		default:
			t.Fatalf("status %d for a PUT on a known path", status)
		}
		fuzzQueryReadOneWay(t, query)
		u, err := decodeUpdate(r)
		if err != nil {
			t.Fatalf("passed the contract but does not decode: %v\n%q", err, body)
		}
		if errs := model.TextErrors(u); len(errs) > 0 {
			t.Fatalf("passed the contract with bad text: %v", errs)
		}
		fuzzNothingReplaced(t, body)
		if _, err := model.Prepare("c-1", u, "KR"); err != nil {
			var bad *model.BadRequest
			var fe model.FieldErrors
			if !errors.As(err, &bad) && !errors.As(err, &fe) {
				t.Fatalf("Prepare: an error that is neither a 400 nor a 422: %v", err)
			}
		}
	})
}

// fuzzQueryReadOneWay asserts that a query string that passed the contract is read the
// same by url.ParseQuery (the handler), with every parameter once and dry_run exactly a
// boolean the way strconv.ParseBool and kin-openapi read it.
func fuzzQueryReadOneWay(t *testing.T, query string) {
	t.Helper()
	vals, err := url.ParseQuery(query)
	if err != nil {
		t.Fatalf("passed the contract but url.ParseQuery refuses %q: %v", query, err)
	}
	for k, vs := range vals {
		if k != "dry_run" || len(vs) != 1 || (vs[0] != "true" && vs[0] != "false") {
			t.Fatalf("passed the contract with %q=%q in %q", k, vs, query)
		}
	}
}

// fuzzNothingReplaced asserts that no string of a body that passed decodes to U+FFFD
// unless the body wrote U+FFFD itself.
func fuzzNothingReplaced(t *testing.T, body []byte) {
	t.Helper()
	if bytes.Contains(body, []byte("\ufffd")) || bytes.Contains(bytes.ToLower(body), []byte(`\ufffd`)) {
		return
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			if strings.ContainsRune(v, utf8.RuneError) {
				t.Fatalf("passed the contract but decodes with a replacement: %q", v)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		case map[string]any:
			for k, x := range v {
				walk(k)
				walk(x)
			}
		}
	}
	walk(v)
}
