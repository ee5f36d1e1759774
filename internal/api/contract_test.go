package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	openapi "github.com/customergateway/gateway/api"
)

// The embedded document loads and passes kin-openapi's own document validation.
func TestContractLoads(t *testing.T) {
	t.Parallel()
	c, err := LoadContract(openapi.Document)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/customers/{customer_id}", "/audit-history", "/healthz", "/readyz", "/metrics", "/openapi.yaml"} {
		if c.doc.Paths.Find(path) == nil {
			t.Errorf("document has no %s", path)
		}
	}
}

func TestFormatCheckers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		check func(string) error
		value string
		ok    bool
	}{
		{checkDate, "1990-02-28", true},
		{checkDate, "1990-02-30", false},
		{checkDate, "1990-2-3", false},
		{checkDateTime, "2024-01-31T09:00:00+09:00", true},
		{checkDateTime, "2024-01-31T00:00:00Z", true},
		{checkDateTime, "2024-01-31 09:00:00", false},
		{checkDateTime, "2024-02-30T00:00:00Z", false},
		{checkEmail, "minji@example.com", true},
		{checkEmail, "not-an-email", false},
		{checkEmail, "a@b", false},
		{checkEmail, "Minji <minji@example.com>", false},
		{checkEmail, "minji@exa mple.com", false},
	}
	for _, tc := range tests {
		if err := tc.check(tc.value); (err == nil) != tc.ok {
			t.Errorf("check(%q) = %v, want ok=%v", tc.value, err, tc.ok)
		}
	}
}

// validateBody runs a PUT body through the contract and returns the field errors.
func validateBody(t *testing.T, c *Contract, path, body, contentType string) (int, []string) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPut, path, strings.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	status, _, errs := c.validate(r)
	var fields []string
	for _, e := range errs {
		fields = append(fields, e.Field)
	}
	return status, fields
}

func TestContractNamesEveryOffendingField(t *testing.T) {
	t.Parallel()
	c, err := LoadContract(openapi.Document)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		path, body string
		ctype      string
		wantStatus int
		wantFields []string
	}{
		{"valid", "/customers/c-42", `{"email":"a@example.com"}`, "application/json", 0, nil},
		{"unknown field", "/customers/c-42", `{"emial":"a@example.com"}`, "application/json", 400, []string{"emial"}},
		{"unknown nested field", "/customers/c-42", `{"address":{"street":"x"}}`, "application/json", 400, []string{"address.street"}},
		{"bad email and bad gender", "/customers/c-42", `{"email":"not-an-email","gender":"M"}`, "application/json", 400, []string{"email", "gender"}},
		{"birthday shape", "/customers/c-42", `{"birthday":"1990/01/01"}`, "application/json", 400, []string{"birthday"}},
		{"wrong type", "/customers/c-42", `{"lead_score":"high"}`, "application/json", 400, []string{"lead_score"}},
		{"tag in a list", "/customers/c-42", `{"tags":["ok",""]}`, "application/json", 400, []string{"tags[1]"}},
		{"vendor enum", "/customers/c-42", `{"vendors":["hubspot"]}`, "application/json", 400, []string{"vendors[0]"}},
		{"euid as string", "/customers/c-42", `{"vendor_refs":{"engagelab":{"euid":"10362473"}}}`, "application/json", 400, []string{"vendor_refs.engagelab.euid"}},
		{"bad customer id", "/customers/c%2042", `{}`, "application/json", 400, []string{"customer_id"}},
		{"malformed JSON", "/customers/c-42", `{"email":`, "application/json", 400, []string{"body"}},
		{"not JSON", "/customers/c-42", `email=a`, "application/x-www-form-urlencoded", 415, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, fields := validateBody(t, c, tc.path, tc.body, tc.ctype)
			if status != tc.wantStatus {
				t.Fatalf("status %d, want %d (fields %v)", status, tc.wantStatus, fields)
			}
			if strings.Join(fields, ",") != strings.Join(tc.wantFields, ",") {
				t.Fatalf("fields %v, want %v", fields, tc.wantFields)
			}
		})
	}
}
