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

// readDifferently finds every body decodedErrors could name something in, and lets a
// plain one through without a second decode.
func TestReadDifferently(t *testing.T) {
	for body, want := range map[string]bool{
		`{"lead_score":7,"birthday_leap_month":false,"email":"e.e@example.com"}`: false,
		`{"tags":["1e3"],"vendor_refs":{"engagelab":{"euid":10362473}}}`:         false,
		`{"lead_score":7.0}`: true,
		`{"lead_score":1e3}`: true,
		`{"vendor_refs":{"engagelab":{"euid":9223372036854775808}}}`: true,
		`{}00`:             true,
		`{} {}`:            true,
		`{} }`:             true,
		`[]]`:              true,
		`{}` + "\n":        false,
		`{"a":"\\"}00`:     true,  // an even run of backslashes: the quote closes the string
		`{"a":"x\"}1.5\"}`: false, // an escaped quote does not: 1.5 is inside it
		`{"a":"\\\"1e3"}`:  false,
	} {
		if got := readDifferently([]byte(body)); got != want {
			t.Errorf("readDifferently(%s) = %v, want %v", body, got, want)
		}
	}
}

// stringEnd finds the closing quote a byte-by-byte reading finds, for every string of up
// to nine quotes, backslashes and letters after the opening quote.
func TestStringEndReadsAsByteByByte(t *testing.T) {
	t.Parallel()
	byteByByte := func(body []byte) int {
		escaped := false
		for i := 1; i < len(body); i++ {
			switch {
			case escaped:
				escaped = false
			case body[i] == '\\':
				escaped = true
			case body[i] == '"':
				return i
			}
		}
		return len(body)
	}
	var all func(prefix []byte, n int)
	all = func(prefix []byte, n int) {
		if got, want := stringEnd(prefix, 0), byteByByte(prefix); got != want {
			t.Fatalf("stringEnd(%s) = %d, want %d", prefix, got, want)
		}
		if n == 0 {
			return
		}
		for _, c := range []byte{'"', '\\', 'a'} {
			all(append(prefix, c), n-1)
		}
	}
	all([]byte{'"'}, 9)
}
