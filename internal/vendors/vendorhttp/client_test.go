package vendorhttp

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/customergateway/gateway/internal/model"
)

func TestCode(t *testing.T) {
	tests := []struct {
		raw    string
		code   int
		hasOne bool
	}{
		{`0`, 0, true}, {`201`, 201, true}, {`-1`, -1, true}, {`"55004"`, 55004, true},
		{``, 0, false}, {`null`, 0, false}, {`"x"`, 0, false}, {`{}`, 0, false},
	}
	for _, tc := range tests {
		code, ok := Code(json.RawMessage(tc.raw))
		if code != tc.code || ok != tc.hasOne {
			t.Errorf("Code(%s) = %d, %v; want %d, %v", tc.raw, code, ok, tc.code, tc.hasOne)
		}
	}
}

func TestBaseURL(t *testing.T) {
	for in, want := range map[string]string{"": "https://d", "http://x/": "http://x", "http://x": "http://x"} {
		if got := BaseURL(in, "https://d"); got != want {
			t.Errorf("BaseURL(%q) = %q", in, got)
		}
	}
}

// View masks what it is told to and keeps a 64-bit integer exact.
func TestViewMasksAndKeepsIntegers(t *testing.T) {
	req := &model.Request{Method: http.MethodPost, URL: "http://x", Header: http.Header{"Api-Key": {"secret"}, "Content-Type": {"application/json"}},
		Body: []byte(`{"token":"secret","euid":9007199254740993}`)}
	v := View(req, []string{"api-key"}, func(b map[string]any) { b["token"] = "***" })
	out, _ := json.Marshal(v)
	if got := string(out); got != `{"method":"POST","url":"http://x","headers":{"Api-Key":"***","Content-Type":"application/json"},"body":{"euid":9007199254740993,"token":"***"}}` {
		t.Fatalf("view %s", got)
	}
}
