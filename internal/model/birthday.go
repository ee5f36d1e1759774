package model

import (
	"fmt"
	"time"
)

// Date is a calendar date with no time of day and no zone.
type Date struct {
	Year  int
	Month int
	Day   int
}

// ParseDate reads YYYY-MM-DD and refuses dates that do not exist on the solar calendar.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("not a date in the form YYYY-MM-DD: %q", s)
	}
	return Date{Year: t.Year(), Month: int(t.Month()), Day: t.Day()}, nil
}

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// Birthday is a validated birthday with the calendar it is written in.
type Birthday struct {
	Date     Date
	Calendar Calendar
	// LeapMonth is true for a lunar date in an intercalary month.
	LeapMonth bool
}
