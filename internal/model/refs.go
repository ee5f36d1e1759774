package model

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
)

// Refs are one vendor's own keys for a customer, by key name ("id", "euid"). A value is the
// JSON literal the caller sent, a string or an integer, so that refs keep the contract's
// shape whichever vendor defines them and a 64-bit integer stays exact.
type Refs map[string]json.RawMessage

// VendorRefs are each vendor's refs for one customer, by vendor name. Only the vendor's own
// package reads the keys; everything else stores and merges them as they are.
type VendorRefs map[Vendor]Refs

// StringRef is s as a ref value.
func StringRef(s string) json.RawMessage {
	b, _ := json.Marshal(s) // a string always marshals
	return b
}

// Int64Ref is n as a ref value.
func Int64Ref(n int64) json.RawMessage { return json.RawMessage(strconv.FormatInt(n, 10)) }

// String is the string ref key, or "" when it is absent or not a string.
func (r Refs) String(key string) string {
	raw := r[key]
	if len(raw) < 2 || raw[0] != '"' {
		return ""
	}
	if !bytes.ContainsRune(raw, '\\') {
		return string(raw[1 : len(raw)-1]) // no escapes: the text between the quotes
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// Int64 is the integer ref key, or 0 when it is absent or not an integer.
func (r Refs) Int64(key string) int64 {
	n, err := strconv.ParseInt(string(bytes.TrimSpace(r[key])), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// Of answers vendor v's refs; nil when none are known.
func (r VendorRefs) Of(v Vendor) Refs { return r[v] }

// With answers a copy of r with v's key set to value.
func (r VendorRefs) With(v Vendor, key string, value json.RawMessage) VendorRefs {
	out := r.Clone()
	if out == nil {
		out = VendorRefs{}
	}
	if out[v] == nil {
		out[v] = Refs{}
	}
	out[v][key] = value
	return out
}

// Empty reports whether r holds no ref at all.
func (r VendorRefs) Empty() bool {
	for _, refs := range r {
		for _, v := range refs {
			if isGiven(v) {
				return false
			}
		}
	}
	return true
}

// Clone is a deep copy of r.
func (r VendorRefs) Clone() VendorRefs {
	if r == nil {
		return nil
	}
	out := make(VendorRefs, len(r))
	for v, refs := range r {
		c := make(Refs, len(refs))
		for k, val := range refs {
			c[k] = slices.Clone(val)
		}
		out[v] = c
	}
	return out
}

// RefPath is the canonical body's path of a ref, as the audit trail reports changed refs:
// vendor_refs.<vendor>.<key>.
func RefPath(v Vendor, key string) string { return "vendor_refs." + string(v) + "." + key }

// Merge lays given over r and answers the result (a copy) and the paths whose value
// changed, sorted. A ref given non-empty replaces the one known; an empty one ("" or 0)
// counts as not given, since the canonical body cannot tell the two apart: a ref is
// replaced, never cleared.
func (r VendorRefs) Merge(in VendorRefs) (VendorRefs, []string) {
	out := r.Clone()
	var changed []string
	for _, v := range slices.Sorted(maps.Keys(in)) {
		for _, key := range slices.Sorted(maps.Keys(in[v])) {
			val := in[v][key]
			if !isGiven(val) || bytes.Equal(out[v][key], val) {
				continue
			}
			if out == nil {
				out = VendorRefs{}
			}
			if out[v] == nil {
				out[v] = Refs{}
			}
			out[v][key] = slices.Clone(val)
			changed = append(changed, RefPath(v, key))
		}
	}
	return out, changed
}

// isGiven reports whether a ref value says anything: "", 0 and null do not.
func isGiven(v json.RawMessage) bool {
	switch string(bytes.TrimSpace(v)) {
	case "", `""`, "0", "null":
		return false
	}
	return true
}
