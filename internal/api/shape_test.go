package api

import (
	"net/http"
	"strings"
	"testing"
)

// A body under the size limit that is a huge JSON value (a long array, a deep nesting) is a
// 400 before the validator decodes it, and nothing reaches a vendor.
func TestHugeJSONValueIsRefusedBeforeDecoding(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, gatewayOptions{})
	for name, body := range map[string]string{
		"a long array": `{"tags":[` + strings.Repeat(`"a",`, 200000) + `"a"]}`,
		"deep nesting": strings.Repeat(`{"address":`, 100) + `{}` + strings.Repeat(`}`, 100),
	} {
		status, _, b := g.do(http.MethodPut, "/customers/c-1", body)
		if status != http.StatusBadRequest || !strings.Contains(string(b), `"field":"body"`) {
			t.Errorf("%s: %d %.300s", name, status, b)
		}
	}
	if g.received() != 0 {
		t.Fatal("a refused body reached a vendor")
	}
}
