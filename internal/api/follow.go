package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/customergateway/gateway/internal/model"
)

// Follower answers what the gateway kept of updates and customers (internal/store).
type Follower interface {
	Update(ctx context.Context, id string) (model.UpdateRecord, error)
	Customer(ctx context.Context, customerID string) (model.CustomerView, error)
}

// Deliveries lists queued deliveries and acts on them (internal/queue).
type Deliveries interface {
	List(ctx context.Context, f model.DeliveryFilter) ([]model.Delivery, string, error)
	Retry(ctx context.Context, id, caller string) (model.Delivery, error)
	Cancel(ctx context.Context, id, caller string) (model.Delivery, error)
}

// The answers of a gateway that keeps nothing (GATEWAY_DATABASE_URL=none).
var (
	errNothingKept  = &model.Error{Code: model.ENotFound, Detail: "the gateway keeps no updates: it runs without a store (GATEWAY_DATABASE_URL=none)"}
	errNoDeliveries = &model.Error{Code: model.ENotFound, Detail: "the gateway queues no deliveries: it runs without a store (GATEWAY_DATABASE_URL=none)"}
)

// updateLocation is where an update is followed.
func updateLocation(id string) string { return "/updates/" + id }

// handleGetUpdate serves GET /updates/{update_id}.
func handleGetUpdate(f Follower) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f == nil {
			writeError(w, r, errNothingKept)
			return
		}
		u, err := f.Update(r.Context(), chi.URLParam(r, "update_id"))
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, r, http.StatusOK, u)
	})
}

// handleGetCustomer serves GET /customers/{customer_id}.
func handleGetCustomer(f Follower) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f == nil {
			writeError(w, r, errNothingKept)
			return
		}
		c, err := f.Customer(r.Context(), chi.URLParam(r, "customer_id"))
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, r, http.StatusOK, c)
	})
}

// deliveryPage is GET /deliveries' answer.
type deliveryPage struct {
	Deliveries []model.Delivery `json:"deliveries"`
	NextCursor *string          `json:"next_cursor"`
}

// defaultDeliveryLimit is a page's size when the caller names none.
const defaultDeliveryLimit = 50

// handleListDeliveries serves GET /deliveries. The contract has checked the filters'
// values and the limit's range.
func handleListDeliveries(d Deliveries) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f := model.DeliveryFilter{
			Status: model.Status(q.Get("status")), Vendor: model.Vendor(q.Get("vendor")),
			CustomerID: q.Get("customer_id"), After: q.Get("cursor"), Limit: defaultDeliveryLimit,
		}
		if l := q.Get("limit"); l != "" {
			f.Limit, _ = strconv.Atoi(l)
		}
		page := deliveryPage{Deliveries: []model.Delivery{}}
		if d != nil {
			ds, next, err := d.List(r.Context(), f)
			if err != nil {
				writeError(w, r, err)
				return
			}
			if ds != nil {
				page.Deliveries = ds
			}
			if next != "" {
				page.NextCursor = &next
			}
		}
		writeJSON(w, r, http.StatusOK, page)
	})
}

// handleRetryDelivery serves POST /deliveries/{delivery_id}/retry: 202, the delivery queued again.
func handleRetryDelivery(d Deliveries) http.Handler {
	return deliveryAction(d, http.StatusAccepted, Deliveries.Retry)
}

// handleCancelDelivery serves DELETE /deliveries/{delivery_id}: 200, the delivery cancelled.
func handleCancelDelivery(d Deliveries) http.Handler {
	return deliveryAction(d, http.StatusOK, Deliveries.Cancel)
}

func deliveryAction(d Deliveries, status int, act func(Deliveries, context.Context, string, string) (model.Delivery, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d == nil {
			writeError(w, r, errNoDeliveries)
			return
		}
		got, err := act(d, r.Context(), chi.URLParam(r, "delivery_id"), callerFrom(r.Context()).Name)
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, r, status, got)
	})
}
