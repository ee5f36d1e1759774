package audit

import (
	"testing"
	"time"
	_ "time/tzdata" // the tests must not depend on the host's zone database

	"github.com/customergateway/gateway/internal/model"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load zone %s: %v", name, err)
	}
	return loc
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return v
}

// windowStrings writes windows as "from/to" in the zone they carry, so a test also proves
// the bounds are expressed in the source's zone.
func windowStrings(ws []model.Window) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.From.Format(time.RFC3339) + "/" + w.To.Format(time.RFC3339)
	}
	return out
}

func TestSplitDays(t *testing.T) {
	tests := []struct {
		name     string
		zone     string
		from, to string
		want     []string
	}{
		{
			name: "UTC input cut in Seoul days", zone: "Asia/Seoul",
			from: "2024-03-10T00:00:00Z", to: "2024-03-11T18:00:00Z",
			want: []string{
				"2024-03-10T09:00:00+09:00/2024-03-11T00:00:00+09:00",
				"2024-03-11T00:00:00+09:00/2024-03-12T00:00:00+09:00",
				"2024-03-12T00:00:00+09:00/2024-03-12T03:00:00+09:00",
			},
		},
		{
			name: "+09:00 input of whole days ending at midnight", zone: "Asia/Seoul",
			from: "2024-03-10T00:00:00+09:00", to: "2024-03-12T00:00:00+09:00",
			want: []string{
				"2024-03-10T00:00:00+09:00/2024-03-11T00:00:00+09:00",
				"2024-03-11T00:00:00+09:00/2024-03-12T00:00:00+09:00",
			},
		},
		{
			name: "-05:00 input", zone: "Asia/Seoul",
			from: "2024-03-10T20:00:00-05:00", to: "2024-03-11T12:00:00-05:00",
			want: []string{
				"2024-03-11T10:00:00+09:00/2024-03-12T00:00:00+09:00",
				"2024-03-12T00:00:00+09:00/2024-03-12T02:00:00+09:00",
			},
		},
		{
			name: "UTC evening of new year's eve is new year's day in Seoul", zone: "Asia/Seoul",
			from: "2023-12-31T20:00:00Z", to: "2024-01-02T03:00:00Z",
			want: []string{
				"2024-01-01T05:00:00+09:00/2024-01-02T00:00:00+09:00",
				"2024-01-02T00:00:00+09:00/2024-01-02T12:00:00+09:00",
			},
		},
		{
			name: "year end in Seoul", zone: "Asia/Seoul",
			from: "2023-12-31T10:00:00Z", to: "2024-01-01T02:00:00Z",
			want: []string{
				"2023-12-31T19:00:00+09:00/2024-01-01T00:00:00+09:00",
				"2024-01-01T00:00:00+09:00/2024-01-01T11:00:00+09:00",
			},
		},
		{
			name: "year end in UTC", zone: "UTC",
			from: "2023-12-31T20:00:00Z", to: "2024-01-02T03:00:00+00:00",
			want: []string{
				"2023-12-31T20:00:00Z/2024-01-01T00:00:00Z",
				"2024-01-01T00:00:00Z/2024-01-02T00:00:00Z",
				"2024-01-02T00:00:00Z/2024-01-02T03:00:00Z",
			},
		},
		{
			name: "month end", zone: "Asia/Seoul",
			from: "2024-04-30T22:00:00+09:00", to: "2024-05-01T01:00:00+09:00",
			want: []string{
				"2024-04-30T22:00:00+09:00/2024-05-01T00:00:00+09:00",
				"2024-05-01T00:00:00+09:00/2024-05-01T01:00:00+09:00",
			},
		},
		{
			name: "within one day", zone: "Asia/Seoul",
			from: "2024-03-10T01:00:00+09:00", to: "2024-03-10T23:59:59+09:00",
			want: []string{"2024-03-10T01:00:00+09:00/2024-03-10T23:59:59+09:00"},
		},
		{
			name: "ends exactly at midnight: no empty trailing window", zone: "Asia/Seoul",
			from: "2024-03-10T12:00:00+09:00", to: "2024-03-10T15:00:00Z",
			want: []string{"2024-03-10T12:00:00+09:00/2024-03-11T00:00:00+09:00"},
		},
		{
			name: "leap day", zone: "Asia/Seoul",
			from: "2024-02-28T12:00:00+09:00", to: "2024-03-01T12:00:00+09:00",
			want: []string{
				"2024-02-28T12:00:00+09:00/2024-02-29T00:00:00+09:00",
				"2024-02-29T00:00:00+09:00/2024-03-01T00:00:00+09:00",
				"2024-03-01T00:00:00+09:00/2024-03-01T12:00:00+09:00",
			},
		},
		{
			name: "23-hour DST day cut at its midnights", zone: "America/New_York",
			from: "2024-03-09T12:00:00-05:00", to: "2024-03-11T12:00:00-04:00",
			want: []string{
				"2024-03-09T12:00:00-05:00/2024-03-10T00:00:00-05:00",
				"2024-03-10T00:00:00-05:00/2024-03-11T00:00:00-04:00",
				"2024-03-11T00:00:00-04:00/2024-03-11T12:00:00-04:00",
			},
		},
		{
			name: "day whose midnight is skipped starts at the transition", zone: "America/Santiago",
			from: "2022-09-10T12:00:00-04:00", to: "2022-09-11T12:00:00-03:00",
			want: []string{
				"2022-09-10T12:00:00-04:00/2022-09-11T01:00:00-03:00",
				"2022-09-11T01:00:00-03:00/2022-09-11T12:00:00-03:00",
			},
		},
		{name: "empty range", zone: "Asia/Seoul", from: "2024-03-10T00:00:00Z", to: "2024-03-10T09:00:00+09:00"},
		{name: "inverted range", zone: "Asia/Seoul", from: "2024-03-11T00:00:00Z", to: "2024-03-10T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := windowStrings(SplitDays(mustTime(t, tt.from), mustTime(t, tt.to), mustZone(t, tt.zone)))
			if len(got) != len(tt.want) {
				t.Fatalf("windows = %q, want %q", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("window %d = %s, want %s", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// TestSplitDaysCoversEveryZone checks the invariants over zones whose clocks jump at or
// around midnight: windows are contiguous, non-empty, cover the range exactly and each lies
// within one calendar day of the zone.
func TestSplitDaysCoversEveryZone(t *testing.T) {
	tests := []struct{ zone, from, to string }{
		{"America/Santiago", "2022-09-05T13:00:00Z", "2022-09-20T07:30:00Z"}, // midnight skipped on 2022-09-11
		{"America/Santiago", "2023-03-28T00:00:00Z", "2023-04-05T00:00:00Z"}, // midnight repeated
		{"Asia/Beirut", "2023-10-25T00:00:00Z", "2023-11-02T00:00:00Z"},
		{"America/Havana", "2023-03-08T00:00:00Z", "2023-03-16T00:00:00Z"},
		{"Europe/London", "2024-10-20T00:00:00Z", "2024-10-31T00:00:00Z"}, // 25-hour day
		{"Australia/Lord_Howe", "2024-04-01T00:00:00Z", "2024-04-12T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.zone+" "+tt.from, func(t *testing.T) {
			loc := mustZone(t, tt.zone)
			from, to := mustTime(t, tt.from), mustTime(t, tt.to)
			ws := SplitDays(from, to, loc)
			if len(ws) == 0 || !ws[0].From.Equal(from) || !ws[len(ws)-1].To.Equal(to) {
				t.Fatalf("windows %q do not cover [%s, %s)", windowStrings(ws), tt.from, tt.to)
			}
			for i, w := range ws {
				if !w.From.Before(w.To) {
					t.Errorf("window %d is empty: %s", i, windowStrings(ws[i:i+1]))
				}
				if i > 0 && !ws[i-1].To.Equal(w.From) {
					t.Errorf("gap or overlap before window %d: %q", i, windowStrings(ws[i-1:i+1]))
				}
				y1, m1, d1 := w.From.In(loc).Date()
				y2, m2, d2 := w.To.Add(-time.Nanosecond).In(loc).Date()
				if y1 != y2 || m1 != m2 || d1 != d2 {
					t.Errorf("window %d spans two days: %s", i, windowStrings(ws[i:i+1]))
				}
			}
		})
	}
}
