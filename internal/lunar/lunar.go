// Package lunar converts Korean lunar calendar dates to solar (Gregorian) dates, from the
// KASI month table embedded in the binary (lunar 1900-01 to lunar 2050-11).
package lunar

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"strconv"
	"time"
)

//go:embed korean-lunar-months.csv
var table []byte

// ErrOutOfRange is returned for a lunar month outside the table: it may exist, but its solar
// date cannot be known.
var ErrOutOfRange = errors.New("lunar date outside the Korean lunar table (1900-01 to 2050-11)")

// ErrNoSuchDate is returned for a lunar date the table shows does not exist.
var ErrNoSuchDate = errors.New("no such Korean lunar date")

type monthKey struct {
	year, month int
	leap        bool
}

type month struct {
	days     int
	firstDay time.Time
}

var (
	months             = mustLoad(table)
	firstYear, lastKey = bounds(months)
)

// ToSolar returns the Gregorian date of lunar year-month-day (leap for an intercalary
// month), as a UTC midnight.
func ToSolar(year, mon, day int, leap bool) (time.Time, error) {
	m, ok := months[monthKey{year, mon, leap}]
	if !ok {
		if outOfRange(year, mon) {
			return time.Time{}, ErrOutOfRange
		}
		if leap {
			return time.Time{}, fmt.Errorf("%w: lunar %04d has no leap month %d", ErrNoSuchDate, year, mon)
		}
		return time.Time{}, fmt.Errorf("%w: month %d", ErrNoSuchDate, mon)
	}
	if day < 1 || day > m.days {
		return time.Time{}, fmt.Errorf("%w: lunar %04d-%02d%s has %d days", ErrNoSuchDate, year, mon, leapSuffix(leap), m.days)
	}
	return m.firstDay.AddDate(0, 0, day-1), nil
}

func leapSuffix(leap bool) string {
	if leap {
		return " (leap)"
	}
	return ""
}

func outOfRange(year, mon int) bool {
	if year < firstYear {
		return true
	}
	return year > lastKey.year || (year == lastKey.year && mon > lastKey.month)
}

func bounds(ms map[monthKey]month) (int, monthKey) {
	first, last := monthKey{year: 1 << 30}, monthKey{}
	for k := range ms {
		if k.year < first.year {
			first = k
		}
		if k.year > last.year || (k.year == last.year && k.month > last.month) {
			last = k
		}
	}
	return first.year, last
}

// mustLoad reads the table once at start-up; a broken embedded table is a build defect.
func mustLoad(data []byte) map[monthKey]month {
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		panic(fmt.Sprintf("lunar: embedded table: %v", err))
	}
	ms := make(map[monthKey]month, len(rows))
	for i, r := range rows[1:] {
		if len(r) != 5 {
			panic(fmt.Sprintf("lunar: embedded table row %d: %d columns", i+2, len(r)))
		}
		y, e1 := strconv.Atoi(r[0])
		mo, e2 := strconv.Atoi(r[1])
		days, e3 := strconv.Atoi(r[3])
		first, e4 := time.Parse(time.DateOnly, r[4])
		if err := errors.Join(e1, e2, e3, e4); err != nil {
			panic(fmt.Sprintf("lunar: embedded table row %d: %v", i+2, err))
		}
		ms[monthKey{y, mo, r[2] == "1"}] = month{days: days, firstDay: first}
	}
	return ms
}
