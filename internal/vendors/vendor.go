// Package vendors says what a vendor plug-in is. Each vendor is a package below this one
// (its configuration, translation, wire format and dry-run masking) registered in one list
// in cmd/gateway; the rest of the gateway knows vendors only through these interfaces and
// by the names they give.
package vendors

import (
	"context"
	"time"

	"github.com/customergateway/gateway/internal/model"
)

// Call sends one request to a vendor and answers the body of an accepted answer. A
// *model.VendorError says the vendor refused or failed; any other error is a transport
// failure, and retryable. Retries, the breaker, timeouts and metrics wrap a Call from the
// outside (internal/fanout); the vendor's own Call only speaks its wire format.
type Call func(ctx context.Context, req *model.Request) ([]byte, error)

// Vendor is one vendor's plug-in. It is safe for concurrent use.
type Vendor interface {
	// Name is the vendor's name in the contract ("vendors", "vendor_refs", "results").
	Name() model.Vendor
	// DisplayName is the vendor's own spelling, for messages a person reads.
	DisplayName() string
	// Enabled reports whether the vendor's credentials are configured.
	Enabled() bool
	// Plan translates u. FieldErrors (each naming this vendor) mean the update would be
	// cut or refused by the vendor: 422, nothing sent anywhere.
	Plan(u *model.Update) (model.Plan, error)
	// Send makes one call (a Call).
	Send(ctx context.Context, req *model.Request) ([]byte, error)
	// View shows req as a dry run does, with every credential masked.
	View(req *model.Request) model.RequestView
}

// KeyResolver is a vendor that can find its own keys for a customer when the gateway
// knows none (EngageLab's EUID, from the canonical customer id).
type KeyResolver interface {
	// NeedsKeys reports whether u concerns the vendor and only its keys are missing.
	NeedsKeys(u *model.Update) bool
	// ResolveKeys asks the vendor for the customer's keys through call, which carries the
	// same retries, breaker, timeout and metrics as every other call to the vendor.
	ResolveKeys(ctx context.Context, call Call, customerID string) (model.Refs, error)
	// PlaceholderKeys stand in for keys the vendor could not give yet, so that an update
	// can be planned (the vendor's limits checked) and its delivery queued. A request
	// planned with them is never sent: the queue resolves the real keys first.
	PlaceholderKeys() model.Refs
}

// AuditTrail is a vendor that keeps an audit trail of its own, read as a source of
// GET /audit-history.
type AuditTrail interface {
	model.AuditSourceReader
	// Location is the zone the vendor keeps its dates in.
	Location() *time.Location
	// DayWindows reports whether the vendor answers at most one calendar day per call.
	DayWindows() bool
}
