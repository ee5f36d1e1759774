package queue

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/store"
	"github.com/customergateway/gateway/internal/webhook"
)

// Notifier delivers one signed webhook (internal/webhook implements it): id is the same on
// every attempt, at is the attempt's time.
type Notifier interface {
	Send(ctx context.Context, id string, at time.Time, payload []byte) error
}

// Payload builds the body of an update.completed webhook around the update's record.
type Payload func(at time.Time, data json.RawMessage) ([]byte, error)

// webhookArgs is a River job: POST one update.completed webhook. The body is built when
// the update completes and kept in the job, so every attempt sends the same bytes under the
// same webhook-id, and a receiver can tell a retry from a new event.
type webhookArgs struct {
	WebhookID string          `json:"webhook_id"`
	UpdateID  string          `json:"update_id"`
	Payload   json.RawMessage `json:"payload"`
}

func (webhookArgs) Kind() string { return "webhook" }

// webhookAttempts is how often a webhook is tried: River's backoff (attempt^4 seconds) makes
// 20 attempts about four days.
const webhookAttempts = 20

// notifyCompleted is the store's completion hook: it inserts the update's webhook job in the
// transaction that records the update's end.
func (q *Queue) notifyCompleted(ctx context.Context, tx *sql.Tx, u model.UpdateRecord) error {
	data, err := json.Marshal(u)
	if err != nil {
		return err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return err
	}
	payload, err := q.cfg.Payload(q.now(), data)
	if err != nil {
		return err
	}
	_, err = q.client.InsertTx(ctx, tx, webhookArgs{WebhookID: "msg_" + id.String(), UpdateID: u.UpdateID, Payload: payload},
		&river.InsertOpts{MaxAttempts: webhookAttempts})
	return err
}

// webhookWorker sends webhook jobs; a failed attempt is an error, retried by River with its
// backoff.
type webhookWorker struct {
	river.WorkerDefaults[webhookArgs]
	q *Queue
}

// WebhookResult is how one webhook attempt ended, as ObserveWebhook is told.
type WebhookResult string

// The ends of a webhook attempt.
const (
	WebhookDelivered WebhookResult = "delivered" // the receiver took it
	WebhookFailed    WebhookResult = "failed"    // River tries it again
	WebhookGivenUp   WebhookResult = "given_up"  // its last attempt failed: River discards it
	WebhookGone      WebhookResult = "gone"      // the receiver wants no more (410)
	WebhookCancelled WebhookResult = "cancelled" // webhooks were turned off since it was queued
)

// WebhookResults lists every WebhookResult.
var WebhookResults = []WebhookResult{WebhookDelivered, WebhookFailed, WebhookGivenUp, WebhookGone, WebhookCancelled}

func (w *webhookWorker) Work(ctx context.Context, job *river.Job[webhookArgs]) error {
	log := w.q.log.With().Str("webhook_id", job.Args.WebhookID).Str("update_id", job.Args.UpdateID).Int("attempt", job.Attempt).Logger()
	if w.q.cfg.Webhook == nil {
		log.Warn().Msg("webhook not sent: GATEWAY_WEBHOOK_URL is no longer set")
		w.observe(WebhookCancelled)
		return river.JobCancel(errors.New("webhooks are off"))
	}
	err := w.q.cfg.Webhook.Send(ctx, job.Args.WebhookID, time.Now(), job.Args.Payload)
	switch {
	case errors.Is(err, webhook.ErrGone):
		log.Warn().Err(err).Msg("webhook given up: the receiver wants no more")
		w.observe(WebhookGone)
		return river.JobCancel(err)
	case err != nil && job.Attempt >= job.MaxAttempts:
		log.Error().Err(err).Msg("webhook failed its last attempt; River discards it")
		w.observe(WebhookGivenUp)
		return err
	case err != nil:
		log.Warn().Err(err).Msg("webhook failed; River retries it")
		w.observe(WebhookFailed)
		return err
	}
	log.Info().Msg("webhook delivered")
	w.observe(WebhookDelivered)
	return nil
}

func (w *webhookWorker) observe(r WebhookResult) {
	if w.q.cfg.ObserveWebhook != nil {
		w.q.cfg.ObserveWebhook(r)
	}
}

// List answers the deliveries f selects, newest first, and the next page's cursor.
func (q *Queue) List(ctx context.Context, f model.DeliveryFilter) ([]model.Delivery, string, error) {
	return q.store.ListDeliveries(ctx, f)
}

// Retry sends the ended delivery id again, now, with a new time limit: an operator's
// action, recorded as caller's.
func (q *Queue) Retry(ctx context.Context, id, caller string) (model.Delivery, error) {
	now := q.now()
	return q.store.RetryDelivery(ctx, id, now, q.cfg.MaxAge, actionEvent("retried", caller, now), func(tx *sql.Tx, p store.Pending) error {
		return q.insertJobs(ctx, tx, []store.Job{{CustomerID: p.CustomerID, Vendor: p.Vendor, At: now}})
	})
}

// Cancel gives up the waiting delivery id: an operator's action, recorded as caller's.
func (q *Queue) Cancel(ctx context.Context, id, caller string) (model.Delivery, error) {
	now := q.now()
	return q.store.CancelDelivery(ctx, id, "cancelled by "+caller, now, actionEvent("cancelled", caller, now))
}

// actionEvent is the audit event of an operator's action on a delivery.
func actionEvent(action, caller string, at time.Time) store.ActionEvent {
	return func(d model.Delivery) model.AuditEvent {
		return model.AuditEvent{
			Source:     model.SourceGateway,
			OccurredAt: at.UTC(),
			Type:       model.TypeManual,
			Kind:       model.KindDeliveryAction,
			Actor:      caller,
			CustomerID: d.CustomerID,
			TargetID:   d.DeliveryID,
			Summary:    fmt.Sprintf("delivery to %s %s by %s", d.Vendor, action, caller),
			Result:     action,
			Details: map[string]any{
				"caller":      caller,
				"delivery_id": d.DeliveryID,
				"vendor":      string(d.Vendor),
				"update_ids":  d.UpdateIDs,
			},
		}
	}
}

// purge drops the fields of deliveries ended longer than the retention ago, now and then
// every interval until ctx ends. Every process purges; the statement is the same on each.
func (q *Queue) purge(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := q.store.PurgeDeliveryFields(ctx, q.now().Add(-q.cfg.DeliveryRetention))
		switch {
		case err != nil && ctx.Err() == nil:
			q.log.Error().Err(err).Msg("purge delivery fields")
		case n > 0:
			q.log.Info().Int64("deliveries", n).Msg("purged the fields of deliveries past GATEWAY_DELIVERY_RETENTION")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// purgeInterval is how often the purge runs: often enough that fields are dropped within
// a small part of the retention past it.
func purgeInterval(retention time.Duration) time.Duration {
	return min(max(retention/24, time.Second), time.Hour)
}
