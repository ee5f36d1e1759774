package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/go-chi/chi/v5"
	jsonv2 "github.com/go-json-experiment/json"

	"github.com/customergateway/gateway/internal/model"
)

// Contract is the loaded OpenAPI document and the router that finds an operation for a
// request. It is built once at start-up: loading and compiling schemas is slow.
type Contract struct {
	doc    *openapi3.T
	router routers.Router
	opts   *openapi3filter.Options
}

// LoadContract parses and validates the OpenAPI document and registers real format
// checks: kin-openapi checks "date" and "email" only by a loose pattern by default.
func LoadContract(document []byte) (*Contract, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(document)
	if err != nil {
		return nil, fmt.Errorf("openapi: load: %w", err)
	}
	doc.SetStringFormatValidators(map[string]openapi3.StringFormatValidator{
		"date":      openapi3.NewCallbackValidator(checkDate),
		"date-time": openapi3.NewCallbackValidator(checkDateTime),
		"email":     openapi3.NewCallbackValidator(checkEmail),
	})
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi: invalid document: %w", err)
	}
	withoutSecurity(doc)
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi: router: %w", err)
	}
	opts := &openapi3filter.Options{
		MultiError:          true,
		SkipSettingDefaults: true,
		// No AuthenticationFunc: the document validated with has no security requirement
		// left to call one for (withoutSecurity).
		// The document's own format checks (above) apply only when passed on here.
		SchemaValidationOptions: doc.GetSchemaValidationOptions(),
	}
	return &Contract{doc: doc, router: router, opts: opts}, nil
}

// withoutSecurity drops the security requirements from the document that validates
// requests. Callers are authenticated and their scopes checked before validation (auth.go,
// routes.go); kin-openapi's own security pass, which has only a no-op authenticator to
// call, could never refuse a request, yet it read the whole body once more and cost ten
// allocations each time. The document served at /openapi.yaml is the file as written.
func withoutSecurity(doc *openapi3.T) {
	doc.Security = nil
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			op.Security = nil
		}
	}
}

// decodeJSONBody is kin-openapi's JSON body decoder in two thirds of its time, with 37
// allocations and one copy of the body fewer for BenchmarkValidateAndTranslate's update:
// a body that encoding/json/v2 reads without complaint is decoded by it, and the schema
// reads its numbers (float64) as it reads kin-openapi's (json.Number, read as float64).
// Anything v2 refuses (invalid UTF-8, a duplicate name, data after the value, a number out
// of a float64's range) goes to kin-openapi's own decoder, so that such a body is read,
// and named in errors, exactly as before (TestJSONBodyIsReadAsKinOpenAPIReadsIt). One schema
// keyword would read the two differently: uniqueItems compares items as JSON re-encoded,
// where 1 and 1.0 are one float64 but two json.Numbers. The contract uses none, and
// TestContractHasNoUniqueItems fails on the first one added.
func decodeJSONBody(body io.Reader, header http.Header, schema *openapi3.SchemaRef, encFn openapi3filter.EncodingFn) (any, error) {
	// kin-openapi hands over its copy of the body as a reader it can rewind: read in place,
	// not copied once more, and rewound to where it stood for the fallback.
	rs, ok := body.(io.ReadSeeker)
	if !ok {
		data, err := io.ReadAll(body)
		if err != nil {
			return nil, unreadable(err)
		}
		rs = bytes.NewReader(data)
	}
	start, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, unreadable(err)
	}
	var v any
	if jsonv2.UnmarshalRead(rs, &v) == nil {
		return v, nil
	}
	if _, err := rs.Seek(start, io.SeekStart); err != nil {
		return nil, unreadable(err)
	}
	return openapi3filter.JSONBodyDecoder(rs, header, schema, encFn)
}

// unreadable is a body that could not be read, as kin-openapi's decoders report it.
func unreadable(err error) error {
	return &openapi3filter.ParseError{Kind: openapi3filter.KindInvalidFormat, Cause: err}
}

// kin-openapi keeps its body decoders in one table for the process: decodeJSONBody takes
// application/json there once, as a database/sql driver registers itself.
func init() { openapi3filter.RegisterBodyDecoder("application/json", decodeJSONBody) }

func checkDate(s string) error {
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		return errors.New("not a date that exists (YYYY-MM-DD)")
	}
	return nil
}

func checkDateTime(s string) error {
	if _, err := time.Parse(time.RFC3339, s); err != nil {
		return errors.New("not an RFC 3339 date-time with an offset (2024-01-31T09:00:00+09:00)")
	}
	return nil
}

// emailDomain asks for a dotted domain: net/mail alone accepts "a@b".
var emailDomain = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$`)

func checkEmail(s string) error {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return errors.New("not an email address")
	}
	at := strings.LastIndexByte(s, '@')
	if !emailDomain.MatchString(s[at+1:]) {
		return errors.New("not an email address: the domain is not a host name")
	}
	return nil
}

// validate checks r against its operation. It returns the field errors for a 400, or
// another status (404, 415) with a detail; 0 when r is valid. It reads the body and leaves
// a fresh reader in its place.
func (c *Contract) validate(r *http.Request) (int, string, model.FieldErrors) {
	body, err := readBody(r)
	if err != nil {
		return http.StatusBadRequest, "", model.FieldErrors{{Field: "body", Message: "the body could not be read"}}
	}
	return c.validateRequest(r, body)
}

// validateRequest checks r, whose body was read in full as body (see validated, so its
// size was settled before), first as raw bytes (the text rule, the query string as
// written, duplicate keys), then against the document. One 400 names both kinds; of two
// errors for one field, the raw one is kept: it says what the bytes are.
func (c *Contract) validateRequest(r *http.Request, body []byte) (int, string, model.FieldErrors) {
	route, params, err := c.router.FindRoute(r)
	if err != nil {
		return http.StatusNotFound, "no such operation in the contract", nil
	}
	if r.ContentLength != 0 && route.Operation.RequestBody != nil {
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mt != "application/json" {
			return http.StatusUnsupportedMediaType, "the body must be application/json", nil
		}
	}
	var bodyErrs model.FieldErrors
	if len(body) > 0 && route.Operation.RequestBody != nil {
		bodyErrs = model.JSONTextErrors("", body)
		if readDifferently(body) {
			bodyErrs = append(bodyErrs, decodedErrors(bodySchema(route), body)...)
		}
	}
	raw := queryErrors(r.URL.RawQuery, route)
	raw = append(raw, pathErrors(r, params)...)
	raw = append(raw, headerErrors(r, route)...)
	raw = append(raw, bodyErrs...)
	r.Body = io.NopCloser(bytes.NewReader(body))
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: c.opts}
	err = openapi3filter.ValidateRequest(r.Context(), in)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err == nil && len(raw) == 0 {
		return 0, "", nil
	}
	var errs model.FieldErrors
	if err != nil {
		errs = fieldErrors(err)
	}
	if len(bodyErrs) > 0 {
		errs = withoutReplacements(errs)
	}
	return http.StatusBadRequest, "", mergeFieldErrors(firstPerField(raw), errs)
}

// withoutReplacements drops the contract's errors on fields whose name holds U+FFFD: when
// the body's own text is broken they are kin-openapi's view of a name the raw check has
// already named as written (kin-openapi decodes "em\xffail" as "em\ufffdail").
func withoutReplacements(errs model.FieldErrors) model.FieldErrors {
	out := errs[:0:0]
	for _, e := range errs {
		if !strings.ContainsRune(e.Field, utf8.RuneError) {
			out = append(out, e)
		}
	}
	return out
}

// queryErrors reads the query string as it was written, not as url.Values has it:
// url.ParseQuery drops a pair with a ';' or a bad percent-escape and keeps the rest, and a
// repeated parameter is read as its first value by one reader and its first non-empty one
// by another (kin-openapi), so that "?dry_run=&dry_run=true" or "?dry_run=true;x=1" would
// pass the contract and be read by the handler as no dry run at all. So every parameter is
// refused that is not declared, written more than once (unless its schema is an array),
// separated by ';', badly escaped, not valid text, or not exactly of its schema's scalar
// form (a boolean is "true" or "false"; strconv.ParseBool's "1", "t" or "TRUE" are not).
func queryErrors(rawQuery string, route *routers.Route) model.FieldErrors {
	if rawQuery == "" {
		return nil
	}
	var errs model.FieldErrors
	values := map[string][]string{}
	var names []string
	for part := range strings.SplitSeq(rawQuery, "&") {
		if part == "" {
			continue // "?a=1&": nothing is written there
		}
		rawName, rawValue, _ := strings.Cut(part, "=")
		name, err := url.QueryUnescape(rawName)
		if err != nil {
			errs = append(errs, model.FieldError{Field: paramField(rawName), Message: "a bad percent-escape in the parameter name"})
			continue
		}
		if strings.Contains(part, ";") {
			errs = append(errs, model.FieldError{Field: paramField(strings.SplitN(name, ";", 2)[0]),
				Message: "';' is not a parameter separator: separate parameters with '&', and write a ';' in a value as %3B"})
			continue
		}
		if p := model.TextProblem(name); p != "" {
			errs = append(errs, model.FieldError{Field: paramField(name), Message: "the parameter name " + p})
			continue
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			errs = append(errs, model.FieldError{Field: paramField(name), Message: "a bad percent-escape in the value"})
			continue
		}
		if p := model.TextProblem(value); p != "" {
			errs = append(errs, model.FieldError{Field: paramField(name), Message: p})
			continue
		}
		if _, ok := values[name]; !ok {
			names = append(names, name)
		}
		values[name] = append(values[name], value)
	}
	for _, name := range names {
		p := queryParameter(route, name)
		if p == nil {
			errs = append(errs, model.FieldError{Field: paramField(name), Message: "unknown query parameter"})
			continue
		}
		if msg := queryValueProblem(p, values[name]); msg != "" {
			errs = append(errs, model.FieldError{Field: paramField(name), Message: msg})
		}
	}
	return errs
}

// queryValueProblem checks the values of declared query parameter p against its schema's
// count and scalar form; kin-openapi checks the rest (enums, ranges, patterns).
func queryValueProblem(p *openapi3.Parameter, vs []string) string {
	schema := schemaOf(p)
	if schema == nil {
		return ""
	}
	items := schema
	if schema.Type.Is(openapi3.TypeArray) {
		if schema.Items == nil || schema.Items.Value == nil {
			return ""
		}
		items = schema.Items.Value
	} else if len(vs) > 1 {
		return fmt.Sprintf("given %d times; give it once", len(vs))
	}
	for _, v := range vs {
		switch {
		case items.Type.Is(openapi3.TypeBoolean) && v != "true" && v != "false":
			return "must be exactly true or false"
		case items.Type.Is(openapi3.TypeInteger) && !integerForm.MatchString(v):
			return "must be an integer written in digits"
		}
	}
	return ""
}

// integerForm is an integer as strconv.Atoi and kin-openapi both read it the same way.
var integerForm = regexp.MustCompile(`^-?[0-9]{1,18}$`)

func schemaOf(p *openapi3.Parameter) *openapi3.Schema {
	if p.Schema == nil {
		return nil
	}
	return p.Schema.Value
}

// queryParameter is the operation's (or its path's) query parameter name; nil when neither
// declares it: a typo such as ?dryrun=true must not turn a dry run into a real delivery.
func queryParameter(route *routers.Route, name string) *openapi3.Parameter {
	for _, params := range []openapi3.Parameters{route.Operation.Parameters, route.PathItem.Parameters} {
		for _, p := range params {
			if p.Value != nil && p.Value.In == openapi3.ParameterInQuery && p.Value.Name == name {
				return p.Value
			}
		}
	}
	return nil
}

// paramField names a parameter in a field error; a name that is not plain text is quoted.
func paramField(name string) string { return model.JoinField("", name) }

// pathErrors applies the text rule to the path parameters, as the contract's router read
// them and as chi hands them to the handler, and refuses a parameter the two read
// differently (chi reads the escaped path when it has an escape the path would not need):
// the handler must get the value that was validated.
func pathErrors(r *http.Request, params map[string]string) model.FieldErrors {
	var errs model.FieldErrors
	rctx := chi.RouteContext(r.Context())
	for name, v := range params {
		handed := v
		if rctx != nil {
			handed = rctx.URLParam(name)
		}
		switch {
		case model.TextProblem(handed) != "":
			errs = append(errs, model.FieldError{Field: name, Message: model.TextProblem(handed)})
		case model.TextProblem(v) != "":
			errs = append(errs, model.FieldError{Field: name, Message: model.TextProblem(v)})
		case handed != v:
			errs = append(errs, model.FieldError{Field: name, Message: "written with a percent-escape the gateway cannot read as the contract does; write it without escapes"})
		}
	}
	return errs
}

// headerErrors applies the text rule to the header parameters the operation declares
// (Idempotency-Key is stored: PostgreSQL refuses invalid UTF-8 in text, a 500). HTTP
// allows bytes 0x80-0xff in a header, and net/http passes them on. X-Request-Id is left
// out: one that is not visible ASCII is replaced, as the document says, not refused.
func headerErrors(r *http.Request, route *routers.Route) model.FieldErrors {
	var errs model.FieldErrors
	for _, params := range []openapi3.Parameters{route.Operation.Parameters, route.PathItem.Parameters} {
		for _, p := range params {
			if p.Value == nil || p.Value.In != openapi3.ParameterInHeader || strings.EqualFold(p.Value.Name, RequestIDHeader) {
				continue
			}
			for _, v := range r.Header.Values(p.Value.Name) {
				if msg := model.TextProblem(v); msg != "" {
					errs = append(errs, model.FieldError{Field: p.Value.Name, Message: msg})
					break
				}
			}
		}
	}
	return errs
}

// bodySchema is the operation's JSON body schema; nil when it has none.
func bodySchema(route *routers.Route) *openapi3.Schema {
	rb := route.Operation.RequestBody
	if rb == nil || rb.Value == nil {
		return nil
	}
	mt := rb.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		return nil
	}
	return mt.Schema.Value
}

// decodedErrors names what kin-openapi reads differently from the handler's decoder:
// data after the JSON value (kin-openapi reads the first value and stops), and every
// number the schema says is an integer but the body writes otherwise. kin-openapi reads
// numbers as float64, so it takes 1e3, 7.0 and 9223372036854775808 (which a float64
// cannot tell from 2^63-1) for integers; the handler does not: an int64 field refuses
// them, and a vendor ref, kept as the literal sent, would be read as no key at all, that
// vendor's delivery for the customer silently skipped.
//
// Decoding the body once more costs as much as the validation itself, so it runs only when
// readDifferently finds something it could name.
func decodedErrors(schema *openapi3.Schema, body []byte) model.FieldErrors {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil // malformed: kin-openapi says so
	}
	var errs model.FieldErrors
	if _, err := dec.Token(); err != io.EOF {
		errs = append(errs, model.FieldError{Field: "body", Message: "data after the JSON value"})
	}
	walkIntegers(schema, v, "", &errs)
	return errs
}

func walkIntegers(schema *openapi3.Schema, v any, path string, errs *model.FieldErrors) {
	if schema == nil || len(*errs) >= 100 {
		return
	}
	switch v := v.(type) {
	case json.Number:
		if schema.Type.Is(openapi3.TypeInteger) {
			if _, err := strconv.ParseInt(string(v), 10, 64); err != nil {
				*errs = append(*errs, model.FieldError{Field: orBody(path), Message: "an integer is written in digits, with no fraction or exponent, within 64 bits"})
			}
		}
	case map[string]any:
		for key, child := range v {
			var cs *openapi3.Schema
			if p, ok := schema.Properties[key]; ok && p != nil {
				cs = p.Value
			} else if ap := schema.AdditionalProperties.Schema; ap != nil {
				cs = ap.Value
			}
			walkIntegers(cs, child, model.JoinField(path, key), errs)
		}
	case []any:
		if schema.Items == nil {
			return
		}
		for i, child := range v {
			walkIntegers(schema.Items.Value, child, model.IndexField(path, i), errs)
		}
	}
}

// firstPerField keeps the first error of each field.
func firstPerField(errs model.FieldErrors) model.FieldErrors {
	return mergeFieldErrors(nil, errs)
}

// BodyRules are checks the document cannot express, run on a body the contract refused so
// that one 400 names every offending field, not only the ones the schema saw.
type BodyRules func(r *http.Request, body []byte) model.FieldErrors

// validated runs the contract's checks before the handler; nothing reaches a handler that
// breaks the document.
func (c *Contract) validated(rules BodyRules) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := readBody(r) // over limitBody's cap, this is where it shows
			var tooBig *http.MaxBytesError
			switch {
			case errors.As(err, &tooBig):
				tooLarge(w, r)
				return
			case err != nil: // a body cut short: the read timeout, or a client gone
				writeProblem(w, r, Problem{Type: "request-timeout", Title: "The request body did not arrive in time", Status: http.StatusRequestTimeout})
				return
			}
			// A small body can still be a huge JSON value (a megabyte of [1,1,...] is a
			// million values for the validator to decode): bounded before it is decoded.
			if ok, why := jsonShapeWithin(body); !ok {
				badRequest(w, r, why, model.FieldErrors{{Field: "body", Message: why}})
				return
			}
			status, detail, errs := c.validateRequest(r, body)
			switch {
			case status == 0:
				next.ServeHTTP(w, r)
			case status == http.StatusBadRequest:
				if rules != nil {
					errs = mergeFieldErrors(errs, rules(r, body))
				}
				badRequest(w, r, summarize(errs), errs)
			case status == http.StatusUnsupportedMediaType:
				writeProblem(w, r, Problem{Type: "unsupported-media-type", Title: "Unsupported media type", Status: status, Detail: detail})
			default:
				writeProblem(w, r, Problem{Type: "not-found", Title: "Not found", Status: status, Detail: detail})
			}
		})
	}
}

// readBody reads the (size-limited) body once and leaves a fresh reader in its place.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return b, nil
}

// mergeFieldErrors adds the extra errors for fields the first list does not name yet.
func mergeFieldErrors(errs, extra model.FieldErrors) model.FieldErrors {
	named := make(map[string]bool, len(errs))
	for _, e := range errs {
		named[e.Field] = true
	}
	for _, e := range extra {
		if !named[e.Field] {
			errs = append(errs, e)
		}
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
	return errs
}

func summarize(errs model.FieldErrors) string {
	if len(errs) == 1 {
		return errs[0].Error()
	}
	return fmt.Sprintf("%d fields are invalid", len(errs))
}

// fieldErrors flattens kin-openapi's errors into one entry per offending field.
func fieldErrors(err error) model.FieldErrors {
	var out model.FieldErrors
	collectFieldErrors(err, "", &out)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	if len(out) == 0 {
		out = model.FieldErrors{{Field: "body", Message: "the request does not match the contract"}}
	}
	return out
}

func collectFieldErrors(err error, field string, out *model.FieldErrors) {
	// A type switch, not errors.As: a RequestError unwraps to its inner MultiError, and
	// matching that first would lose the parameter's name.
	switch e := err.(type) {
	case openapi3.MultiError:
		for _, inner := range e {
			collectFieldErrors(inner, field, out)
		}
	case *openapi3filter.RequestError:
		if e.Parameter != nil {
			field = e.Parameter.Name
		}
		if e.Err == nil {
			*out = append(*out, model.FieldError{Field: orBody(field), Message: e.Reason})
			return
		}
		collectFieldErrors(e.Err, field, out)
	case *openapi3.SchemaError:
		*out = append(*out, schemaFieldError(e, field))
	case *openapi3filter.ParseError:
		*out = append(*out, model.FieldError{Field: orBody(field), Message: "malformed: " + e.Error()})
	default:
		if inner := errors.Unwrap(err); inner != nil {
			collectFieldErrors(inner, field, out)
			return
		}
		*out = append(*out, model.FieldError{Field: orBody(field), Message: err.Error()})
	}
}

var unsupportedProperty = regexp.MustCompile(`^property "(.*)" is unsupported$`)

func schemaFieldError(e *openapi3.SchemaError, prefix string) model.FieldError {
	path := e.JSONPointer()
	msg := e.Reason
	if m := unsupportedProperty.FindStringSubmatch(e.Reason); m != nil {
		// kin-openapi writes the name with %q: read it back, so that the field is named as
		// every other error names it.
		name, err := strconv.Unquote(`"` + m[1] + `"`)
		if err != nil {
			name = m[1]
		}
		path = append(path, name)
		msg = "unknown field"
	}
	if e.Origin != nil && e.SchemaField == "format" {
		msg = e.Origin.Error()
	}
	field := joinPath(path)
	if prefix != "" {
		if field == "" {
			field = prefix
		} else {
			field = prefix + "." + field
		}
	}
	return model.FieldError{Field: orBody(field), Message: msg}
}

// joinPath renders a JSON pointer as the dotted path callers write: address.postal_code,
// tags[2]; a name that is not plain text is quoted (model.JoinField).
func joinPath(path []string) string {
	field := ""
	for _, p := range path {
		if isIndex(p) {
			field += "[" + p + "]"
			continue
		}
		field = model.JoinField(field, p)
	}
	return field
}

func isIndex(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func orBody(field string) string {
	if field == "" {
		return "body"
	}
	return field
}

// readDifferently reports whether body holds what decodedErrors looks for: a number with a
// fraction, an exponent or more digits than an int64 may have, or anything after the first
// JSON value. It scans the bytes once, outside strings, and allocates nothing.
func readDifferently(body []byte) bool {
	depth, digits, started := 0, 0, false
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c == '"' {
			if depth == 0 && started {
				return true // a string after the closing bracket
			}
			digits = 0
			i = stringEnd(body, i)
			continue
		}
		switch {
		case (c == '.' || c == 'e' || c == 'E') && digits > 0:
			return true // inside a number: true and false hold an e too
		case c >= '0' && c <= '9':
			if digits++; digits > 18 {
				return true
			}
		case c == '{' || c == '[':
			if depth == 0 && started {
				return true // a second value
			}
			depth++
			started = true
		case c == '}' || c == ']':
			if depth == 0 {
				return true // a closing bracket with nothing open: after the value, or before it
			}
			depth--
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			digits = 0
			continue
		default:
			digits = 0
		}
		if depth == 0 && started && c != '}' && c != ']' {
			return true // something after the closing bracket
		}
	}
	return false
}
