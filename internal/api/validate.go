package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

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
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi: router: %w", err)
	}
	opts := &openapi3filter.Options{
		MultiError:          true,
		SkipSettingDefaults: true,
		AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
		// The document's own format checks (above) apply only when passed on here.
		SchemaValidationOptions: doc.GetSchemaValidationOptions(),
	}
	return &Contract{doc: doc, router: router, opts: opts}, nil
}

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
// another status (404, 415) with a detail; 0 when r is valid. The body is already read in
// full (see validated), so its size was settled before.
func (c *Contract) validate(r *http.Request) (int, string, model.FieldErrors) {
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
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: c.opts}
	err = openapi3filter.ValidateRequest(r.Context(), in)
	unknown := unknownQuery(r, route)
	if err == nil && len(unknown) == 0 {
		return 0, "", nil
	}
	var errs model.FieldErrors
	if err != nil {
		errs = fieldErrors(err)
	}
	return http.StatusBadRequest, "", mergeFieldErrors(errs, unknown)
}

// unknownQuery names query parameters the operation does not declare: a typo such as
// ?dryrun=true must not turn a dry run into a real delivery.
func unknownQuery(r *http.Request, route *routers.Route) model.FieldErrors {
	var errs model.FieldErrors
	for name := range r.URL.Query() {
		if !declaresQuery(route.Operation.Parameters, name) && !declaresQuery(route.PathItem.Parameters, name) {
			errs = append(errs, model.FieldError{Field: name, Message: "unknown query parameter"})
		}
	}
	return errs
}

func declaresQuery(params openapi3.Parameters, name string) bool {
	for _, p := range params {
		if p.Value != nil && p.Value.In == openapi3.ParameterInQuery && p.Value.Name == name {
			return true
		}
	}
	return false
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
			if err != nil {
				tooLarge(w, r)
				return
			}
			status, detail, errs := c.validate(r)
			r.Body = io.NopCloser(bytes.NewReader(body))
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
		path = append(path, m[1])
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
// tags[2].
func joinPath(path []string) string {
	var b strings.Builder
	for _, p := range path {
		if isIndex(p) {
			b.WriteString("[" + p + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
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
