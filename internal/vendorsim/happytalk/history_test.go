package happytalk

import (
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"
)

// historyData decodes the events of a successful service_history answer.
func historyData(t *testing.T, r reply) []HistoryEvent {
	t.Helper()
	if r.Str("result") != "success" {
		t.Fatalf("got %s, want success", r.Raw)
	}
	var ans struct {
		Data []HistoryEvent `json:"data"`
	}
	if err := json.Unmarshal(r.Raw, &ans); err != nil {
		t.Fatal(err)
	}
	return ans.Data
}

func TestHistoryEventsAreDeterministicOverManyDays(t *testing.T) {
	seenIDs := map[string]string{}
	types, kinds := map[string]int{}, map[string]int{}
	day := time.Date(1965, 1, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
	for ; day.Before(end); day = day.AddDate(0, 0, 3) {
		events := HistoryEvents(day)
		date := day.Format(time.DateOnly)
		if n := len(events); n < 3 || n > 6 {
			t.Fatalf("%s: %d events, want 3 to 6", date, n)
		}
		if first, last := events[0].RequestDate, events[len(events)-1].RequestDate; first != date+" 00:00:00" || last != date+" 23:59:59" {
			t.Fatalf("%s: events from %s to %s, want the first and the last second of the day", date, first, last)
		}
		days := day.Unix() / 86400
		for i, e := range events {
			if want := strconv.FormatInt(days*100+int64(i), 10); e.ID != want {
				t.Fatalf("%s event %d: id %s, want %s", date, i, e.ID, want)
			}
			if other, dup := seenIDs[e.ID]; dup {
				t.Fatalf("id %s on %s and %s", e.ID, other, date)
			}
			seenIDs[e.ID] = date
			if i > 0 && e.RequestDate <= events[i-1].RequestDate {
				t.Fatalf("%s: events not in strictly increasing time order", date)
			}
			if e.RequestDate[:10] != date || e.ApplyDate != e.RequestDate || e.RequestUser == "" || e.RequestContent == "" || e.ApplyID == "" || e.ApplyContent == "" {
				t.Fatalf("%s: incomplete event %+v", date, e)
			}
			types[e.Type]++
			kinds[e.Kind]++
		}
		if !reflect.DeepEqual(events, HistoryEvents(day.Add(13*time.Hour))) {
			t.Fatalf("%s: a second call differs", date)
		}
	}
	if len(types) != 2 || types["M"] == 0 || types["A"] == 0 {
		t.Errorf("types %v, want M and A", types)
	}
	if len(kinds) != 3 || kinds["A"] == 0 || kinds["K"] == 0 || kinds["S"] == 0 {
		t.Errorf("kinds %v, want A, K and S", kinds)
	}
}

func TestHistoryEventsReadTheDateInItsOwnLocation(t *testing.T) {
	seoul, _ := time.LoadLocation("Asia/Seoul")
	// 2021-09-23 08:00 in Seoul is still 2021-09-22 in UTC.
	at := time.Date(2021, 9, 23, 8, 0, 0, 0, seoul)
	got := HistoryEvents(at)
	if got[0].RequestDate != "2021-09-23 00:00:00" {
		t.Errorf("first event %s, want 2021-09-23 00:00:00", got[0].RequestDate)
	}
	if !reflect.DeepEqual(got, HistoryEvents(time.Date(2021, 9, 23, 0, 0, 0, 0, time.UTC))) {
		t.Error("the same calendar date in another zone gives other events")
	}
}

func TestServiceHistoryWindows(t *testing.T) {
	day := time.Date(2021, 9, 23, 0, 0, 0, 0, time.UTC)
	all := HistoryEvents(day)
	newestFirst := slices.Clone(all)
	slices.Reverse(newestFirst)
	first, last := all[0], all[len(all)-1]
	tests := []struct {
		name, start, end string
		want             []HistoryEvent
	}{
		{"whole day, newest first", "2021-09-23 00:00:00", "2021-09-23 23:59:59", newestFirst},
		{"first second only", "2021-09-23 00:00:00", "2021-09-23 00:00:00", []HistoryEvent{first}},
		{"last second only", "2021-09-23 23:59:59", "2021-09-23 23:59:59", []HistoryEvent{last}},
		{"without the first and the last second", "2021-09-23 00:00:01", "2021-09-23 23:59:58", newestFirst[1 : len(all)-1]},
		{"from an event's own second", all[1].RequestDate, "2021-09-23 23:59:59", newestFirst[:len(all)-1]},
		{"up to an event's own second", "2021-09-23 00:00:00", all[1].RequestDate, []HistoryEvent{all[1], first}},
		{"the day before ends at its own last second", "2021-09-22 23:59:59", "2021-09-22 23:59:59", []HistoryEvent{lastOf(HistoryEvents(day.AddDate(0, 0, -1)))}},
	}
	_, srv := start(t, testConfig())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := historyData(t, post(t, srv, PathServiceHistory, nil, historyBody(tt.start, tt.end)))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func lastOf(es []HistoryEvent) HistoryEvent { return es[len(es)-1] }

func TestServiceHistoryDocumentSampleGolden(t *testing.T) {
	_, srv := start(t, testConfig())
	r := post(t, srv, PathServiceHistory, nil, htDoc(t, "happytalk_service_history.json"))
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(r.Raw, &raw); err != nil {
		t.Fatal(err)
	}
	// Every value of every event is a JSON string, as the document's dictionary says.
	var events []map[string]any
	if err := json.Unmarshal(raw["data"], &events); err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if len(e) != 9 {
			t.Errorf("event has %d fields, want 9: %v", len(e), e)
		}
		for k, v := range e {
			if _, ok := v.(string); !ok {
				t.Errorf("event field %s is %T, want string", k, v)
			}
		}
	}
	golden(t, "happytalk_service_history.golden.json", r.Raw)
}

func TestAddHistoryEvent(t *testing.T) {
	sim, srv := start(t, testConfig())
	custom := HistoryEvent{ID: "9", Type: "A", Kind: "Z", RequestUser: "bot", RequestContent: "새 종류",
		RequestDate: "2022-05-26 17:14:28", ApplyID: "1", ApplyContent: "성공", ApplyDate: "2022-05-26 17:14:29"}
	sim.AddHistoryEvent(custom)
	sim.AddHistoryEvent(HistoryEvent{ID: "bad", RequestDate: "2022-05-26T17:14:28"})

	got := historyData(t, post(t, srv, PathServiceHistory, nil, historyBody("2022-05-26 17:14:28", "2022-05-26 17:14:28")))
	if !reflect.DeepEqual(got, []HistoryEvent{custom}) {
		t.Errorf("the window of the added event: got %+v", got)
	}
	whole := historyData(t, post(t, srv, PathServiceHistory, nil, historyBody("2022-05-26 00:00:00", "2022-05-26 23:59:59")))
	if len(whole) != len(HistoryEvents(time.Date(2022, 5, 26, 0, 0, 0, 0, time.UTC)))+1 || !slices.Contains(whole, custom) {
		t.Errorf("the whole day: %d events, want the generated ones and the added one", len(whole))
	}
	for _, w := range [][2]string{{"2022-05-26 17:14:29", "2022-05-26 23:59:59"}, {"2022-05-27 00:00:00", "2022-05-27 23:59:59"}} {
		if got := historyData(t, post(t, srv, PathServiceHistory, nil, historyBody(w[0], w[1]))); slices.Contains(got, custom) {
			t.Errorf("the added event appears in %v", w)
		}
	}
	sim.core.Reset()
	if got := historyData(t, post(t, srv, PathServiceHistory, nil, historyBody("2022-05-26 17:14:28", "2022-05-26 17:14:28"))); len(got) != 0 {
		t.Errorf("after Reset: %+v", got)
	}
}
