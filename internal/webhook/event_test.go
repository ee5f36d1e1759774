package webhook

import (
	"encoding/json"
	"testing"
	"time"
)

// The payload has the Standard Webhooks shape, the event's time in UTC and data as given.
func TestCompletedPayload(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 1, 2, 12, 4, 5, 123000000, time.FixedZone("KST", 9*3600))
	got, err := CompletedPayload(at, json.RawMessage(`{"update_id":"u1","outcome":"ok"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"update.completed","timestamp":"2025-01-02T03:04:05.123Z","data":{"update_id":"u1","outcome":"ok"}}`
	if string(got) != want {
		t.Fatalf("payload\n%s\nwant\n%s", got, want)
	}
	var e Event
	if err := json.Unmarshal(got, &e); err != nil || e.Type != TypeUpdateCompleted || !e.Timestamp.Equal(at) {
		t.Fatalf("read back: %+v %v", e, err)
	}
}

func TestCompletedPayloadRefusesBadData(t *testing.T) {
	t.Parallel()
	for _, data := range []string{"", `{"update_id":`} {
		if p, err := CompletedPayload(time.Now(), json.RawMessage(data)); err == nil {
			t.Errorf("data %q: payload %s", data, p)
		}
	}
}
