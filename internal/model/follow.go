package model

import "time"

// UpdateRecord is an update as GET /updates/{update_id} shows it: the PUT's answer, each
// vendor's line kept current as its queued delivery ends.
type UpdateRecord struct {
	UpdateResult
	Caller     string    `json:"caller"`
	ReceivedAt time.Time `json:"received_at"`
	// Refused names what a 422 refused (fields and vendors, never the messages, which can
	// quote a value); empty for an update that was sent.
	Refused []RefusedField `json:"refused,omitempty"`
}

// RefusedField is one field a 422 named, and the vendor that refused it when one did.
type RefusedField struct {
	Field  string `json:"field"`
	Vendor Vendor `json:"vendor,omitempty"`
}

// Waiting lists the vendors whose delivery of the update is still queued.
func (u UpdateRecord) Waiting() []Vendor {
	var vs []Vendor
	for v, r := range u.Results {
		if r.Status == StatusQueued {
			vs = append(vs, v)
		}
	}
	return vs
}

// Origin names what a queued delivery came from: the request and the update.
type Origin struct {
	RequestID string
	UpdateID  string
	// TraceParent is the request's W3C trace context, when tracing is on.
	TraceParent string
}

// Delivery is one queued delivery as an operator sees it: waiting (queued), or ended
// without success (failed, rejected, cancelled). Every update queued for the customer at
// the vendor while it waited is merged into it, the newest value of each field winning.
type Delivery struct {
	DeliveryID string `json:"delivery_id"`
	// UpdateID is the newest update merged into the delivery; UpdateIDs all of them.
	UpdateID    string     `json:"update_id"`
	UpdateIDs   []string   `json:"update_ids"`
	CustomerID  string     `json:"customer_id"`
	Vendor      Vendor     `json:"vendor"`
	Status      Status     `json:"status"`
	Attempts    int        `json:"attempts"`
	QueuedAt    time.Time  `json:"queued_at"`
	QueuedUntil time.Time  `json:"queued_until"`
	EndedAt     *time.Time `json:"ended_at,omitempty"`
	Error       string     `json:"error,omitempty"`
	// Retryable is true for an ended delivery whose fields are still kept.
	Retryable bool `json:"retryable"`
}

// DeliveryFilter selects deliveries for GET /deliveries, newest first.
type DeliveryFilter struct {
	Status     Status
	Vendor     Vendor
	CustomerID string
	// After is the cursor: the delivery_id of the last delivery of the previous page.
	After string
	Limit int
}

// CustomerView is the gateway's view of one customer, for GET /customers/{customer_id}.
type CustomerView struct {
	CustomerID string                        `json:"customer_id"`
	VendorRefs VendorRefs                    `json:"vendor_refs"`
	Vendors    map[Vendor]CustomerVendorView `json:"vendors"`
}

// CustomerVendorView is what one vendor has of a customer from the gateway: names, never
// values.
type CustomerVendorView struct {
	LastUpdateID    string     `json:"last_update_id,omitempty"`
	LastDeliveredAt *time.Time `json:"last_delivered_at,omitempty"`
	// Pending is true while a delivery to the vendor waits in the queue.
	Pending bool `json:"pending"`
	// Fields are the paths of the fields delivered (address.city, email, ...).
	Fields []string `json:"fields"`
}

// The errors of the follow-up operations, each with its model code.
var (
	ErrUpdateNotFound   = &Error{Code: ENotFound, Detail: "no update with this id is kept"}
	ErrCustomerNotFound = &Error{Code: ENotFound, Detail: "the gateway has kept nothing for this customer"}
	ErrDeliveryNotFound = &Error{Code: ENotFound, Detail: "no delivery with this id is kept"}
	// ErrDeliveryWaiting: only an ended delivery can be retried.
	ErrDeliveryWaiting = &Error{Code: EConflict, Detail: "the delivery is still queued: it is being retried already"}
	// ErrDeliveryEnded: only a waiting delivery can be cancelled.
	ErrDeliveryEnded = &Error{Code: EConflict, Detail: "the delivery has ended: there is nothing left to cancel"}
	// ErrDeliveryPurged: its fields passed GATEWAY_DELIVERY_RETENTION and were dropped.
	ErrDeliveryPurged = &Error{Code: EConflict, Detail: "the delivery's fields are no longer kept (GATEWAY_DELIVERY_RETENTION): send the update again"}
	// ErrDeliverySuperseded: every field is older than what the vendor received since.
	ErrDeliverySuperseded = &Error{Code: EConflict, Detail: "a newer update delivered every field of this one since: nothing to send"}
)

// UpdateWrites is everything one update leaves in the store, written in one transaction:
// none of it is kept without the rest, and a queued delivery never runs before the refs
// the update brought are stored.
type UpdateWrites struct {
	CustomerID string
	// Refs are merged over the stored ones: the refs the caller sent and any key the
	// gateway resolved. Empty when they change nothing.
	Refs VendorRefs
	// Queue are the vendors whose deliveries are queued, each first tried at its At, with
	// Fields (the update as sent, split and stamped) from Origin.
	Queue  []QueueItem
	Fields PendingFields
	Origin Origin
	// Record builds what is recorded once the refs and the queue have answered: the
	// update's audit event, the update as answered, and per vendor the fields delivered.
	// It may be called twice (a transaction run again): it must not change what it reads.
	Record func(UpdateWritten) (AuditEvent, UpdateRecord, map[Vendor]PendingFields)
}

// QueueItem is one vendor's delivery to queue, first tried at At.
type QueueItem struct {
	Vendor Vendor
	At     time.Time
}

// UpdateWritten is what the store answered of an update's writes.
type UpdateWritten struct {
	// ChangedRefs are the ref paths that changed (vendor_refs.<vendor>.<key>), sorted.
	ChangedRefs []string
	// Queued is, per vendor queued, until when its delivery is tried; a vendor of the
	// writes' Queue absent from it already has something newer of every field.
	Queued map[Vendor]time.Time
}
