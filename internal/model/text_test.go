package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// hostileText is every kind of string the text rule refuses, by what is wrong with it.
var hostileText = map[string]string{
	"NUL":                        "a\x00b",
	"SOH":                        "\x01",
	"unit separator":             "a\x1f",
	"carriage return":            "line\r\nline",
	"escape (ANSI sequence)":     "\x1b[31mred",
	"DEL":                        "a\x7f",
	"C1 U+0080":                  "\u0080",
	"C1 NEL U+0085":              "a\u0085b",
	"C1 CSI U+009B":              "\u009b2J",
	"C1 U+009F":                  "\u009f",
	"invalid byte 0xff":          "a\xffb",
	"lone continuation byte":     "\x80",
	"truncated sequence":         "\xe3\x81",
	"overlong slash":             "\xc0\xaf",
	"surrogate encoded in UTF-8": "\xed\xa0\x80",
	"beyond U+10FFFF":            "\xf4\x90\x80\x80",
}

func TestTextProblem(t *testing.T) {
	good := []string{
		"", "Kim Minji", "김민지", "Nguyễn Cơ Thạch", "tab\there", "two\nlines", "👩‍💻 (with a zero-width joiner)",
		"\ufffd is a character", "no\u00a0break", "\u200f right-to-left mark", "\U0010FFFD",
	}
	for _, s := range good {
		if p := TextProblem(s); p != "" {
			t.Errorf("TextProblem(%q) = %q, want accepted", s, p)
		}
	}
	for kind, s := range hostileText {
		p := TextProblem(s)
		if p == "" {
			t.Errorf("%s: TextProblem(%q) accepted it", kind, s)
			continue
		}
		if !strings.HasPrefix(p, "holds ") || strings.Contains(p, s) {
			t.Errorf("%s: message %q should start with \"holds\" and not echo the value", kind, p)
		}
	}
}

func TestJoinField(t *testing.T) {
	tests := []struct{ parent, key, want string }{
		{"", "full_name", "full_name"},
		{"attributes", "tier", "attributes.tier"},
		{"attributes", "favourite colour", "attributes.favourite colour"},
		{"attributes", "등급", "attributes.등급"},
		{"attributes", "", `attributes[""]`},
		{"attributes", "a.b", `attributes["a.b"]`},
		{"attributes", "a[0]", `attributes["a[0]"]`},
		{"attributes", `say "hi"`, `attributes["say \"hi\""]`},
		{"attributes", "ti\x00er", `attributes["ti\x00er"]`},
		{"attributes", "\xff", `attributes["\xff"]`},
		{"", "em\u0085ail", `["em\u0085ail"]`},
	}
	for _, tc := range tests {
		if got := JoinField(tc.parent, tc.key); got != tc.want {
			t.Errorf("JoinField(%q, %q) = %s, want %s", tc.parent, tc.key, got, tc.want)
		}
	}
	if got := IndexField("tags", 2); got != "tags[2]" {
		t.Errorf("IndexField = %s", got)
	}
}

func fieldsOf(errs FieldErrors) []string {
	out := []string{}
	for _, e := range errs {
		out = append(out, e.Field)
	}
	return out
}

func TestJSONTextErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"clean", `{"full_name":"Kim","tags":["a","b"],"attributes":{"tier":"gold"}}`, nil},
		{"escaped NUL", `{"full_name":"a\u0000b"}`, []string{"full_name"}},
		{"escaped control in a tag", `{"tags":["a","b","\u0007"]}`, []string{"tags[2]"}},
		{"escaped DEL", `{"company":"\u007f"}`, []string{"company"}},
		{"escaped C1", `{"company":"\u0085"}`, []string{"company"}},
		{"escaped carriage return", `{"note":"a\r\nb"}`, []string{"note"}},
		{"escaped tab and newline are text", `{"note":"a\tb\nc"}`, nil},
		{"raw DEL", "{\"company\":\"a\x7f\"}", []string{"company"}},
		{"raw C1", "{\"company\":\"a\u009b\"}", []string{"company"}},
		{"invalid UTF-8", "{\"full_name\":\"a\xffb\"}", []string{"full_name"}},
		{"overlong UTF-8", "{\"full_name\":\"\xc0\xaf\"}", []string{"full_name"}},
		{"lone high surrogate", `{"full_name":"a\ud800b"}`, []string{"full_name"}},
		{"lone low surrogate", `{"full_name":"\udc00"}`, []string{"full_name"}},
		{"high surrogate then a letter", `{"full_name":"\ud800\u0041"}`, []string{"full_name"}},
		{"surrogates the wrong way round", `{"full_name":"\udc00\ud800"}`, []string{"full_name"}},
		{"high surrogate at the end", `{"full_name":"\ud83d"}`, []string{"full_name"}},
		{"a surrogate pair is a character", `{"full_name":"\ud83d\ude00"}`, nil},
		{"escaped U+FFFD is a character", `{"full_name":"\ufffd"}`, nil},
		{"attribute name with NUL", `{"attributes":{"ti\u0000er":"x"}}`, []string{`attributes["ti\x00er"]`}},
		{"attribute name with invalid UTF-8", "{\"attributes\":{\"\xff\":\"x\"}}", []string{`attributes["\xff"]`}},
		{"attribute value", `{"attributes":{"tier":"\u0000"}}`, []string{"attributes.tier"}},
		{"nested object", `{"address":{"city":"\u001b"}}`, []string{"address.city"}},
		{"vendor ref", `{"vendor_refs":{"happytalk":{"uuid":"u\u0000"}}}`, []string{"vendor_refs.happytalk.uuid"}},
		{"every field at once, sorted", `{"tags":["\u0000"],"full_name":"\u0001","address":{"line1":"\ud800"}}`, []string{"address.line1", "full_name", "tags[0]"}},
		{"a key named twice", `{"email":"a@example.com","email":"b@example.com"}`, []string{"email"}},
		{"a key named twice through an escape", `{"email":"a@example.com","\u0065mail":"b@example.com"}`, []string{"email"}},
		{"a nested key named twice", `{"address":{"city":"a","city":"b"}}`, []string{"address.city"}},
		{"the same key in two objects is fine", `{"address":{"city":"a"},"social":{"city":"b"}}`, nil},
		{"a top-level string", `"\u0000"`, []string{"body"}},
		{"numbers, literals and escapes", `{"a":-1.5e+3,"b":true,"c":null,"d":false,"e":"\"\\\/\b\f"}`, []string{"e"}},
		{"stops at a syntax error", `{"a":"\u0000",`, []string{"a"}},
		{"a raw control byte is a syntax error, the decoder's", "{\"a\":\"\x00\"}", nil},
		{"a bad escape is a syntax error", `{"a":"\x"}`, nil},
		{"empty", ``, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := fieldsOf(JSONTextErrors("", []byte(tc.doc)))
			if !slices.Equal(got, append([]string{}, tc.want...)) {
				t.Errorf("fields = %q, want %q", got, tc.want)
			}
		})
	}
	if got := fieldsOf(JSONTextErrors("vendor_refs.happytalk.uuid", []byte(`"\u0000"`))); !slices.Equal(got, []string{"vendor_refs.happytalk.uuid"}) {
		t.Errorf("a nested document is named under its parent: %q", got)
	}
}

// Nesting deeper than any decoder takes must not exhaust the stack.
func TestJSONTextErrorsDeepNesting(t *testing.T) {
	deep := strings.Repeat("[", 1<<20) + strings.Repeat("]", 1<<20)
	_ = JSONTextErrors("", []byte(deep))
	deep = strings.Repeat(`{"a":`, 200000) + `"\u0000"` + strings.Repeat("}", 200000)
	_ = JSONTextErrors("", []byte(deep))
	deep = strings.Repeat("[", 9000) + `"\u0000"` + strings.Repeat("]", 9000)
	errs := JSONTextErrors("", []byte(deep))
	if len(errs) != 1 || len(errs[0].Field) > maxFieldLen+3 || !strings.HasPrefix(errs[0].Field, "[0][0]") {
		t.Errorf("deep error = %.80v", errs)
	}
}

// A body full of offending strings, or with a key as long as the body, gives a bounded
// answer.
func TestJSONTextErrorsBounded(t *testing.T) {
	many := "[" + strings.Repeat(`"\u0000",`, 5000) + `""]`
	if errs := JSONTextErrors("", []byte(many)); len(errs) != maxTextErrors {
		t.Errorf("%d errors, want %d", len(errs), maxTextErrors)
	}
	long := `{"` + strings.Repeat("가", 50000) + `\u0000":1}`
	errs := JSONTextErrors("", []byte(long))
	if len(errs) != 1 || len(errs[0].Field) > maxFieldLen+3 || !utf8.ValidString(errs[0].Field) {
		t.Errorf("long key error = %.80v", errs)
	}
}

// fillStrings sets every string reachable in v (through pointers, structs, slices and maps
// it allocates) to s, and every map key to s too.
func fillStrings(v reflect.Value, s string) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Pointer:
		if v.Type().Elem().Kind() == reflect.Bool || v.Type().Elem().Kind() == reflect.Int64 {
			return
		}
		v.Set(reflect.New(v.Type().Elem()))
		fillStrings(v.Elem(), s)
	case reflect.Struct:
		for i := range v.NumField() {
			fillStrings(v.Field(i), s)
		}
	case reflect.Slice:
		if v.Type() == rawMessageType {
			b, _ := json.Marshal(s)
			v.SetBytes(b)
			return
		}
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fillStrings(v.Index(0), s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		key := reflect.New(v.Type().Key()).Elem()
		key.SetString("k")
		val := reflect.New(v.Type().Elem()).Elem()
		fillStrings(val, s)
		m.SetMapIndex(key, val)
		v.Set(m)
	}
}

// TextErrors reaches every string of the canonical update, at the path its JSON has: the
// same fields the raw check names in the update's own JSON.
func TestTextErrorsCoverEveryStringField(t *testing.T) {
	var f CustomerUpdate
	fillStrings(reflect.ValueOf(&f).Elem(), "x\x00")
	got := fieldsOf(TextErrors(f))
	raw, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	want := fieldsOf(JSONTextErrors("", raw))
	if len(want) < 25 || !slices.Equal(got, want) {
		t.Fatalf("TextErrors names\n %q\nthe JSON has\n %q", got, want)
	}
	for _, field := range []string{"full_name", "address.city", "tags[0]", "attributes.k", "social.zalo", "order.parcel_number", "consultation.division_id", "vendor_refs.k.k", "vendors[0]", "gender", "birthday_calendar"} {
		if !slices.Contains(got, field) {
			t.Errorf("%s is not checked", field)
		}
	}
	var clean CustomerUpdate
	fillStrings(reflect.ValueOf(&clean).Elem(), "Kim Minji")
	if errs := TextErrors(clean); len(errs) != 0 {
		t.Errorf("clean update refused: %v", errs)
	}
	keyed := CustomerUpdate{Attributes: map[string]string{"ti\x00er": "gold"}}
	if got := fieldsOf(TextErrors(keyed)); !slices.Equal(got, []string{`attributes["ti\x00er"]`}) {
		t.Errorf("an attribute name is checked: %q", got)
	}
}

func TestPrepareRefusesBadText(t *testing.T) {
	f := CustomerUpdate{
		FullName:   ptr("Kim\x00"),
		Tags:       []string{"ok", "ok", "\x1b[2J"},
		Attributes: map[string]string{"tier": "gold\x7f", "ti\x00er": "x", "": "y"},
		Address:    &Address{City: ptr("Ha Noi\xff")},
		VendorRefs: VendorRefs{"happytalk": {"uuid": json.RawMessage(`"u\u0000"`)}},
	}
	_, err := Prepare("c-1", f, "KR")
	var bad *BadRequest
	if !errors.As(err, &bad) {
		t.Fatalf("err = %v, want a BadRequest", err)
	}
	want := []string{"address.city", `attributes[""]`, "attributes.tier", `attributes["ti\x00er"]`, "full_name", "tags[2]", "vendor_refs.happytalk.uuid"}
	slices.Sort(want)
	if got := fieldsOf(bad.Errors); !slices.Equal(got, want) {
		t.Errorf("fields = %q\nwant     %q", got, want)
	}
	if _, err := Prepare("c\x00", CustomerUpdate{}, "KR"); !errors.As(err, &bad) || bad.Errors[0].Field != "customer_id" {
		t.Errorf("customer id with NUL: %v", err)
	}
}

// A vendor ref is a string or an integer in digits: anything else would be stored as
// written and read by the vendor as no key.
func TestPrepareRefusesRefsNoVendorCanRead(t *testing.T) {
	for lit, ok := range map[string]bool{
		`"u-1"`: true, `7`: true, `-7`: true, `9223372036854775807`: true,
		`1e3`: false, `7.0`: false, `01`: false, `+1`: false, ` 7 `: true, `9223372036854775808`: false, `null`: false, `true`: false, `{}`: false, `"open`: false,
	} {
		_, err := Prepare("c-1", CustomerUpdate{VendorRefs: VendorRefs{"x": {"k": json.RawMessage(lit)}}}, "KR")
		var bad *BadRequest
		if refused := errors.As(err, &bad); refused == ok || (refused && bad.Errors[0].Field != "vendor_refs.x.k") {
			t.Errorf("ref %s: err = %v, want accepted=%v", lit, err, ok)
		}
	}
}

// An unknown calendar or gender is refused, never read one way here and another by an
// adapter (an unknown calendar was read as lunar, then sent to HappyTalk as solar).
func TestPrepareRefusesUnknownEnums(t *testing.T) {
	f := CustomerUpdate{Birthday: ptr("0000-02-30"), BirthdayCalendar: ptr(Calendar("0")), Gender: ptr(Gender("M"))}
	_, err := Prepare("c-1", f, "KR")
	var bad *BadRequest
	if !errors.As(err, &bad) || !slices.Equal(fieldsOf(bad.Errors), []string{"birthday_calendar", "gender"}) {
		t.Fatalf("err = %v", err)
	}
}

// One 400 names every offending field: a phone that does not parse is named beside the
// malformed values, and a 422 that is only the phone still gives the prepared update.
func TestPrepareNamesEveryField(t *testing.T) {
	f := CustomerUpdate{Phone: ptr("12345"), Birthday: ptr("1990-02-30"), Vendors: []Vendor{"a", "a"}}
	_, err := Prepare("c-1", f, "KR")
	var bad *BadRequest
	if !errors.As(err, &bad) {
		t.Fatalf("err = %v, want a BadRequest", err)
	}
	if got := fieldsOf(bad.Errors); !slices.Equal(got, []string{"birthday", "phone", "vendors[1]"}) {
		t.Errorf("fields = %q", got)
	}
	u, err := Prepare("c-1", CustomerUpdate{Phone: ptr("12345"), Email: ptr("a@example.com")}, "KR")
	var fe FieldErrors
	if !errors.As(err, &fe) || CodeOf(err) != EUndeliverable || len(fe) != 1 || fe[0].Field != "phone" {
		t.Fatalf("err = %v, want a 422 naming phone", err)
	}
	if u == nil || u.Phone != nil || *u.Fields.Email != "a@example.com" {
		t.Errorf("the update beside a 422 = %+v", u)
	}
}

// FuzzJSONTextErrors checks the raw scan against encoding/json: never a panic, and a
// document the scan passes decodes to text only, with nothing replaced on the way.
func FuzzJSONTextErrors(f *testing.F) {
	for _, s := range []string{
		`{"a":"b"}`, `{"a":"\u0000"}`, `{"a":"\ud800"}`, `{"a":"\ud83d\ude00"}`, "{\"a\":\"\xff\"}",
		`{"a":["x",{"b":"\u007f"}]}`, `{"a":1,"a":2}`, `[1,2,"\ufffd"]`, `{"\u0061":"\\"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		errs := JSONTextErrors("", doc)
		if !json.Valid(doc) || len(errs) > 0 {
			return
		}
		var v any
		dec := json.NewDecoder(bytes.NewReader(doc))
		dec.UseNumber() // 1e700 is valid JSON, and no float64
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("valid JSON does not decode: %v", err)
		}
		replaced := bytes.Contains(doc, []byte("\ufffd")) || bytes.Contains(bytes.ToLower(doc), []byte(`\ufffd`))
		walkStrings(v, func(s string) {
			if p := TextProblem(s); p != "" {
				t.Fatalf("passed the scan but decodes to %q, which %s", s, p)
			}
			if strings.ContainsRune(s, utf8.RuneError) && !replaced {
				t.Fatalf("passed the scan but encoding/json replaced something in %q", s)
			}
		})
	})
}

func walkStrings(v any, fn func(string)) {
	switch v := v.(type) {
	case string:
		fn(v)
	case []any:
		for _, x := range v {
			walkStrings(x, fn)
		}
	case map[string]any:
		for k, x := range v {
			fn(k)
			walkStrings(x, fn)
		}
	}
}

// fullUpdateJSON is the full update the API package's benchmarks send (fullUpdate there),
// on fewer lines.
const fullUpdateJSON = `{"full_name":"Kim Minji","first_name":"Minji","last_name":"Kim","email":"minji@example.com",
"phone":"010-1234-5678","gender":"female","birthday":"1956-01-21","birthday_calendar":"lunar","language":"ko",
"address":{"line1":"68 Nguyen Co Thach","city":"Ha Noi","postal_code":"100000","country":"VN"},
"company":"LadiPage","job_title":"Coder","tags":["5fffb9c981cf1245fa091985"],
"attributes":{"tier":"gold","note":"likes tea","segment":"b2c"},
"social":{"website":"https://example.com","zalo":"minji"},"lead_score":14,"order":{"order_number":"12345678910"},
"consultation":{"category_id":"75319","division_id":"75320"},
"vendor_refs":{"happytalk":{"uuid":"1000225100_sazob20220921062938","room_id":"42","users_id":"minji"},
"ladiflow":{"id":"653a3ca502e8ab00122c39c3"},"engagelab":{"euid":9007199254740993}}}`

// BenchmarkTextScans is the text rule's two checks of one clean update: the raw body
// (JSONTextErrors, before decoding) and the decoded value (TextErrors, in Prepare).
func BenchmarkTextScans(b *testing.B) {
	raw := []byte(fullUpdateJSON)
	var u CustomerUpdate
	if err := json.Unmarshal(raw, &u); err != nil {
		b.Fatal(err)
	}
	b.Run("JSONTextErrors", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if errs := JSONTextErrors("", raw); len(errs) != 0 {
				b.Fatal(errs)
			}
		}
	})
	b.Run("TextErrors", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if errs := TextErrors(u); len(errs) != 0 {
				b.Fatal(errs)
			}
		}
	})
}
