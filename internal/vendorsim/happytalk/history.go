package happytalk

import (
	"cmp"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/customergateway/gateway/internal/vendorsim"
	"github.com/customergateway/gateway/internal/vendorsim/internal/rawjson"
)

// dateTimeLayout is the layout of service_history's dates (Y-m-d H:i:s, 24-hour clock).
const dateTimeLayout = "2006-01-02 15:04:05"

var dateTimeExpr = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$`)

// serviceHistory serves service_history for one day at most.
func (s *Sim) serviceHistory(_ *http.Request, body []byte) vendorsim.Answer {
	m, fail := s.checkToken(body)
	if fail != nil {
		return *fail
	}
	start, fail := s.readDateTime(m, "start_date")
	if fail != nil {
		return *fail
	}
	end, fail := s.readDateTime(m, "end_date")
	if fail != nil {
		return *fail
	}
	if start > end {
		return failure(CodeInvalidPeriod, "start_date is after end_date")
	}
	if start[:10] != end[:10] {
		return failure(CodeInvalidPeriod, "the period is one day at most: start_date and end_date must be on the same day")
	}
	day, _ := time.ParseInLocation(time.DateOnly, start[:10], s.cfg.Timezone)
	return vendorsim.Answer{Status: http.StatusOK, Body: map[string]any{"result": "success", "data": s.eventsBetween(day, start, end)}}
}

// readDateTime reads a Y-m-d H:i:s date that exists in the account's zone. Dates of this
// exact form order as strings, so callers compare them as strings.
func (s *Sim) readDateTime(m map[string]json.RawMessage, k string) (string, *vendorsim.Answer) {
	raw, ok := m[k]
	if !ok {
		a := failure(CodeMissingField, k+" is required")
		return "", &a
	}
	v, ok := rawjson.String(raw)
	if !ok || !dateTimeExpr.MatchString(v) {
		a := failure(CodeInvalidValue, k+" must be a string YYYY-MM-DD HH:MM:SS (24-hour clock)")
		return "", &a
	}
	t, err := time.ParseInLocation(dateTimeLayout, v, s.cfg.Timezone)
	// A time skipped by a daylight-saving change parses, but formats back differently.
	if err != nil || t.Format(dateTimeLayout) != v {
		a := failure(CodeInvalidValue, k+" is not an existing time in "+s.cfg.Timezone.String())
		return "", &a
	}
	return v, nil
}

// HistoryEvent is one HappyTalk service-history event, in the vendor's own shape: every
// value a string, dates Y-m-d H:i:s in the account's zone.
type HistoryEvent struct {
	ID             string `json:"id"`
	Type           string `json:"type"` // M manual, A automatic
	Kind           string `json:"kind"` // A archive, K key issued, S manager action
	RequestUser    string `json:"request_user"`
	RequestContent string `json:"request_content"`
	RequestDate    string `json:"request_date"`
	ApplyID        string `json:"apply_id"`
	ApplyContent   string `json:"apply_content"`
	ApplyDate      string `json:"apply_date"`
}

// lastSecond is 23:59:59 in seconds since midnight.
const lastSecond = 24*60*60 - 1

// HistoryEvents returns the generated events of day's calendar date (read in day's own
// location), sorted by request_date ascending. They are the same for the same date on every
// run: 3 to 6 a day, always one at 00:00:00 and one at 23:59:59, mixed types and kinds,
// ids days-since-1970-01-01 * 100 + index. Events added with AddHistoryEvent are not
// included. service_history answers them newest first, as the vendor's sample does.
func HistoryEvents(day time.Time) []HistoryEvent {
	y, m, d := day.Date()
	days := daysSinceEpoch(y, m, d)
	secs := eventSeconds(days)
	out := make([]HistoryEvent, len(secs))
	for i, sec := range secs {
		out[i] = generatedEvent(y, m, d, days, i, sec)
	}
	return out
}

// daysSinceEpoch counts calendar days from 1970-01-01 (negative before it).
func daysSinceEpoch(y int, m time.Month, d int) int64 {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// eventSeconds returns the sorted seconds-since-midnight of a day's events: the first and
// the last second of the day, and 1 to 4 distinct seconds in between picked from the date.
func eventSeconds(days int64) []int {
	n := 3 + int(((days%4)+4)%4)
	seen := map[int]bool{0: true, lastSecond: true}
	for salt := 0; len(seen) < n; salt++ {
		seen[1+int(hash(days, salt)%(lastSecond-1))] = true
	}
	return slices.Sorted(maps.Keys(seen))
}

func hash(days int64, salt int) uint64 {
	h := fnv.New64a()
	_, _ = fmt.Fprintf(h, "%d/%d", days, salt)
	return h.Sum64()
}

// The generated events cycle through these, so every type and kind occurs within a day or
// two.
var (
	eventTypes = []string{"A", "M"}
	eventKinds = []string{"S", "A", "K"}
	eventUsers = []string{"test-lc", "manager-kim", "system"}
)

func generatedEvent(y int, m time.Month, d int, days int64, i, sec int) HistoryEvent {
	at := time.Date(y, m, d, 0, 0, sec, 0, time.UTC).Format(dateTimeLayout)
	pick := int(((days+int64(i))%6 + 6) % 6)
	typ, kind := eventTypes[pick%2], eventKinds[pick%3]
	user := eventUsers[pick%3]
	applyID := strconv.Itoa(37000 + pick*31)
	return HistoryEvent{
		ID:             strconv.FormatInt(days*100+int64(i), 10),
		Type:           typ,
		Kind:           kind,
		RequestUser:    user,
		RequestContent: eventContent(kind, user, applyID),
		RequestDate:    at,
		ApplyID:        applyID,
		ApplyContent:   eventResult(kind),
		ApplyDate:      at,
	}
}

func eventContent(kind, user, applyID string) string {
	switch kind {
	case "A":
		return "상담 아카이브 [" + applyID + "번방] 보관 처리"
	case "K":
		return "API 키 발급 - " + user
	}
	return "[WEB] " + user + "(" + applyID + ")상담원 로그인. IP - (IP정보)"
}

func eventResult(kind string) string {
	switch kind {
	case "K":
		return "발급"
	case "S":
		return "로그인"
	}
	return "성공"
}

// AddHistoryEvent adds a custom event (an unknown kind, an odd value) that service_history
// answers when its request_date, read as Y-m-d H:i:s, falls in the asked period. It is kept
// until Reset.
func (s *Sim) AddHistoryEvent(e HistoryEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, e)
}

// eventsBetween returns the day's generated and added events whose request_date is in
// [start, end], newest first (ties by id, descending), as HappyTalk's sample orders them.
func (s *Sim) eventsBetween(day time.Time, start, end string) []HistoryEvent {
	all := HistoryEvents(day)
	s.mu.Lock()
	all = append(all, s.events...)
	s.mu.Unlock()
	out := make([]HistoryEvent, 0, len(all))
	for _, e := range all {
		if e.RequestDate >= start && e.RequestDate <= end && dateTimeExpr.MatchString(e.RequestDate) {
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(a, b HistoryEvent) int {
		return cmp.Or(cmp.Compare(b.RequestDate, a.RequestDate), compareIDs(b.ID, a.ID))
	})
	return out
}

// compareIDs orders ids as numbers when both are, else as strings.
func compareIDs(a, b string) int {
	x, errA := strconv.ParseInt(a, 10, 64)
	y, errB := strconv.ParseInt(b, 10, 64)
	if errA == nil && errB == nil {
		return cmp.Compare(x, y)
	}
	return cmp.Compare(a, b)
}
