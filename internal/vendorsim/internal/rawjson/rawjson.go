// Package rawjson reads request bodies the way the simulated vendors check them: one JSON
// object whose values stay raw, so each field's JSON type can be checked on its own, as
// the vendors' documents require.
package rawjson

import (
	"encoding/json"
	"maps"
	"slices"
)

// Object reads body as one JSON object, keeping each value raw; false when body is not a
// JSON object.
func Object(body []byte) (map[string]json.RawMessage, bool) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return nil, false
	}
	return m, true
}

// Kind names the JSON type of a raw value: string, number, bool, null, object, array, or
// missing when there is no value.
func Kind(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "missing"
	}
	switch raw[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

// String returns raw as a Go string when it is a JSON string.
func String(raw json.RawMessage) (string, bool) {
	if Kind(raw) != "string" {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// SortedKeys returns m's keys in order, so checks report the same field first every time.
func SortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
