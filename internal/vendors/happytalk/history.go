package happytalk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendors/vendorhttp"
)

// dateTimeLayout is HappyTalk's "Y-m-d H:i:s", 24-hour clock, in the account's zone.
const dateTimeLayout = "2006-01-02 15:04:05"

// serviceHistoryBody is the service_history request.
type serviceHistoryBody struct {
	Token     string `json:"token"`
	StartDate string `json:"start_date"`
	EndDate   string `json:"end_date"`
}

// historyItem is one service_history event as HappyTalk sends it: every value a string.
type historyItem struct {
	ID             string `json:"id"`
	Type           string `json:"type"`
	Kind           string `json:"kind"`
	RequestUser    string `json:"request_user"`
	RequestContent string `json:"request_content"`
	RequestDate    string `json:"request_date"`
	ApplyID        string `json:"apply_id"`
	ApplyContent   string `json:"apply_content"`
	ApplyDate      string `json:"apply_date"`
}

var (
	eventTypes = map[string]model.AuditType{"M": model.TypeManual, "A": model.TypeAutomatic}
	eventKinds = map[string]model.AuditKind{"A": model.KindArchive, "K": model.KindKeyIssued, "S": model.KindManagerAction}
)

// Events reads HappyTalk's service history over w, which must lie within one calendar day
// in the account's zone (HappyTalk answers at most one day per call; the caller splits
// longer ranges). It returns the events with w.From <= occurred_at < w.To.
func (a *Adapter) Events(ctx context.Context, w model.Window) ([]model.AuditEvent, error) {
	if !a.Enabled() {
		return nil, errors.New("HappyTalk service_history: HappyTalk is not configured")
	}
	start, end, err := a.windowDates(w)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(serviceHistoryBody{Token: a.token, StartDate: start, EndDate: end})
	if err != nil {
		return nil, fmt.Errorf("encode HappyTalk service_history: %w", err)
	}
	req := &model.Request{Method: http.MethodPost, URL: a.serviceHistoryURL, Header: a.header, Body: body}
	what := fmt.Sprintf("HappyTalk service_history %s to %s", start, end)
	status, answerBody, err := vendorhttp.Do(ctx, a.client, req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	ans, err := a.readAnswer(status, answerBody)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	events, err := a.normalise(ans.Data, w)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return events, nil
}

// windowDates is w as HappyTalk's start_date and end_date: its first second and the last
// second before w.To, both in the account's zone and on the same calendar day.
func (a *Adapter) windowDates(w model.Window) (start, end string, err error) {
	if !w.From.Before(w.To) {
		return "", "", fmt.Errorf("HappyTalk service_history: empty window %s to %s", w.From.Format(time.RFC3339), w.To.Format(time.RFC3339))
	}
	from := w.From.In(a.loc).Truncate(time.Second)
	last := w.To.Add(-time.Nanosecond).In(a.loc).Truncate(time.Second)
	fy, fm, fd := from.Date()
	ly, lm, ld := last.Date()
	if fy != ly || fm != lm || fd != ld {
		return "", "", fmt.Errorf("HappyTalk service_history: window %s to %s spans more than one calendar day in %s; HappyTalk answers one day per call",
			from.Format(dateTimeLayout), last.Format(dateTimeLayout), a.loc)
	}
	return from.Format(dateTimeLayout), last.Format(dateTimeLayout), nil
}

// normalise turns HappyTalk's data into audit events within w. Unknown type and kind codes
// are passed on as they are: a new HappyTalk code must not make the trail lose events.
func (a *Adapter) normalise(data json.RawMessage, w model.Window) ([]model.AuditEvent, error) {
	var items []historyItem
	if len(data) > 0 {
		if err := json.Unmarshal(data, &items); err != nil {
			return nil, &model.VendorError{Vendor: displayName, Code: http.StatusOK, Message: "data is not a list of events", Retryable: true}
		}
	}
	events := make([]model.AuditEvent, 0, len(items))
	for _, it := range items {
		ev, err := a.event(it)
		if err != nil {
			return nil, err
		}
		if ev.OccurredAt.Before(w.From) || !ev.OccurredAt.Before(w.To) {
			continue
		}
		events = append(events, ev)
	}
	return events, nil
}

func (a *Adapter) event(it historyItem) (model.AuditEvent, error) {
	occurred, err := time.ParseInLocation(dateTimeLayout, it.RequestDate, a.loc)
	if err != nil {
		return model.AuditEvent{}, fmt.Errorf("event %q: request_date %q is not YYYY-MM-DD HH:MM:SS", it.ID, it.RequestDate)
	}
	ev := model.AuditEvent{
		ID:         "happytalk:" + it.ID,
		Source:     Source,
		OccurredAt: occurred,
		Type:       model.AuditType(it.Type),
		Kind:       model.AuditKind(it.Kind),
		Actor:      it.RequestUser,
		Summary:    it.RequestContent,
		TargetID:   it.ApplyID,
		Result:     it.ApplyContent,
	}
	if t, ok := eventTypes[it.Type]; ok {
		ev.Type = t
	}
	if k, ok := eventKinds[it.Kind]; ok {
		ev.Kind = k
	}
	if applied, err := time.ParseInLocation(dateTimeLayout, it.ApplyDate, a.loc); err == nil {
		ev.AppliedAt = &applied
	}
	return ev, nil
}
