package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	openapi "github.com/customergateway/gateway/api"
	"github.com/customergateway/gateway/internal/model"
)

// Bodies a caller may send, among them every kind decodeJSONBody hands to kin-openapi's own
// decoder: broken text, a duplicate name, data after the value, numbers a float64 reads
// inexactly or not at all.
var jsonBodies = []string{
	fullUpdate,
	`{}`, ` {"email":"a@example.com"} `, `null`, `"x"`, `[1,2]`, `14`, ``, ` `,
	`{"email":"a@example.com","email":"b@example.com"}`,
	"{\"full_name\":\"a\xffb\"}", `{"full_name":"a\ud800b"}`, `{"full_name":"\u00e9\/\n"}`,
	"\xef\xbb\xbf{}", `{} {}`, `{}x`, `{"email":`, `{"lead_score":14,}`,
	`{"lead_score":1e400}`, `{"lead_score":-0}`, `{"lead_score":1.50}`, `{"lead_score":7.0}`,
	`{"lead_score":1e2}`, `{"lead_score":9223372036854775808}`, `{"lead_score":"14"}`,
	`{"vendor_refs":{"engagelab":{"euid":9007199254740993}}}`,
	`{"vendor_refs":{"engagelab":{"euid":1e3}}}`,
	`{"email":"not-an-email","gender":"M","tags":[1],"address":{"zip":1}}`,
	`{"attributes":{"ti\u0000er":"x"}}`, `{"unknown":[[[[{}]]]]}`,
}

// decodeJSONBody reads every body as kin-openapi's own decoder does: the same refusal, or
// the same value (its numbers float64 where kin-openapi's are json.Number) with the same
// field errors from the contract's schema.
func TestJSONBodyIsReadAsKinOpenAPIReadsIt(t *testing.T) {
	t.Parallel()
	c := loadContract(t)
	schema := customerBodySchema(t, c)
	for _, body := range jsonBodies {
		checkReadAsKinOpenAPI(t, c, schema, []byte(body))
	}
}

// go test -run '^$' -fuzz '^FuzzJSONBodyIsReadAsKinOpenAPIReadsIt$' -fuzztime 30s ./internal/api
func FuzzJSONBodyIsReadAsKinOpenAPIReadsIt(f *testing.F) {
	for _, body := range jsonBodies {
		f.Add([]byte(body))
	}
	c := loadContract(f)
	schema := customerBodySchema(f, c)
	f.Fuzz(func(t *testing.T, body []byte) { checkReadAsKinOpenAPI(t, c, schema, body) })
}

func checkReadAsKinOpenAPI(t *testing.T, c *Contract, schema *openapi3.SchemaRef, body []byte) {
	t.Helper()
	got, gotErr := decodeJSONBody(bytes.NewReader(body), nil, schema, nil)
	want, wantErr := openapi3filter.JSONBodyDecoder(bytes.NewReader(body), nil, schema, nil)
	if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
		t.Fatalf("%q: decoded with error %v; kin-openapi's decoder: %v", body, gotErr, wantErr)
	}
	// A reader that cannot be rewound is read the same, and so is one handed over part-way.
	again, againErr := decodeJSONBody(io.MultiReader(bytes.NewReader(body)), nil, schema, nil)
	if fmt.Sprint(againErr) != fmt.Sprint(gotErr) || !reflect.DeepEqual(again, got) {
		t.Fatalf("%q: from a plain reader decoded as %#v, %v; from a bytes.Reader as %#v, %v", body, again, againErr, got, gotErr)
	}
	partway := bytes.NewReader(append([]byte("xx"), body...))
	_, _ = partway.Seek(2, io.SeekStart)
	again, againErr = decodeJSONBody(partway, nil, schema, nil)
	if fmt.Sprint(againErr) != fmt.Sprint(gotErr) || !reflect.DeepEqual(again, got) {
		t.Fatalf("%q: from a reader two bytes in decoded as %#v, %v; from its start as %#v, %v", body, again, againErr, got, gotErr)
	}
	if gotErr != nil {
		return
	}
	if !reflect.DeepEqual(numbersAsFloats(got), numbersAsFloats(want)) {
		t.Fatalf("%q: decoded as %#v; kin-openapi's decoder: %#v", body, got, want)
	}
	if g, w := schemaErrors(c, schema.Value, got), schemaErrors(c, schema.Value, want); !reflect.DeepEqual(g, w) {
		t.Fatalf("%q: the schema names %v; with kin-openapi's decoder %v", body, g, w)
	}
}

// customerBodySchema is the body schema of PUT /customers/{id}.
func customerBodySchema(t testing.TB, c *Contract) *openapi3.SchemaRef {
	t.Helper()
	route, _, err := c.router.FindRoute(httptest.NewRequest(http.MethodPut, "/customers/c-1", nil))
	if err != nil {
		t.Fatal(err)
	}
	return openapi3.NewSchemaRef("", bodySchema(route))
}

// schemaErrors is what the contract's schema says of v, as a caller would read it.
func schemaErrors(c *Contract, schema *openapi3.Schema, v any) model.FieldErrors {
	opts := append([]openapi3.SchemaValidationOption{openapi3.VisitAsRequest(), openapi3.MultiErrors()}, c.opts.SchemaValidationOptions...)
	if err := schema.VisitJSON(v, opts...); err != nil {
		return fieldErrors(err)
	}
	return nil
}

// numbersAsFloats is v with every json.Number that a float64 holds read as one.
func numbersAsFloats(v any) any {
	switch v := v.(type) {
	case json.Number:
		if f, err := v.Float64(); err == nil {
			return f
		}
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = numbersAsFloats(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = numbersAsFloats(e)
		}
		return out
	}
	return v
}

// decodeJSONBody reads numbers as float64 where kin-openapi's decoder keeps json.Number, and
// uniqueItems compares items re-encoded: [1, 1.0] would be refused as duplicates. No schema
// of the contract may use it until decodeJSONBody keeps the numbers as written.
func TestContractHasNoUniqueItems(t *testing.T) {
	t.Parallel()
	if bytes.Contains(openapi.Document, []byte("uniqueItems")) {
		t.Error("api/openapi.yaml uses uniqueItems: decodeJSONBody's float64 numbers would judge it unlike kin-openapi's own decoder")
	}
}
