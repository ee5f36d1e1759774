package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// The text rule (DESIGN.md 7): every string the gateway accepts is valid UTF-8 and holds no
// control character but tab and newline. "Control character" is Unicode's Cc category: the
// C0 controls U+0000-U+001F, DEL U+007F and the C1 controls U+0080-U+009F. DEL and C1 are
// refused with C0: no customer data needs them, a C1 byte such as U+009B is a terminal
// escape in some log viewers, and an invisible character the vendor may strip would change
// the value behind the caller's back. Carriage return is refused too: a line break is "\n".
// Other invisible characters (format characters such as U+200D, which emoji and Persian
// text need) are text, and pass.

// TextProblem says why s is not text the gateway accepts, or "" when it is: a message that
// starts "holds ...". It names the offset and the code point, never the value, which may
// be personal data.
func TextProblem(s string) string {
	if printableASCII(s) {
		return ""
	}
	for i, r := range s {
		if p := runeProblem(r, s[i:], i); p != "" {
			return p
		}
	}
	return ""
}

// bytesProblem is TextProblem(string(b)) without copying b: a range over string(b) reads
// b in place.
func bytesProblem(b []byte) string {
	if printableASCII(b) {
		return ""
	}
	for i, r := range string(b) {
		if p := runeProblem(r, b[i:], i); p != "" {
			return p
		}
	}
	return ""
}

// printableASCII reports whether s is all printable ASCII (U+0020-U+007E), which the text
// rule always accepts: nearly every string is, and comparing bytes halves the time of
// JSONTextErrors and TextErrors on BenchmarkTextScans' update (decoding each rune and
// asking runeProblem cost 4.1 and 2.6 µs; now 2.5 and 2.0).
func printableASCII[T string | []byte](s T) bool {
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// runeProblem is what TextProblem says of r, read at offset i where rest starts.
func runeProblem[T string | []byte](r rune, rest T, i int) string {
	if r == utf8.RuneError && string(rest[:min(len(rest), 3)]) != "\uFFFD" {
		return fmt.Sprintf("holds invalid UTF-8 (byte 0x%02x at offset %d)", rest[0], i)
	}
	if isControl(r) {
		return fmt.Sprintf("holds the control character %U at offset %d; only tab and newline are allowed", r, i)
	}
	return ""
}

func isControl(r rune) bool {
	return r != '\t' && r != '\n' && (r < 0x20 || (r >= 0x7f && r <= 0x9f))
}

// JoinField names key below the field path parent the way field errors do:
// attributes.tier. A key that would not read back as itself (empty, with a dot, a bracket,
// a quote, U+FFFD, or anything that is not printable text) is written quoted:
// attributes["a.b"], attributes["ti\x00er"], so that a field name is never ambiguous and
// never carries a control character into a log line or an answer.
func JoinField(parent, key string) string {
	if !plainKey(key) {
		return parent + "[" + strconv.Quote(key) + "]"
	}
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// IndexField names element i of the array at parent: tags[2].
func IndexField(parent string, i int) string {
	return parent + "[" + strconv.Itoa(i) + "]"
}

func plainKey(key string) bool {
	if key == "" || !utf8.ValidString(key) {
		return false
	}
	for _, r := range key {
		switch {
		case r == '.' || r == '[' || r == ']' || r == '"' || r == '\\' || r == utf8.RuneError:
			return false
		case r == ' ':
		case !unicode.IsGraphic(r) || unicode.IsSpace(r):
			return false
		}
	}
	return true
}

// TextErrors names every string in v (a canonical value such as CustomerUpdate: strings,
// pointers, structs, slices, maps with string keys, raw JSON) that breaks the text rule, map
// keys included, at its JSON path, in field order. It reads the json tags, so a field added
// to the canonical types is covered without a change here.
func TextErrors(v any) FieldErrors {
	var errs FieldErrors
	textErrors(reflect.ValueOf(v), &textPath{segs: make([]pathSeg, 0, 8)}, &errs)
	sortFields(errs)
	return errs
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// textPath is the path textErrors is at, as segments: it is joined into a field name only
// when a string breaks the rule, so a clean update (nearly all of them) costs no
// allocation per field.
type textPath struct{ segs []pathSeg }

func (p *textPath) push(s pathSeg) { p.segs = append(p.segs, s) }
func (p *textPath) pop()           { p.segs = p.segs[:len(p.segs)-1] }

func (p *textPath) String() string {
	f := ""
	for _, s := range p.segs {
		if s.index >= 0 {
			f = IndexField(f, s.index)
		} else {
			f = JoinField(f, s.key)
		}
	}
	return f
}

func textErrors(v reflect.Value, path *textPath, errs *FieldErrors) {
	if !v.IsValid() {
		return
	}
	if v.Type() == rawMessageType {
		rawTextErrors(v.Bytes(), path, errs)
		return
	}
	switch v.Kind() {
	case reflect.String:
		if p := TextProblem(v.String()); p != "" {
			*errs = append(*errs, FieldError{Field: orBody(path.String()), Message: p})
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			textErrors(v.Elem(), path, errs)
		}
	case reflect.Struct:
		for _, f := range jsonFieldsOf(v.Type()) {
			path.push(pathSeg{key: f.name, index: -1})
			textErrors(v.Field(f.index), path, errs)
			path.pop()
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			path.push(pathSeg{index: i})
			textErrors(v.Index(i), path, errs)
			path.pop()
		}
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return
		}
		if v.CanInterface() && textMapErrors(v.Interface(), path, errs) {
			return
		}
		// One key and one value, set from the iterator: Key and Value would copy each.
		k, elem := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		var iter reflect.MapIter
		iter.Reset(v)
		for iter.Next() {
			k.SetIterKey(&iter)
			elem.SetIterValue(&iter)
			if textKeyErrors(k.String(), path, errs) {
				textErrors(elem, path, errs)
			}
			path.pop()
		}
	}
}

// jsonField is a struct field that JSON reads, by its index and its JSON name.
type jsonField struct {
	index int
	name  string
}

// jsonFields holds jsonFieldsOf's answer per struct type: reading the tags again for every
// field of every update was near half of TextErrors' time (7 µs against 4 per update).
var jsonFields sync.Map // reflect.Type -> []jsonField

// jsonFieldsOf lists the exported fields of struct type t that JSON reads, in order.
func jsonFieldsOf(t reflect.Type) []jsonField {
	if fs, ok := jsonFields.Load(t); ok {
		return fs.([]jsonField)
	}
	var fs []jsonField
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fs = append(fs, jsonField{index: i, name: name})
	}
	jsonFields.Store(t, fs)
	return fs
}

// textMapErrors is textErrors for the maps of strings and raw values a CustomerUpdate has,
// without reflection; false for any other map.
func textMapErrors(m any, path *textPath, errs *FieldErrors) bool {
	switch m := m.(type) {
	case map[string]string:
		for key, s := range m {
			if textKeyErrors(key, path, errs) {
				if p := TextProblem(s); p != "" {
					*errs = append(*errs, FieldError{Field: orBody(path.String()), Message: p})
				}
			}
			path.pop()
		}
	case Refs:
		for key, raw := range m {
			if textKeyErrors(key, path, errs) {
				rawTextErrors(raw, path, errs)
			}
			path.pop()
		}
	default:
		return false
	}
	return true
}

// textKeyErrors pushes the map key onto path and checks it; true when it is text, so
// that its value is checked next. The caller pops it.
func textKeyErrors(key string, path *textPath, errs *FieldErrors) bool {
	path.push(pathSeg{key: key, index: -1})
	if p := TextProblem(key); p != "" {
		*errs = append(*errs, FieldError{Field: path.String(), Message: "the name " + p})
		return false
	}
	return true
}

// rawTextErrors checks the raw JSON value b at path.
func rawTextErrors(b []byte, path *textPath, errs *FieldErrors) {
	if bytes.ContainsAny(b, "\\\x00\x7f") || !utf8.Valid(b) || hasControlBytes(b) {
		*errs = append(*errs, JSONTextErrors(path.String(), b)...)
	}
}

// hasControlBytes reports whether b holds a byte of a C0 control but tab and newline, or
// the lead byte of a C1 control (0xc2 0x80-0x9f): a raw JSON value worth a full scan.
func hasControlBytes(b []byte) bool {
	for i, c := range b {
		if (c < 0x20 && c != '\t' && c != '\n') || (c == 0xc2 && i+1 < len(b) && b[i+1] >= 0x80 && b[i+1] <= 0x9f) {
			return true
		}
	}
	return false
}

func orBody(field string) string {
	if field == "" {
		return "body"
	}
	return field
}

func sortFields(errs FieldErrors) {
	slices.SortStableFunc(errs, func(a, b FieldError) int { return strings.Compare(a.Field, b.Field) })
}

// maxJSONDepth is encoding/json's own nesting limit: deeper documents are malformed for
// every decoder the gateway uses, so the scan stops there.
const maxJSONDepth = 10000

// maxTextErrors bounds what one document can make the scan report (and the answer carry);
// past it the request is refused all the same.
const maxTextErrors = 100

// maxFieldLen bounds a field name in an error: a key may be as long as the body.
const maxFieldLen = 256

// JSONTextErrors reads the JSON document raw, whose value sits at field path parent ("" for
// a whole body), and names every string in it, object keys included, that breaks the text
// rule, and every object key named twice (at most maxTextErrors of them). It reads the
// bytes themselves, before any decoding: encoding/json turns invalid UTF-8 and lone
// surrogates ("\ud800") into U+FFFD without a word, so a check on decoded values cannot
// see them. Escapes count as what they stand for: "\u0000" is a NUL. A key named twice is
// refused because decoders disagree on which value wins. The scan stops at the first
// syntax error, which the decoder reports. Its cost is linear in the document's size.
func JSONTextErrors(parent string, raw []byte) FieldErrors {
	s := jsonScan{data: raw, parent: parent, path: make([]scanSeg, 0, 8), keys: make([][]byte, 0, keysByScan)}
	s.ws()
	if s.pos < len(s.data) {
		s.value(0)
	}
	sortFields(s.errs)
	return s.errs
}

type jsonScan struct {
	data   []byte
	pos    int
	parent string
	// path is where the scan is, rendered into a field name only when one is reported:
	// building it at every level would cost the square of the nesting depth.
	path []scanSeg
	// keys are the keys of the objects the scan is in, each object's after its parent's,
	// to find a key named twice: most objects have a few, compared without a map.
	keys [][]byte
	errs FieldErrors
}

// scanSeg is one step of a scan's path: an object key as the body writes it (its text
// when it has escapes), or an array index when index >= 0.
type scanSeg struct {
	key   []byte
	index int
}

// keysByScan is how many keys an object may have before the scan looks them up in a map.
// A customer update's top-level object has some twenty.
const keysByScan = 32

// pathSeg is one step of a path: an object key, or an array index when index >= 0.
type pathSeg struct {
	key   string
	index int
}

func (s *jsonScan) field() string {
	f := s.parent
	for _, p := range s.path {
		if p.index >= 0 {
			f = IndexField(f, p.index)
		} else {
			f = JoinField(f, string(p.key))
		}
		if len(f) > maxFieldLen {
			return truncate(f, maxFieldLen) + "..."
		}
	}
	return f
}

// truncate cuts s to at most n bytes at a character boundary.
func truncate(s string, n int) string {
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func (s *jsonScan) ws() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func (s *jsonScan) peek() byte {
	if s.pos < len(s.data) {
		return s.data[s.pos]
	}
	return 0
}

// fail reports msg at the current path; false once enough has been reported.
func (s *jsonScan) fail(msg string) bool {
	s.errs = append(s.errs, FieldError{Field: orBody(s.field()), Message: msg})
	return len(s.errs) < maxTextErrors
}

// value scans one value at s.path; false at a syntax error or when the scan should stop.
func (s *jsonScan) value(depth int) bool {
	if depth > maxJSONDepth {
		return false
	}
	switch c := s.peek(); {
	case c == '{':
		return s.object(depth + 1)
	case c == '[':
		return s.array(depth + 1)
	case c == '"':
		_, problem, ok := s.str()
		if problem != "" && !s.fail(problem) {
			return false
		}
		return ok
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	default:
		for _, lit := range []string{"true", "false", "null"} {
			if bytes.HasPrefix(s.data[s.pos:], []byte(lit)) {
				s.pos += len(lit)
				return true
			}
		}
		return false
	}
}

func (s *jsonScan) object(depth int) bool {
	s.pos++ // {
	s.ws()
	if s.peek() == '}' {
		s.pos++
		return true
	}
	var seen map[string]bool // past keysByScan keys
	first := len(s.keys)
	s.path = append(s.path, scanSeg{index: -1})
	defer func() { s.path, s.keys = s.path[:len(s.path)-1], s.keys[:first] }()
	for {
		s.ws()
		if s.peek() != '"' {
			return false
		}
		key, problem, ok := s.str()
		if !ok {
			return false
		}
		s.path[len(s.path)-1].key = key
		switch {
		case problem != "":
			if !s.fail("the name " + problem) {
				return false
			}
		case s.named(key, first, seen):
			if !s.fail("named twice in one object; name each field once") {
				return false
			}
		}
		switch {
		case seen != nil:
			seen[string(key)] = true
		case len(s.keys)-first < keysByScan:
			s.keys = append(s.keys, key)
		default:
			seen = make(map[string]bool, 2*keysByScan)
			for _, k := range s.keys[first:] {
				seen[string(k)] = true
			}
			seen[string(key)] = true
		}
		s.ws()
		if s.peek() != ':' {
			return false
		}
		s.pos++
		s.ws()
		if !s.value(depth) {
			return false
		}
		s.ws()
		switch s.peek() {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return true
		default:
			return false
		}
	}
}

func (s *jsonScan) array(depth int) bool {
	s.pos++ // [
	s.ws()
	if s.peek() == ']' {
		s.pos++
		return true
	}
	s.path = append(s.path, scanSeg{})
	defer func() { s.path = s.path[:len(s.path)-1] }()
	for i := 0; ; i++ {
		s.path[len(s.path)-1].index = i
		s.ws()
		if !s.value(depth) {
			return false
		}
		s.ws()
		switch s.peek() {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return true
		default:
			return false
		}
	}
}

// named reports whether the object whose keys start at s.keys[first] (and, past
// keysByScan of them, are in seen) already has key.
func (s *jsonScan) named(key []byte, first int, seen map[string]bool) bool {
	if seen != nil {
		return seen[string(key)]
	}
	for _, k := range s.keys[first:] {
		if bytes.Equal(k, key) {
			return true
		}
	}
	return false
}

// number skips a JSON number; its value is the decoder's business.
func (s *jsonScan) number() bool {
	start := s.pos
	for s.pos < len(s.data) {
		switch c := s.data[s.pos]; {
		case c >= '0' && c <= '9', c == '-', c == '+', c == '.', c == 'e', c == 'E':
			s.pos++
		default:
			return s.pos > start
		}
	}
	return s.pos > start
}

// str reads the string literal at s.pos. It answers the text it stands for, with raw bytes
// kept as they are and escapes decoded, and what the text rule says of it: a lone UTF-16
// surrogate in an escape (which stands for no character at all, and which the text cannot
// show), else TextProblem of the text (invalid UTF-8, or a control character, "\u0000"
// included). A string of printable ASCII with no escape, nearly every one, is known to be
// text from this one pass. ok is false at a syntax error: an unterminated string, a bad
// escape, a raw control byte. A text with no escape is the body's own bytes, not a copy.
func (s *jsonScan) str() (text []byte, problem string, ok bool) {
	s.pos++ // "
	var b []byte
	start := s.pos
	ascii := true // every byte so far printable ASCII (a byte below 0x20 is a syntax error)
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			text = b
			if b == nil {
				text = s.data[start:s.pos:s.pos]
			}
			s.pos++
			if problem == "" && (b != nil || !ascii) {
				problem = bytesProblem(text)
			}
			return text, problem, true
		case c < 0x20:
			return nil, "", false
		case c == '\\':
			if b == nil {
				b = append([]byte{}, s.data[start:s.pos]...)
			}
			r, n, p, ok := s.escape(len(b))
			if !ok {
				return nil, "", false
			}
			if p != "" && problem == "" {
				problem = p
			}
			b = utf8.AppendRune(b, r)
			s.pos += n
		default:
			ascii = ascii && c < 0x7f
			if b != nil {
				b = append(b, c)
			}
			s.pos++
		}
	}
	return nil, "", false
}

// shortEscapes are JSON's two-character escapes and what they stand for.
var shortEscapes = map[byte]rune{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// escape decodes the escape at s.pos (a backslash), which lands at offset at of the text:
// the rune, the escape's length, and a problem for a lone surrogate.
func (s *jsonScan) escape(at int) (r rune, n int, problem string, ok bool) {
	if s.pos+1 >= len(s.data) {
		return 0, 0, "", false
	}
	c := s.data[s.pos+1]
	if r, ok := shortEscapes[c]; ok {
		return r, 2, "", true
	}
	if c != 'u' {
		return 0, 0, "", false
	}
	hi, ok := s.hex4(s.pos + 2)
	if !ok {
		return 0, 0, "", false
	}
	if hi < 0xd800 || hi > 0xdfff {
		return hi, 6, "", true
	}
	lone := fmt.Sprintf(`holds a lone UTF-16 surrogate \u%04x at offset %d, which is no character`, hi, at)
	if hi >= 0xdc00 {
		return utf8.RuneError, 6, lone, true
	}
	if s.pos+7 < len(s.data) && s.data[s.pos+6] == '\\' && s.data[s.pos+7] == 'u' {
		if lo, ok := s.hex4(s.pos + 8); ok && lo >= 0xdc00 && lo <= 0xdfff {
			return 0x10000 + (hi-0xd800)<<10 + (lo - 0xdc00), 12, "", true
		}
	}
	return utf8.RuneError, 6, lone, true
}

func (s *jsonScan) hex4(at int) (rune, bool) {
	if at+4 > len(s.data) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(s.data[at:at+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	return rune(n), true
}
