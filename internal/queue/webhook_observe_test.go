package queue

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/rs/zerolog"

	"github.com/customergateway/gateway/internal/webhook"
)

// notifier answers every Send with err.
type notifier struct{ err error }

func (n notifier) Send(context.Context, string, time.Time, []byte) error { return n.err }

// Each webhook attempt tells ObserveWebhook how it ended, once, with what River then does
// to the job: nothing (delivered), a retry, a discard after the last attempt, a cancel.
func TestWebhookAttemptsObserved(t *testing.T) {
	down := errors.New("receiver answered 503")
	tests := []struct {
		name     string
		notifier Notifier
		attempt  int
		want     WebhookResult
		wantErr  bool
		cancel   bool
	}{
		{"delivered", notifier{}, 1, WebhookDelivered, false, false},
		{"failed, retried", notifier{down}, 1, WebhookFailed, true, false},
		{"failed its last attempt", notifier{down}, webhookAttempts, WebhookGivenUp, true, false},
		{"the receiver is gone", notifier{webhook.ErrGone}, 1, WebhookGone, true, true},
		{"webhooks turned off", nil, 1, WebhookCancelled, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []WebhookResult
			q := &Queue{log: zerolog.Nop(), cfg: Config{Webhook: tt.notifier, ObserveWebhook: func(r WebhookResult) { got = append(got, r) }}}
			job := &river.Job[webhookArgs]{
				JobRow: &rivertype.JobRow{Attempt: tt.attempt, MaxAttempts: webhookAttempts},
				Args:   webhookArgs{WebhookID: "msg_1", UpdateID: "u-1", Payload: []byte(`{}`)},
			}
			err := (&webhookWorker{q: q}).Work(context.Background(), job)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Work: %v, want an error: %v", err, tt.wantErr)
			}
			var cancel *river.JobCancelError
			if errors.As(err, &cancel) != tt.cancel {
				t.Errorf("Work: %v, want the job cancelled: %v", err, tt.cancel)
			}
			if !slices.Equal(got, []WebhookResult{tt.want}) {
				t.Errorf("observed %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("no observer", func(t *testing.T) {
		q := &Queue{log: zerolog.Nop(), cfg: Config{Webhook: notifier{}}}
		job := &river.Job[webhookArgs]{JobRow: &rivertype.JobRow{Attempt: 1, MaxAttempts: webhookAttempts}}
		if err := (&webhookWorker{q: q}).Work(context.Background(), job); err != nil {
			t.Fatal(err)
		}
	})
}
