package model

import (
	"encoding/json"
	"reflect"
	"testing"
)

// refs builds vendor refs from vendor, key, value triples; a value is a JSON literal.
func refs(kv ...string) VendorRefs {
	out := VendorRefs{}
	for i := 0; i+2 < len(kv); i += 3 {
		v := Vendor(kv[i])
		if out[v] == nil {
			out[v] = Refs{}
		}
		out[v][kv[i+1]] = json.RawMessage(kv[i+2])
	}
	return out
}

func TestVendorRefsMerge(t *testing.T) {
	known := refs("happytalk", "uuid", `"u"`, "happytalk", "room_id", `"r"`, "ladiflow", "id", `"l"`)
	tests := []struct {
		name        string
		given       VendorRefs
		want        VendorRefs
		wantChanged []string
	}{
		{"nothing given", nil, known, nil},
		{"same values change nothing", refs("ladiflow", "id", `"l"`), known, nil},
		{"a new room replaces, the uuid stays", refs("happytalk", "room_id", `"r2"`),
			refs("happytalk", "uuid", `"u"`, "happytalk", "room_id", `"r2"`, "ladiflow", "id", `"l"`), []string{"vendor_refs.happytalk.room_id"}},
		{"empty values never clear", refs("happytalk", "uuid", `""`, "ladiflow", "id", `""`, "engagelab", "euid", `0`), known, nil},
		{"a new vendor is added", refs("engagelab", "euid", `7`),
			refs("happytalk", "uuid", `"u"`, "happytalk", "room_id", `"r"`, "ladiflow", "id", `"l"`, "engagelab", "euid", `7`), []string{"vendor_refs.engagelab.euid"}},
		{"changes are reported sorted", refs("ladiflow", "id", `"l2"`, "happytalk", "uuid", `"u2"`, "happytalk", "room_id", `"r2"`),
			refs("happytalk", "uuid", `"u2"`, "happytalk", "room_id", `"r2"`, "ladiflow", "id", `"l2"`),
			[]string{"vendor_refs.happytalk.room_id", "vendor_refs.happytalk.uuid", "vendor_refs.ladiflow.id"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, changed := known.Merge(tc.given)
			if !reflect.DeepEqual(got, tc.want) || !reflect.DeepEqual(changed, tc.wantChanged) {
				t.Fatalf("Merge = %s %v, want %s %v", show(got), changed, show(tc.want), tc.wantChanged)
			}
		})
	}
	if known.Of("happytalk").String("room_id") != "r" {
		t.Fatal("Merge changed its receiver")
	}
}

func show(r VendorRefs) string {
	b, _ := json.Marshal(r)
	return string(b)
}

// Refs keep the contract's JSON shape: strings stay strings, a 64-bit integer stays exact.
func TestVendorRefsRoundTrip(t *testing.T) {
	in := `{"engagelab":{"euid":9007199254740993},"happytalk":{"room_id":"상담방 번호","uuid":"u-1"}}`
	var r VendorRefs
	if err := json.Unmarshal([]byte(in), &r); err != nil {
		t.Fatal(err)
	}
	if r.Of("engagelab").Int64("euid") != 9007199254740993 || r.Of("happytalk").String("room_id") != "상담방 번호" {
		t.Fatalf("read %s", show(r))
	}
	if out := show(r); out != in {
		t.Fatalf("round trip\n got %s\nwant %s", out, in)
	}
	if r.Of("ladiflow").String("id") != "" || r.Of("happytalk").Int64("uuid") != 0 {
		t.Fatal("an absent or mistyped ref reads as set")
	}
	if got := r.With("ladiflow", "id", StringRef("l")); got.Of("ladiflow").String("id") != "l" || r.Of("ladiflow") != nil {
		t.Fatal("With must set on a copy")
	}
}
