package lunar

import (
	"errors"
	"testing"
	"time"
)

func TestToSolarKnownPairs(t *testing.T) {
	// The pairs the data README gives, plus the table's first and last days.
	tests := []struct {
		y, m, d int
		leap    bool
		want    string
	}{
		{1956, 1, 21, false, "1956-03-03"},
		{2017, 5, 1, true, "2017-06-24"},
		{2017, 6, 1, false, "2017-07-23"},
		{1900, 1, 1, false, "1900-01-31"},
		{1900, 8, 29, true, "1900-10-22"},
	}
	for _, tc := range tests {
		got, err := ToSolar(tc.y, tc.m, tc.d, tc.leap)
		if err != nil {
			t.Fatalf("ToSolar(%d-%d-%d leap=%v): %v", tc.y, tc.m, tc.d, tc.leap, err)
		}
		if s := got.Format(time.DateOnly); s != tc.want {
			t.Errorf("ToSolar(%d-%d-%d leap=%v) = %s, want %s", tc.y, tc.m, tc.d, tc.leap, s, tc.want)
		}
	}
}

func TestToSolarRefusesWhatIsNotADate(t *testing.T) {
	tests := []struct {
		name    string
		y, m, d int
		leap    bool
		want    error
	}{
		{"day past a 29-day month", 1900, 1, 30, false, ErrNoSuchDate},
		{"leap flag on a month with no leap", 2017, 6, 1, true, ErrNoSuchDate},
		{"month 13", 2017, 13, 1, false, ErrNoSuchDate},
		{"day zero", 2017, 6, 0, false, ErrNoSuchDate},
		{"before the table", 1899, 12, 1, false, ErrOutOfRange},
		{"after the table", 2050, 12, 1, false, ErrOutOfRange},
		{"year after the table", 2051, 1, 1, false, ErrOutOfRange},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ToSolar(tc.y, tc.m, tc.d, tc.leap)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// The table is continuous: every month starts the day after the previous one ends. A
// broken copy of the table would break this.
func TestTableIsContinuous(t *testing.T) {
	var prevEnd time.Time
	count := 0
	for y := 1900; y <= 2050; y++ {
		for m := 1; m <= 12; m++ {
			for _, leap := range []bool{false, true} {
				mo, ok := months[monthKey{y, m, leap}]
				if !ok {
					continue
				}
				count++
				if !prevEnd.IsZero() && !mo.firstDay.Equal(prevEnd.AddDate(0, 0, 1)) {
					t.Fatalf("%d-%d leap=%v starts %s, previous month ended %s", y, m, leap, mo.firstDay.Format(time.DateOnly), prevEnd.Format(time.DateOnly))
				}
				prevEnd = mo.firstDay.AddDate(0, 0, mo.days-1)
			}
		}
	}
	if count != 1867 {
		t.Fatalf("table has %d months, want 1867", count)
	}
}
