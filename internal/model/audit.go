package model

import (
	"context"
	"time"
)

// AuditSource names where an audit event comes from.
type AuditSource string

// SourceGateway is the gateway's own records; each vendor that keeps an audit trail is a
// source of the vendor's name.
const SourceGateway AuditSource = "gateway"

// AuditType says whether a person or the system caused an event.
type AuditType string

// The audit event types: a person's action or the system's.
const (
	TypeManual    AuditType = "manual"
	TypeAutomatic AuditType = "automatic"
)

// AuditKind is what kind of event it is. Unknown vendor codes are kept as they are, so a
// new vendor kind is passed on rather than dropped.
type AuditKind string

// The known audit kinds: the vendors' (archive, key issued, manager action) and the
// gateway's own updates.
const (
	KindArchive        AuditKind = "archive"
	KindKeyIssued      AuditKind = "key_issued"
	KindManagerAction  AuditKind = "manager_action"
	KindCustomerUpdate AuditKind = "customer_update"
	// KindVendorDelivery is the outcome of a delivery the gateway queued and sent later.
	KindVendorDelivery AuditKind = "vendor_delivery"
	// KindDeliveryAction is an operator's retry or cancellation of a queued delivery.
	KindDeliveryAction AuditKind = "delivery_action"
)

// AuditEvent is one normalised event of the audit trail.
type AuditEvent struct {
	ID         string      `json:"id"`
	Source     AuditSource `json:"source"`
	OccurredAt time.Time   `json:"occurred_at"`
	Type       AuditType   `json:"type,omitempty"`
	Kind       AuditKind   `json:"kind"`
	Actor      string      `json:"actor,omitempty"`
	Summary    string      `json:"summary,omitempty"`
	TargetID   string      `json:"target_id,omitempty"`
	Result     string      `json:"result,omitempty"`
	AppliedAt  *time.Time  `json:"applied_at,omitempty"`
	CustomerID string      `json:"customer_id,omitempty"`
	// Details carries source-specific data (the gateway's changed fields and vendor statuses).
	Details map[string]any `json:"details,omitempty"`
}

// Window is a time range [From, To) asked of one source in one call.
type Window struct {
	From time.Time
	To   time.Time
}

// AuditSourceReader reads one source's events within a window; the window is at most one
// calendar day in the source's own zone when the source demands it.
type AuditSourceReader interface {
	Source() AuditSource
	Events(ctx context.Context, w Window) ([]AuditEvent, error)
}

// AuditKey is an event's place in the audit trail's order: its instant, then its id
// compared byte by byte.
type AuditKey struct {
	At time.Time
	ID string
}

// AuditPage asks a source for one page of its events: those of Window that match the
// filters (empty: any) and come after After in the order asked (nil: from the start),
// ordered by OccurredAt then ID, descending when Desc, at most Limit of them.
type AuditPage struct {
	Window     Window
	Type       AuditType
	Kind       AuditKind
	CustomerID string
	Desc       bool
	After      *AuditKey
	Limit      int
}

// AuditPageReader is a source that filters, orders and pages its own events (a database),
// so a page is read without loading the whole range.
type AuditPageReader interface {
	AuditSourceReader
	EventsPage(ctx context.Context, p AuditPage) ([]AuditEvent, error)
}
