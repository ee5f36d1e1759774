package api

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	openapi "github.com/customergateway/gateway/api"
)

// loadDocument is api/openapi.yaml as kin-openapi reads it, with every $ref kept beside
// the value it names.
func loadDocument(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openapi.Document)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// prefilled is every value Swagger UI may put into a parameter's field on "Try it out":
// the parameter's example or named examples, its schema's example and default, and the
// same in its content, if it has one.
func prefilled(p *openapi3.Parameter) []any {
	var out []any
	add := func(example any, examples openapi3.Examples, schema *openapi3.SchemaRef) {
		if example != nil {
			out = append(out, example)
		}
		for _, ex := range examples {
			if ex != nil && ex.Value != nil && ex.Value.Value != nil {
				out = append(out, ex.Value.Value)
			}
		}
		if schema != nil && schema.Value != nil {
			for _, v := range []any{schema.Value.Example, schema.Value.Default} {
				if v != nil {
					out = append(out, v)
				}
			}
		}
	}
	add(p.Example, p.Examples, p.Schema)
	for _, mt := range p.Content {
		add(mt.Example, mt.Examples, mt.Schema)
	}
	return out
}

// TestFirstTryIsSynchronous: a person's first "Try it out" on the update must get the
// README's synchronous answer (200, each vendor's outcome), not 202 queued nor a dry run.
// Swagger UI sends what a parameter's example or default prefills.
func TestFirstTryIsSynchronous(t *testing.T) {
	t.Parallel()
	op := loadDocument(t).Paths.Find("/customers/{customer_id}").Put
	if op == nil {
		t.Fatal("the document has no PUT /customers/{customer_id}")
	}
	var names []string
	for _, ref := range op.Parameters {
		p := ref.Value
		names = append(names, p.Name)
		for _, v := range prefilled(p) {
			switch {
			case strings.Contains(strings.ToLower(fmt.Sprint(v)), "respond-async"):
				t.Errorf("parameter %s (%s) is prefilled with %q: a first try would be answered 202 queued", p.Name, p.In, v)
			case p.Name == "dry_run" && fmt.Sprint(v) == "true":
				t.Errorf("parameter dry_run is prefilled with true: a first try would send nothing")
			}
		}
	}
	// The check above means something only while the operation declares Prefer.
	if !slices.Contains(names, "Prefer") {
		t.Errorf("PUT /customers/{customer_id} declares no Prefer header (parameters %q)", names)
	}
}

// TestEveryObjectSchemaIsNamed: an object with properties written inline becomes an
// anonymous type in a generated client (a Go struct literal, an inline TypeScript type)
// that callers must restate; every such object is a named schema under
// components/schemas, referred to with $ref.
func TestEveryObjectSchemaIsNamed(t *testing.T) {
	t.Parallel()
	doc := loadDocument(t)
	var inline []string
	// walk checks a schema written in place at path; a $ref is checked where it is named.
	var walk func(path string, s *openapi3.SchemaRef, named bool)
	walk = func(path string, s *openapi3.SchemaRef, named bool) {
		if s == nil || s.Value == nil || (s.Ref != "" && !named) {
			return
		}
		v := s.Value
		if !named && len(v.Properties) > 0 {
			inline = append(inline, path)
		}
		for name, p := range v.Properties {
			walk(path+"/properties/"+name, p, false)
		}
		walk(path+"/items", v.Items, false)
		walk(path+"/additionalProperties", v.AdditionalProperties.Schema, false)
		walk(path+"/not", v.Not, false)
		for kw, list := range map[string]openapi3.SchemaRefs{"allOf": v.AllOf, "anyOf": v.AnyOf, "oneOf": v.OneOf} {
			for i, sub := range list {
				walk(fmt.Sprintf("%s/%s/%d", path, kw, i), sub, false)
			}
		}
	}
	content := func(path string, c openapi3.Content) {
		for mt, m := range c {
			walk(path+"/content/"+mt+"/schema", m.Schema, false)
		}
	}
	param := func(path string, p *openapi3.ParameterRef) {
		if p != nil && p.Ref == "" && p.Value != nil {
			walk(path+"/schema", p.Value.Schema, false)
			content(path, p.Value.Content)
		}
	}
	header := func(path string, h *openapi3.HeaderRef) {
		if h != nil && h.Ref == "" && h.Value != nil {
			walk(path+"/schema", h.Value.Schema, false)
			content(path, h.Value.Content)
		}
	}
	response := func(path string, r *openapi3.ResponseRef) {
		if r != nil && r.Ref == "" && r.Value != nil {
			for name, h := range r.Value.Headers {
				header(path+"/headers/"+name, h)
			}
			content(path, r.Value.Content)
		}
	}

	c := doc.Components
	for name, s := range c.Schemas {
		walk("#/components/schemas/"+name, s, true)
	}
	for name, p := range c.Parameters {
		param("#/components/parameters/"+name, p)
	}
	for name, h := range c.Headers {
		header("#/components/headers/"+name, h)
	}
	for name, r := range c.Responses {
		response("#/components/responses/"+name, r)
	}
	for name, b := range c.RequestBodies {
		if b.Ref == "" && b.Value != nil {
			content("#/components/requestBodies/"+name, b.Value.Content)
		}
	}
	for path, item := range doc.Paths.Map() {
		at := "#/paths/" + strings.ReplaceAll(strings.ReplaceAll(path, "~", "~0"), "/", "~1")
		for i, p := range item.Parameters {
			param(fmt.Sprintf("%s/parameters/%d", at, i), p)
		}
		for method, op := range item.Operations() {
			at := at + "/" + strings.ToLower(method)
			for i, p := range op.Parameters {
				param(fmt.Sprintf("%s/parameters/%d", at, i), p)
			}
			if op.RequestBody != nil && op.RequestBody.Ref == "" && op.RequestBody.Value != nil {
				content(at+"/requestBody", op.RequestBody.Value.Content)
			}
			for status, r := range op.Responses.Map() {
				response(at+"/responses/"+status, r)
			}
		}
	}
	slices.Sort(inline)
	for _, path := range inline {
		t.Errorf("%s is an object with properties written inline: name it under components/schemas and refer to it", path)
	}
}
