package model

import (
	"fmt"
	"strings"
)

// FieldError names one offending field: the JSON path in the canonical body (or a query
// parameter), and the vendor whose limit it breaks when the rule is a vendor's.
type FieldError struct {
	Field   string `json:"field"`
	Vendor  Vendor `json:"vendor,omitempty"`
	Message string `json:"message"`
}

func (e FieldError) Error() string {
	if e.Vendor != "" {
		return fmt.Sprintf("%s (%s): %s", e.Field, e.Vendor, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Field, e.Message)
}

// FieldErrors is an update that cannot be delivered as asked: the gateway answers 422 and
// sends nothing to any vendor.
type FieldErrors []FieldError

func (es FieldErrors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}
