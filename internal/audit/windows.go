package audit

import (
	"time"

	"github.com/customergateway/gateway/internal/model"
)

// SplitDays cuts [from, to) into the calendar days of loc, clipped to the range: each window is
// [max(from, day start), min(to, next day start)), in ascending order, with its bounds expressed
// in loc. from and to may carry any offset; only the instants matter. An empty or inverted range
// has no windows, and a range ending exactly at midnight has no empty trailing window.
func SplitDays(from, to time.Time, loc *time.Location) []model.Window {
	if loc == nil {
		loc = time.UTC
	}
	var windows []model.Window
	for cur := from; cur.Before(to); {
		end := nextDayStart(cur, loc)
		if end.After(to) {
			end = to
		}
		windows = append(windows, model.Window{From: cur.In(loc), To: end.In(loc)})
		cur = end
	}
	return windows
}

// nextDayStart is the first instant of the calendar day after t's day in loc. Day starts come
// from time.Date rather than adding 24h, so 23- and 25-hour DST days are cut at their midnights.
func nextDayStart(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	next := dayStart(y, m, d+1, loc)
	// Defensive: whatever a zone's rules, the walk must advance.
	for i := 2; !next.After(t); i++ {
		next = dayStart(y, m, d+i, loc)
	}
	return next
}

// dayStart is the first instant of the day y-m-d in loc. Where the clocks jump over midnight
// (America/Santiago, America/Havana), time.Date may answer with an instant of the day before;
// the day then starts at the zone transition, which ends that instant's zone period.
func dayStart(y int, m time.Month, d int, loc *time.Location) time.Time {
	start := time.Date(y, m, d, 0, 0, 0, 0, loc)
	wy, wm, wd := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Date() // d normalised
	if sy, sm, sd := start.Date(); sy != wy || sm != wm || sd != wd {
		if _, end := start.ZoneBounds(); !end.IsZero() {
			return end.In(loc)
		}
	}
	return start
}
