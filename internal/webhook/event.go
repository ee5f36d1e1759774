package webhook

import (
	"encoding/json"
	"errors"
	"time"
)

// TypeUpdateCompleted is the event sent when every vendor of an update answered 202 or 207
// has ended.
const TypeUpdateCompleted = "update.completed"

// Event is a webhook's payload in the Standard Webhooks shape: what happened, when it
// happened (not when it is delivered), and its data.
type Event struct {
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// CompletedPayload is the update.completed payload for an update that ended at at; data is
// the GET /updates/{update_id} body. Make it once, when the update completes, and keep the
// bytes with the queued webhook: every attempt then carries the same event under the same
// id, even if the update's record changes later (a delivery an operator sends again).
func CompletedPayload(at time.Time, data json.RawMessage) ([]byte, error) {
	if len(data) == 0 {
		return nil, errors.New("update.completed payload: no data")
	}
	return json.Marshal(Event{Type: TypeUpdateCompleted, Timestamp: at.UTC(), Data: data})
}
